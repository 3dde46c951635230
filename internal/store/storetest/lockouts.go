package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// testDeviceLock: a device's locked_until is stored, listed, cleared and
// kept by updates of other fields, inside and outside a transaction.
func testDeviceLock(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	mkDevice(t, s, "HD00001")
	mkDevice(t, s, "HD00002")
	d, err := s.FindDevice(ctx, "HD00001")
	must(t, err)
	if d.LockedUntil != nil {
		t.Fatalf("new device locked until %v", d.LockedUntil)
	}
	until := t0.Add(15 * time.Minute)
	p := &until
	must(t, s.InTx(ctx, func(tx hotdesk.Tx) error {
		d, err := tx.UpdateDevice(ctx, "HD00001", hotdesk.DeviceUpdate{LockedUntil: &p})
		if err == nil && (d.LockedUntil == nil || !d.LockedUntil.Equal(until)) {
			t.Errorf("tx update returned %v", d.LockedUntil)
		}
		return err
	}))
	label := "Reception"
	_, err = s.UpdateDevice(ctx, "HD00001", hotdesk.DeviceUpdate{Label: &label})
	must(t, err)
	d, err = s.FindDevice(ctx, "HD00001")
	must(t, err)
	if d.LockedUntil == nil {
		t.Fatal("lock lost")
	}
	sameTime(t, "locked_until", *d.LockedUntil, until)
	ds, _, err := s.FindDevices(ctx, hotdesk.DeviceFilter{})
	must(t, err)
	if len(ds) != 2 || ds[0].LockedUntil == nil || ds[1].LockedUntil != nil {
		t.Fatalf("list: %+v", ds)
	}
	var none *time.Time
	_, err = s.UpdateDevice(ctx, "HD00001", hotdesk.DeviceUpdate{LockedUntil: &none})
	must(t, err)
	d, err = s.FindDevice(ctx, "HD00001")
	must(t, err)
	if d.LockedUntil != nil || d.Label != label {
		t.Fatalf("after clear: %v %q", d.LockedUntil, d.Label)
	}
	err = s.InTx(ctx, func(tx hotdesk.Tx) error {
		_, err := tx.UpdateDevice(ctx, "HD09999", hotdesk.DeviceUpdate{LockedUntil: &p})
		return err
	})
	wantCode(t, err, hotdesk.ENOTFOUND)
}

// testPINFailures: failure times per (scope, key) round-trip, are
// independent per scope and key, roll back with the transaction and are
// deleted by an empty put.
func testPINFailures(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	get := func(scope, key string) []time.Time {
		t.Helper()
		var out []time.Time
		must(t, s.InTx(ctx, func(tx hotdesk.Tx) error {
			var err error
			out, err = tx.PINFailures(ctx, scope, key)
			return err
		}))
		return out
	}
	put := func(scope, key string, times []time.Time) {
		t.Helper()
		must(t, s.InTx(ctx, func(tx hotdesk.Tx) error { return tx.PutPINFailures(ctx, scope, key, times) }))
	}
	if got := get("user", "201"); len(got) != 0 {
		t.Fatalf("none yet: %v", got)
	}
	want := []time.Time{t0, t0.Add(time.Second), t0.Add(time.Minute)}
	put("user", "201", want)
	put("device", "201", want[:1])
	got := get("user", "201")
	if len(got) != 3 {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		sameTime(t, "failure", got[i], want[i])
	}
	if n := len(get("device", "201")); n != 1 {
		t.Fatalf("device scope has %d", n)
	}
	put("user", "201", want[1:])
	if n := len(get("user", "201")); n != 2 {
		t.Fatalf("replaced: %d", n)
	}
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx hotdesk.Tx) error {
		must(t, tx.PutPINFailures(ctx, "user", "201", want))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if n := len(get("user", "201")); n != 2 {
		t.Fatalf("after rollback: %d", n)
	}
	put("user", "201", nil)
	if n := len(get("user", "201")); n != 0 {
		t.Fatalf("after delete: %d", n)
	}
	// Deleting a user or device forgets its failures: a new one with the
	// same extension or id starts clean.
	mkUser(t, s, "202")
	mkDevice(t, s, "HD00001")
	put("user", "202", want)
	put("device", "HD00001", want)
	must(t, s.DeleteUser(ctx, "202"))
	must(t, s.DeleteDevice(ctx, "HD00001"))
	if n := len(get("user", "202")) + len(get("device", "HD00001")); n != 0 {
		t.Fatalf("%d failures left after deleting the user and the device", n)
	}
}

// testPINFailuresConcurrent: read-modify-write of one key in concurrent
// transactions loses no update, so a lockout counted this way cannot be
// raced past.
func testPINFailuresConcurrent(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	const n = 30
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- s.InTx(ctx, func(tx hotdesk.Tx) error {
				ts, err := tx.PINFailures(ctx, "user", "201")
				if err != nil {
					return err
				}
				return tx.PutPINFailures(ctx, "user", "201", append(ts, t0.Add(time.Duration(i)*time.Second)))
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	var got []time.Time
	must(t, s.InTx(ctx, func(tx hotdesk.Tx) error {
		var err error
		got, err = tx.PINFailures(ctx, "user", "201")
		return err
	}))
	if len(got) != n {
		t.Fatalf("%d concurrent increments left %d", n, len(got))
	}
}

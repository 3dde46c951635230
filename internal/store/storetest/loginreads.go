package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// The narrow reads of a hot desk login (sqlstore: DB.LoginUser,
// Tx.LoginUser, Tx.LoginDevice; internal/desk uses them when the store has
// them).
type (
	loginUserReader interface {
		LoginUser(ctx context.Context, ext string) (*hotdesk.User, error)
	}
	loginDeviceReader interface {
		LoginDevice(ctx context.Context, id string) (*hotdesk.Device, error)
	}
	// deviceSecretReader is the registrar's narrow read (registrar.SecretStore).
	deviceSecretReader interface {
		DeviceSecret(ctx context.Context, id string) (*hotdesk.Device, error)
	}
	// deviceSecretsReader is it for many ids (registrar.SecretsStore).
	deviceSecretsReader interface {
		DeviceSecrets(ctx context.Context, ids []string) ([]*hotdesk.Device, error)
	}
)

// testDeviceSecret: DeviceSecret gives what FindDevice gives of a
// device's ID and SIP password (and the same error for an id in
// another case as FindDevice), ENOTFOUND for a device that does not exist, and a changed password at
// once.
func testDeviceSecret(t *testing.T, s hotdesk.Store) {
	ss, ok := s.(deviceSecretReader)
	if !ok {
		t.Skip("store reads a REGISTER's device with FindDevice")
	}
	ctx := context.Background()
	for _, d := range []*hotdesk.Device{
		{ID: "HD00001", Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelGeneric, SIPPassword: "s3cret-1", Label: "Desk 1",
			Location: hotdesk.Location{Building: "B1"}, AutoLogout: &hotdesk.AutoLogout{MaxDuration: "4h"}},
		{ID: "HD00002", Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelGeneric}, // no password
	} {
		must(t, s.CreateDevice(ctx, d))
	}
	for _, id := range []string{"HD00001", "HD00002", "hd00001"} {
		got, err := ss.DeviceSecret(ctx, id)
		want, werr := s.FindDevice(ctx, id)
		if hotdesk.ErrorCode(err) != hotdesk.ErrorCode(werr) {
			t.Fatalf("DeviceSecret(%s): %v, FindDevice: %v", id, err, werr)
		}
		if werr != nil {
			continue
		}
		if got.ID != want.ID || got.SIPPassword != want.SIPPassword {
			t.Errorf("DeviceSecret(%s) = %q %q, FindDevice %q %q", id, got.ID, got.SIPPassword, want.ID, want.SIPPassword)
		}
	}
	_, err := ss.DeviceSecret(ctx, "HD09999")
	wantCode(t, err, hotdesk.ENOTFOUND)
	pw := "changed-2"
	if _, err := s.UpdateDevice(ctx, "HD00002", hotdesk.DeviceUpdate{SIPPassword: &pw}); err != nil {
		t.Fatal(err)
	}
	if got, err := ss.DeviceSecret(ctx, "HD00002"); err != nil || got.SIPPassword != pw {
		t.Errorf("DeviceSecret after the change: %+v, %v", got, err)
	}

	// Many at once: those found, beyond one query's 32 ids, each once.
	sm, ok := s.(deviceSecretsReader)
	if !ok {
		return
	}
	var ids []string
	for i := 3; i <= 40; i++ {
		d := &hotdesk.Device{ID: fmt.Sprintf("HD%05d", i), Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelGeneric,
			SIPPassword: fmt.Sprintf("pw-%d", i)}
		must(t, s.CreateDevice(ctx, d))
		ids = append(ids, d.ID)
	}
	ids = append(ids, "HD00001", "HD09999", "hd00002", "HD00001")
	ds, err := sm.DeviceSecrets(ctx, ids)
	must(t, err)
	got := map[string]string{}
	for _, d := range ds {
		if _, dup := got[d.ID]; dup {
			t.Errorf("DeviceSecrets gave %s twice", d.ID)
		}
		got[d.ID] = d.SIPPassword
	}
	for _, id := range ids {
		want, err := s.FindDevice(ctx, id)
		if err != nil {
			if _, ok := got[id]; ok {
				t.Errorf("DeviceSecrets gave %s, FindDevice: %v", id, err)
			}
			continue
		}
		if p, ok := got[want.ID]; !ok || p != want.SIPPassword {
			t.Errorf("DeviceSecrets gave %s as %q (%v), want %q", id, p, ok, want.SIPPassword)
		}
	}
	if len(got) != 39 {
		t.Errorf("DeviceSecrets gave %d devices, want 39", len(got))
	}
}

// testLoginReads: LoginUser and LoginDevice, on the store and inside a
// transaction, give what FindUser and FindDevice give of the fields a
// login checks (and ENOTFOUND for what does not exist), and a transaction
// reads its own changes.
func testLoginReads(t *testing.T, s hotdesk.Store) {
	su, ok := s.(loginUserReader)
	if !ok {
		t.Skip("store reads a login's user and device with FindUser and FindDevice")
	}
	ctx := context.Background()
	until := t0.Add(15 * time.Minute).Truncate(time.Millisecond) // what the stores keep
	users := []*hotdesk.User{
		{Extension: "201", Name: "Ann", Hotdesk: true, PINHash: "hash-201", DIDs: []string{"+3110001"},
			BLF: []string{"202"}, SpeedDials: []hotdesk.SpeedDial{{Label: "Bo", Number: "203"}}},
		{Extension: "202", Hotdesk: true, PINHash: "hash-202", LockedUntil: &until},
		{Extension: "203", Hotdesk: false}, // no PIN, not hot desking
	}
	for _, u := range users {
		must(t, s.CreateUser(ctx, u))
	}
	devices := []*hotdesk.Device{
		{ID: "HD00001", Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelGeneric, Label: "Desk 1",
			Location: hotdesk.Location{Building: "B1", Floor: "2"}},
		{ID: "HD00002", Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelGeneric, LockedUntil: &until,
			AutoLogout: &hotdesk.AutoLogout{MaxDuration: "4h", DailyAt: "02:00"}},
		{ID: "P201", Mode: hotdesk.ModePersonal, Model: hotdesk.ModelGeneric, Owner: "201"},
	}
	for _, d := range devices {
		must(t, s.CreateDevice(ctx, d))
	}
	checkUser := func(t *testing.T, got *hotdesk.User, err error, ext string) {
		t.Helper()
		must(t, err)
		want, err := s.FindUser(ctx, ext)
		must(t, err)
		if got.Extension != want.Extension || got.Hotdesk != want.Hotdesk || got.PINHash != want.PINHash ||
			got.HasPIN != want.HasPIN || !equalTimes(got.LockedUntil, want.LockedUntil) {
			t.Errorf("LoginUser(%s) = %+v, FindUser %+v", ext, got, want)
		}
	}
	checkDevice := func(t *testing.T, got *hotdesk.Device, err error, id string) {
		t.Helper()
		must(t, err)
		want, err := s.FindDevice(ctx, id)
		must(t, err)
		if got.ID != want.ID || got.Mode != want.Mode || !equalTimes(got.LockedUntil, want.LockedUntil) ||
			(got.AutoLogout == nil) != (want.AutoLogout == nil) || got.AutoLogout != nil && *got.AutoLogout != *want.AutoLogout {
			t.Errorf("LoginDevice(%s) = %+v, FindDevice %+v", id, got, want)
		}
	}
	for _, u := range users {
		got, err := su.LoginUser(ctx, u.Extension)
		checkUser(t, got, err, u.Extension)
	}
	_, err := su.LoginUser(ctx, "299")
	wantCode(t, err, hotdesk.ENOTFOUND)

	must(t, s.InTx(ctx, func(tx hotdesk.Tx) error {
		tu, ok1 := tx.(loginUserReader)
		td, ok2 := tx.(loginDeviceReader)
		if !ok1 || !ok2 {
			t.Fatal("the store's transactions have no LoginUser and LoginDevice")
		}
		for _, u := range users {
			got, err := tu.LoginUser(ctx, u.Extension)
			checkUser(t, got, err, u.Extension)
		}
		for _, d := range devices {
			got, err := td.LoginDevice(ctx, d.ID)
			checkDevice(t, got, err, d.ID)
		}
		_, err := tu.LoginUser(ctx, "299")
		wantCode(t, err, hotdesk.ENOTFOUND)
		_, err = td.LoginDevice(ctx, "XX99999")
		wantCode(t, err, hotdesk.ENOTFOUND)

		// Its own changes: a lock set in the transaction.
		p := &until
		if _, err := tx.UpdateUser(ctx, "201", hotdesk.UserUpdate{LockedUntil: &p}); err != nil {
			return err
		}
		if _, err := tx.UpdateDevice(ctx, "HD00001", hotdesk.DeviceUpdate{LockedUntil: &p}); err != nil {
			return err
		}
		u, err := tu.LoginUser(ctx, "201")
		if err != nil || !equalTimes(u.LockedUntil, &until) {
			t.Errorf("LoginUser after the lock: %+v, %v", u, err)
		}
		d, err := td.LoginDevice(ctx, "HD00001")
		if err != nil || !equalTimes(d.LockedUntil, &until) {
			t.Errorf("LoginDevice after the lock: %+v, %v", d, err)
		}
		return nil
	}))
}

// sameTime reports whether a and b are both nil or the same instant.
func equalTimes(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

// loginNowReader reads a login's phone with its current login
// (sqlstore: Tx.LoginDeviceNow; internal/desk).
type loginNowReader interface {
	LoginDeviceNow(ctx context.Context, id string) (*hotdesk.Device, *hotdesk.Login, error)
}

// testLoginReadsNow: LoginDeviceNow gives what LoginDevice gives, with
// what LoginByDevice gives (nil for none), ENOTFOUND for a device that
// does not exist, and a transaction's own changes.
func testLoginReadsNow(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	var ok bool
	must(t, s.InTx(ctx, func(tx hotdesk.Tx) error { _, ok = tx.(loginNowReader); return nil }))
	if !ok {
		t.Skip("store reads a login's phone and user without their logins")
	}
	until := t0.Add(15 * time.Minute).Truncate(time.Millisecond)
	mkUser(t, s, "201")
	mkUser(t, s, "202")
	must(t, s.CreateDevice(ctx, &hotdesk.Device{ID: "HD00001", Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelGeneric,
		LockedUntil: &until, AutoLogout: &hotdesk.AutoLogout{MaxDuration: "4h"}}))
	mkDevice(t, s, "HD00002")
	ends := t0.Add(time.Hour)
	must(t, s.InTx(ctx, func(tx hotdesk.Tx) error {
		return tx.CreateLogin(ctx, &hotdesk.Login{Extension: "201", Device: "HD00001", Since: t0, Via: hotdesk.ViaPhone,
			EndsAt: &ends, Policy: "max_duration", LastActivity: t0.Add(time.Minute)})
	}))
	sameLogin := func(a, b *hotdesk.Login) bool {
		if a == nil || b == nil {
			return a == b
		}
		return a.Extension == b.Extension && a.Device == b.Device && a.Since.Equal(b.Since) && a.Via == b.Via &&
			equalTimes(a.EndsAt, b.EndsAt) && a.Policy == b.Policy && a.LastActivity.Equal(b.LastActivity)
	}
	check := func(tx hotdesk.Tx) {
		r := tx.(loginNowReader)
		for _, id := range []string{"HD00001", "HD00002", "XX99999"} {
			d, l, err := r.LoginDeviceNow(ctx, id)
			wd, werr := tx.(loginDeviceReader).LoginDevice(ctx, id)
			if hotdesk.ErrorCode(err) != hotdesk.ErrorCode(werr) {
				t.Fatalf("LoginDeviceNow(%s): %v, LoginDevice: %v", id, err, werr)
			}
			if werr != nil {
				continue
			}
			wl, lerr := tx.LoginByDevice(ctx, id)
			if lerr != nil {
				wl = nil
			}
			if d.ID != wd.ID || d.Mode != wd.Mode || !equalTimes(d.LockedUntil, wd.LockedUntil) ||
				(d.AutoLogout == nil) != (wd.AutoLogout == nil) || !sameLogin(l, wl) {
				t.Errorf("LoginDeviceNow(%s) = %+v %+v, want %+v %+v", id, d, l, wd, wl)
			}
		}
	}
	must(t, s.InTx(ctx, func(tx hotdesk.Tx) error { check(tx); return nil }))
	// A transaction's own changes: 201 moved to HD00002.
	must(t, s.InTx(ctx, func(tx hotdesk.Tx) error {
		if err := tx.DeleteLogin(ctx, "HD00001"); err != nil {
			return err
		}
		if err := tx.CreateLogin(ctx, &hotdesk.Login{Extension: "201", Device: "HD00002", Since: t0, Via: hotdesk.ViaAPI, LastActivity: t0}); err != nil {
			return err
		}
		check(tx)
		if _, l, err := tx.(loginNowReader).LoginDeviceNow(ctx, "HD00001"); err != nil || l != nil {
			t.Errorf("HD00001 after the logout: %+v %v, want no login", l, err)
		}
		return nil
	}))
}

package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// TestLoginEventsComeWithTheLogin: another node's login event arrives with
// the login's state read in the same query as the event (live and its
// deadline, or ended), so the nodes reading it need not each read the login
// again; other kinds come without.
func TestLoginEventsComeWithTheLogin(t *testing.T) {
	ctx := context.Background()
	url, _ := mustSchema(t, testDSN(t))
	storeA := mustStore(t, url, "a")
	for _, ext := range []string{"201", "202"} {
		if err := storeA.CreateUser(ctx, &hotdesk.User{Extension: ext, Name: "User " + ext, Hotdesk: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"HD1", "HD2"} {
		if err := storeA.CreateDevice(ctx, &hotdesk.Device{ID: id, Mode: hotdesk.ModeHotdesk}); err != nil {
			t.Fatal(err)
		}
	}
	busB := events.New()
	startBridge(t, mustBridge(t, "b", url, busB))
	chB, cancel := busB.Subscribe(16)
	defer cancel()

	ends := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	login := func(ext, dev string, endsAt *time.Time) {
		t.Helper()
		err := storeA.InTx(ctx, func(tx hotdesk.Tx) error {
			l := &hotdesk.Login{Extension: ext, Device: dev, Since: time.Now(), LastActivity: time.Now(), EndsAt: endsAt}
			if err := tx.CreateLogin(ctx, l); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, &hotdesk.AuditEvent{Kind: hotdesk.KindLogin, Extension: ext, Device: dev})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	login("201", "HD1", &ends)
	e := next(t, chB)
	if e.Kind != hotdesk.KindLogin || e.Login == nil || !e.Login.Live || e.Login.EndsAt == nil || !e.Login.EndsAt.Equal(ends) {
		t.Fatalf("login with a deadline: %+v (login %+v)", e, e.Login)
	}
	login("202", "HD2", nil)
	if e := next(t, chB); e.Login == nil || !e.Login.Live || e.Login.EndsAt != nil {
		t.Fatalf("login without a deadline: %+v (login %+v)", e, e.Login)
	}
	// Logged in and out again before b reads the log (one transaction
	// here): the login event says the login is gone.
	err := storeA.InTx(ctx, func(tx hotdesk.Tx) error {
		if err := tx.DeleteLogin(ctx, "HD2"); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, &hotdesk.AuditEvent{Kind: hotdesk.KindLogout, Extension: "202", Device: "HD2"}); err != nil {
			return err
		}
		if err := tx.CreateLogin(ctx, &hotdesk.Login{Extension: "202", Device: "HD2", Since: time.Now(), LastActivity: time.Now()}); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, &hotdesk.AuditEvent{Kind: hotdesk.KindLogin, Extension: "202", Device: "HD2"}); err != nil {
			return err
		}
		if err := tx.DeleteLogin(ctx, "HD2"); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &hotdesk.AuditEvent{Kind: hotdesk.KindLogout, Extension: "202", Device: "HD2"})
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{hotdesk.KindLogout, hotdesk.KindLogin, hotdesk.KindLogout} {
		e := next(t, chB)
		if e.Kind != want || (want == hotdesk.KindLogin) != (e.Login != nil) || (e.Login != nil && e.Login.Live) {
			t.Fatalf("event %d of the login ended before b read it: %+v (login %+v)", i, e, e.Login)
		}
	}
}

// TestWakeUpsAndReadsCoalesce: events committed every 2 ms on node a for
// 200 ms reach b with far fewer NOTIFYs from a (at most one per NotifyGap,
// 20 ms) and reads by b (at most one per ReadGap, 50 ms, after wake-ups)
// than events.
func TestWakeUpsAndReadsCoalesce(t *testing.T) {
	url, _ := mustSchema(t, testDSN(t))
	storeA := mustStore(t, url, "a")
	busA, busB := events.New(), events.New()
	a, b := mustBridge(t, "a", url, busA), mustBridge(t, "b", url, busB)
	startBridge(t, a)
	startBridge(t, b)
	chB, cancel := busB.Subscribe(512)
	defer cancel()
	reads0, wakeups0 := b.Reads(), a.Wakeups()
	const n = 100
	start := time.Now()
	for i := range n {
		audit(t, storeA, busA, hotdesk.KindLogin, "201", fmt.Sprint("HD", i))
		time.Sleep(time.Until(start.Add(time.Duration(i+1) * 2 * time.Millisecond)))
	}
	for i := range n {
		if e := next(t, chB); e.Device != fmt.Sprint("HD", i) {
			t.Fatalf("event %d: %+v", i, e)
		}
	}
	took := time.Since(start)
	reads, wakeups := b.Reads()-reads0, a.Wakeups()-wakeups0
	t.Logf("%d events over %v: %d NOTIFYs from a, %d reads by b", n, took.Round(time.Millisecond), wakeups, reads)
	// Bounds with room for a slow machine: the gaps allow took/20ms and
	// took/50ms (plus the 500 ms poll); one per event would be 100.
	if maxW := int64(took/(20*time.Millisecond)) + 3; wakeups > maxW || wakeups >= n/2 {
		t.Errorf("%d NOTIFYs for %d events in %v, want at most %d", wakeups, n, took, maxW)
	}
	if maxR := int64(took/(50*time.Millisecond)) + int64(took/(500*time.Millisecond)) + 3; reads > maxR || reads >= n/2 {
		t.Errorf("%d reads for %d events in %v, want at most %d", reads, n, took, maxR)
	}
}

package desk

import (
	"context"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// TestRemoteLoginFromTheLogNeedsNoRead: a login event that the cluster's
// reader delivered with the login's state (events.LoginNow) is scheduled
// from it, without reading the login again (this node's store has none);
// one that had ended by then schedules nothing.
func TestRemoteLoginFromTheLogNeedsNoRead(t *testing.T) {
	ctx := context.Background()
	b := newFixtureOn(t, siptest.NewMemStore(), siptest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)))
	at := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
	b.svc.handleEvent(ctx, events.Event{Kind: hotdesk.KindLogin, Extension: "201", Device: "HD00001", Node: "a",
		Login: &events.LoginNow{Live: true, EndsAt: &at}})
	if next, ok := b.svc.sched.next(); !ok || !next.Equal(at) {
		t.Fatalf("deadline scheduled %v %v, want %v", next, ok, at)
	}
	b.svc.handleEvent(ctx, events.Event{Kind: hotdesk.KindLogin, Extension: "202", Device: "HD00002", Node: "a",
		Login: &events.LoginNow{Live: false}})
	b.svc.handleEvent(ctx, events.Event{Kind: hotdesk.KindLogin, Extension: "203", Device: "HD00003", Node: "a",
		Login: &events.LoginNow{Live: true}}) // no deadline
	if n := b.svc.sched.len(); n != 1 {
		t.Fatalf("%d deadlines scheduled, want 1", n)
	}
}

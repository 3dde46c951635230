package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// TestNodeThatRanAtAnEmptyLogCatchesUp: b first runs while the event log
// is still empty and stops before anything is logged (as a node killed
// before its first periodic save). Once restarted it still gets the events
// logged while it was down: a place at the start of the log is not the
// "never ran" of a new node, which starts at the end.
func TestNodeThatRanAtAnEmptyLogCatchesUp(t *testing.T) {
	ctx := context.Background()
	url, _ := mustSchema(t, testDSN(t))
	storeA := mustStore(t, url, "a")
	now := time.Now()
	if err := storeA.ClaimNode(ctx, hotdesk.Node{Name: "b", Address: "127.0.0.1:5060", Instance: "b", Started: now, Heartbeat: now}, now); err != nil {
		t.Fatal(err)
	}
	busA := events.New()
	_, stopB := runNode(t, "b", url)
	stopB()
	for i := range 2 {
		audit(t, storeA, busA, hotdesk.KindLogin, "201", fmt.Sprint("down", i))
	}
	chB, stopB := runNode(t, "b", url)
	defer stopB()
	for i := range 2 {
		if e := next(t, chB); e.Device != fmt.Sprint("down", i) || e.Node != "a" {
			t.Fatalf("b after its restart, event %d: %+v", i, e)
		}
	}
}

// TestBeginFixesTheStart: a new node that called Begin (as it starts,
// before serving) gets an event committed after that even though its
// listener connects only later; one that did not starts at the end of
// the log as it is when the listener connects.
func TestBeginFixesTheStart(t *testing.T) {
	ctx := context.Background()
	url, _ := mustSchema(t, testDSN(t))
	storeA := mustStore(t, url, "a")
	busA := events.New()
	audit(t, storeA, busA, hotdesk.KindLogin, "201", "old") // before b: not news to b
	bus := events.New()
	ch, unsub := bus.Subscribe(64)
	defer unsub()
	b := mustBridge(t, "b", url, bus)
	if err := b.Begin(ctx); err != nil {
		t.Fatal(err)
	}
	audit(t, storeA, busA, hotdesk.KindLogin, "202", "early") // b is up, its listener not yet
	defer startBridge(t, b)()
	if e := next(t, ch); e.Device != "early" || e.Node != "a" {
		t.Fatalf("b's first event: %+v, want a's login on early", e)
	}
	none(t, ch, 700*time.Millisecond, "b (nothing from before Begin)")
}

package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// TestRestartedNodeCatchesUp: node b's bridge saves where it is in the log;
// a new bridge of b (the node restarted) goes on from there, so the events
// committed while b was down reach it, once each and in order; a node
// without a saved place starts at the end of the log.
func TestRestartedNodeCatchesUp(t *testing.T) {
	ctx := context.Background()
	url, _ := mustSchema(t, testDSN(t))
	storeA := mustStore(t, url, "a")
	now := time.Now()
	for _, n := range []string{"b", "c"} {
		if err := storeA.ClaimNode(ctx, hotdesk.Node{Name: n, Address: "127.0.0.1:5060", Instance: n, Started: now, Heartbeat: now}, now); err != nil {
			t.Fatal(err)
		}
	}
	busA := events.New()
	chB, stopB := runNode(t, "b", url)
	audit(t, storeA, busA, hotdesk.KindLogin, "201", "before")
	if e := next(t, chB); e.Device != "before" {
		t.Fatalf("b before its restart: %+v", e)
	}
	stopB()
	for i := range 3 {
		audit(t, storeA, busA, hotdesk.KindLogin, "201", fmt.Sprint("down", i))
	}
	chB, stopB = runNode(t, "b", url)
	defer stopB()
	for i := range 3 {
		if e := next(t, chB); e.Device != fmt.Sprint("down", i) || e.Node != "a" {
			t.Fatalf("b after its restart, event %d: %+v", i, e)
		}
	}
	none(t, chB, 700*time.Millisecond, "b (once, nothing from before)")
	// c never ran: it starts at the end.
	chC, stopC := runNode(t, "c", url)
	defer stopC()
	none(t, chC, 700*time.Millisecond, "c (new: starts at the end of the log)")
	audit(t, storeA, busA, hotdesk.KindLogin, "201", "after")
	if e := next(t, chC); e.Device != "after" {
		t.Fatalf("c: %+v", e)
	}
}

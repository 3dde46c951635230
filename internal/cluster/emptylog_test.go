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
	run := func() (<-chan events.Event, func()) {
		bus := events.New()
		ch, unsub := bus.Subscribe(64)
		b := mustBridge(t, "b", url, bus)
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { b.Run(rctx); close(done) }()
		select {
		case <-b.Listening():
		case <-time.After(10 * time.Second):
			t.Fatal("bridge never listened")
		}
		return ch, func() { cancel(); <-done; unsub() }
	}
	_, stopB := run()
	stopB()
	for i := range 2 {
		audit(t, storeA, busA, hotdesk.KindLogin, "201", fmt.Sprint("down", i))
	}
	chB, stopB := run()
	defer stopB()
	for i := range 2 {
		if e := next(t, chB); e.Device != fmt.Sprint("down", i) || e.Node != "a" {
			t.Fatalf("b after its restart, event %d: %+v", i, e)
		}
	}
}

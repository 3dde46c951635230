package mwi

import (
	"context"
	"fmt"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// TestKickBeyondLimitDeferred: a kick that finds maxInFlight workers
// running is kept (with its always flag) and started by the next tick once
// workers have ended, rather than dropped: in a registration flood the
// phones beyond the limit still get their lamp read.
func TestKickBeyondLimitDeferred(t *testing.T) {
	store := siptest.NewMemStore()
	release := make(chan struct{}) // workers started here stay in flight until then
	n, err := New(Options{Store: store, Counts: noCounts{}, SIP: &signaling.Server{},
		Contacts: func(string) []hotdesk.Binding { <-release; return nil }, Logger: siptest.QuietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	n.mu.Lock()
	for i := range maxInFlight {
		n.workers[fmt.Sprintf("busy%d", i)] = &worker{} // held: no goroutine ends them
	}
	n.mu.Unlock()
	n.kick("HD00001", true)
	n.kick("HD00002", false)
	n.kick("HD00002", false)
	n.mu.Lock()
	if len(n.deferred) != 2 || !n.deferred["HD00001"] || n.deferred["HD00002"] {
		t.Fatalf("deferred %v, want HD00001 (always) and HD00002", n.deferred)
	}
	if n.workers["HD00001"] != nil {
		t.Fatal("HD00001 got a worker beyond the limit")
	}
	delete(n.workers, "busy0") // one ends
	n.mu.Unlock()

	n.catchUp(n.loop.Base) // room for one: one starts, one waits
	n.mu.Lock()
	if len(n.deferred) != 1 {
		t.Fatalf("after a tick with room for one: deferred %v", n.deferred)
	}
	for i := 1; i < maxInFlight; i++ { // the others end
		delete(n.workers, fmt.Sprintf("busy%d", i))
	}
	n.mu.Unlock()
	n.catchUp(n.loop.Base)
	close(release)
	n.loop.WG.Wait() // the workers find no contact and end
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.deferred) != 0 || len(n.workers) != 0 {
		t.Fatalf("after the second tick: deferred %v, workers %d", n.deferred, len(n.workers))
	}
}

type noCounts struct{}

func (noCounts) VoicemailCounts(context.Context, string) (int, int, error) { return 0, 0, nil }

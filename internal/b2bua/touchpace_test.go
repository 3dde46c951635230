package b2bua

import (
	"context"
	"sync"
	"testing"
	"time"
)

// After a round the toucher waits (pace) before the next, so devices
// marked meanwhile are touched in one round, side by side (their
// transactions share commits), not one round each.
func TestToucherPaces(t *testing.T) {
	var mu sync.Mutex
	entered := map[string]chan struct{}{"A": make(chan struct{}), "B": make(chan struct{})}
	together := map[string]bool{}
	tc := newToucher(func(ctx context.Context, dev string) error {
		other := map[string]string{"A": "B", "B": "A"}[dev]
		if other == "" {
			return nil // the first device
		}
		close(entered[dev])
		// A and B touched in one round run at once: each sees the other.
		select {
		case <-entered[other]:
			mu.Lock()
			together[dev] = true
			mu.Unlock()
		case <-time.After(3 * time.Second):
		}
		return nil
	}, quiet())
	tc.pace = 2 * time.Second // far longer than the puts below take, even on a busy machine
	runInBackground(t, tc.run, tc.isRunning)
	tc.put("X")
	for { // X's round has begun: A and B come within its pace
		tc.mu.Lock()
		_, pending := tc.pending["X"]
		tc.mu.Unlock()
		if !pending {
			break
		}
		time.Sleep(time.Millisecond)
	}
	tc.put("A")
	time.Sleep(20 * time.Millisecond) // the toucher is awake and could start a round for A alone
	tc.put("B")
	for _, dev := range []string{"A", "B"} {
		select {
		case <-entered[dev]:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s not touched", dev)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		ok := together["A"] && together["B"]
		mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("A and B were not touched in one round: %v", together)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

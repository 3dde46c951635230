package registrar

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// While served, the credential lookups of many REGISTERs at once run a
// few at a time on the workers, not one per waiting goroutine; every
// lookup is answered, also those queued when serving ends and those made
// after.
func TestLookupsRunOnWorkers(t *testing.T) {
	var running, most, calls atomic.Int32
	release := make(chan struct{})
	find := func(ctx context.Context, id string) (*hotdesk.Device, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		calls.Add(1)
		<-release
		return &hotdesk.Device{ID: id}, nil
	}
	var p lookups
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { defer close(served); p.serve(ctx, 2, find) }()
	waitLookups(t, func() bool { p.mu.RLock(); defer p.mu.RUnlock(); return p.q != nil })

	const callers = 50
	var wg sync.WaitGroup
	got := make([]string, callers)
	for i := range callers {
		wg.Go(func() {
			d, err := p.find(context.Background(), "D"+string(rune('A'+i)), find)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = d.ID
		})
	}
	// Two lookups run, the others wait in the queue.
	waitLookups(t, func() bool { return running.Load() == 2 && len(p.q) == callers-2 })
	release <- struct{}{} // one answered: the worker takes the next
	waitLookups(t, func() bool { return calls.Load() == 3 })
	stop() // serving ends with lookups queued: they are answered all the same
	close(release)
	wg.Wait()
	<-served
	if m := most.Load(); m != 2 {
		t.Errorf("%d lookups ran at once, want 2 (the workers)", m)
	}
	for i, id := range got {
		if want := "D" + string(rune('A'+i)); id != want {
			t.Errorf("caller %d got %q, want %q", i, id, want)
		}
	}
	// Not serving: the caller looks up itself.
	if d, err := p.find(context.Background(), "DZ", find); err != nil || d.ID != "DZ" {
		t.Fatalf("after serving: %v, %v", d, err)
	}
}

// waitLookups polls cond for up to 10 s (generous: the suite runs loaded).
func waitLookups(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

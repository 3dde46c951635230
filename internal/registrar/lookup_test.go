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
	bf := &blockingFind{release: make(chan struct{})}
	running, most, calls, release, find := &bf.running, &bf.most, &bf.calls, bf.release, bf.find
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

// With the queue full, a lookup waits for room rather than querying the
// store itself (thousands at once starved the workers of read
// connections); when serving ends, the waiting callers look up
// themselves, and nobody is left waiting.
func TestLookupsFullQueueWaits(t *testing.T) {
	bf := &blockingFind{release: make(chan struct{})}
	running, most, release, find := &bf.running, &bf.most, bf.release, bf.find
	var p lookups
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { defer close(served); p.serve(ctx, 1, find) }()
	waitLookups(t, func() bool { p.mu.RLock(); defer p.mu.RUnlock(); return p.q != nil })

	const callers = lookupQueue + 20 // one running, a full queue, 19 waiting for room
	var wg sync.WaitGroup
	var answered atomic.Int32
	for range callers {
		wg.Go(func() {
			if d, err := p.find(context.Background(), "D", find); err == nil && d.ID == "D" {
				answered.Add(1)
			}
		})
	}
	waitLookups(t, func() bool { return running.Load() == 1 && len(p.q) == lookupQueue })
	if m := most.Load(); m != 1 {
		t.Fatalf("%d lookups ran at once with a full queue, want 1 (the worker)", m)
	}
	stop()
	close(release)
	wg.Wait()
	<-served
	if n := answered.Load(); n != callers {
		t.Fatalf("%d lookups answered, want %d", n, callers)
	}
}

// blockingFind is a store lookup that counts its calls and the most of them
// running at once, and answers only when release lets it.
type blockingFind struct {
	running, most, calls atomic.Int32
	release              chan struct{}
}

func (b *blockingFind) find(ctx context.Context, id string) (*hotdesk.Device, error) {
	n := b.running.Add(1)
	defer b.running.Add(-1)
	for {
		m := b.most.Load()
		if n <= m || b.most.CompareAndSwap(m, n) {
			break
		}
	}
	b.calls.Add(1)
	<-b.release
	return &hotdesk.Device{ID: id}, nil
}

package registrar

import (
	"context"
	"fmt"
	"slices"
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

// Issue 18: jobs queued together (first REGISTERs) have their users
// looked up in one prefetch before they run, up to prefetchBatch at a
// time: none for one job alone while the worker is free (it looks up
// itself), then the 20 queued behind it in one call, and every job runs
// once, in order.
func TestQueuedJobsPrefetchedTogether(t *testing.T) {
	var mu sync.Mutex
	var calls [][]string
	var p lookups
	p.prefetch = func(ctx context.Context, users []string) {
		mu.Lock()
		calls = append(calls, slices.Clone(users))
		mu.Unlock()
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { defer close(served); p.serve(ctx, 1, (&blockingFind{}).find) }()
	waitLookups(t, func() bool { p.mu.RLock(); defer p.mu.RUnlock(); return p.q != nil })

	hold, held := make(chan struct{}), make(chan struct{})
	var ran []string
	var runMu sync.Mutex
	job := func(user string) func(context.Context) {
		return func(ctx context.Context) {
			if !onWorker(ctx) {
				t.Error("a job's context is not a worker's")
			}
			runMu.Lock()
			ran = append(ran, user)
			runMu.Unlock()
		}
	}
	if !p.submit("D00", func(ctx context.Context) { close(held); <-hold; job("D00")(ctx) }) {
		t.Fatal("not queued")
	}
	<-held // the worker runs D00; the next ones queue behind it
	var want []string
	for i := 1; i <= 20; i++ {
		u := fmt.Sprintf("D%02d", i)
		want = append(want, u)
		if !p.submit(u, job(u)) {
			t.Fatal("not queued")
		}
	}
	if !p.submit("", job("answer")) { // a job with no lookup rides along
		t.Fatal("not queued")
	}
	close(hold)
	waitLookups(t, func() bool { runMu.Lock(); defer runMu.Unlock(); return len(ran) == 22 })
	stop()
	<-served
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 1 || !slices.Equal(calls[0], want) {
		t.Errorf("prefetches %v, want D01..D20 in one (D00 alone: looked up by its job)", calls)
	}
	if got := append([]string{"D00"}, append(want, "answer")...); !slices.Equal(ran, got) {
		t.Errorf("jobs ran %v, want %v", ran, got)
	}
}

// Issue 18: a second's first registrations at 10,000/s wait in the
// queue for a worker while the workers are busy, none in a goroutine
// of its own (submit refused all beyond 4,096 before).
func TestLookupsQueueABurstOfJobs(t *testing.T) {
	var p lookups
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		p.serve(ctx, 1, func(context.Context, string) (*hotdesk.Device, error) { return nil, nil })
	}()
	waitLookups(t, func() bool { p.mu.RLock(); defer p.mu.RUnlock(); return p.q != nil })
	release, busy := make(chan struct{}), make(chan struct{})
	if !p.submit("", func(context.Context) { close(busy); <-release }) {
		t.Fatal("first job refused")
	}
	<-busy
	const burst = 10000
	var ran atomic.Int32
	queued := 0
	for i := range burst {
		if p.submit(fmt.Sprintf("D%05d", i), func(context.Context) { ran.Add(1) }) {
			queued++
		}
	}
	close(release)
	if queued != burst {
		stop()
		<-served
		t.Fatalf("%d of %d jobs queued behind a busy worker, want all", queued, burst)
	}
	waitLookups(t, func() bool { return ran.Load() == burst })
	stop()
	<-served
}

package b2bua

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// recStore records the call-record writes a recorder makes. WriteCalls
// waits on gate (when set) before writing, so a test can queue records
// while a batch is being written.
type recStore struct {
	Store // nil: other methods are not used

	mu      sync.Mutex
	batches [][]hotdesk.CallRecord
	singles []hotdesk.CallRecord
	rows    map[int64]hotdesk.CallRecord
	nextID  int64
	failAll bool   // WriteCalls fails
	bad     string // extension whose record cannot be written
	entered chan struct{}
	gate    chan struct{}
}

func newRecStore() *recStore { return &recStore{rows: map[int64]hotdesk.CallRecord{}} }

func (s *recStore) WriteCalls(ctx context.Context, recs []*hotdesk.CallRecord) error {
	if s.entered != nil {
		s.entered <- struct{}{}
	}
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := make([]hotdesk.CallRecord, len(recs))
	for i, r := range recs {
		b[i] = *r
	}
	s.batches = append(s.batches, b)
	if s.failAll {
		return errors.New("batch refused")
	}
	for _, r := range recs {
		s.writeLocked(r)
	}
	return nil
}

func (s *recStore) writeLocked(r *hotdesk.CallRecord) {
	if r.ID == 0 {
		s.nextID++
		r.ID = s.nextID
	}
	s.rows[r.ID] = *r
}

func (s *recStore) CreateCall(ctx context.Context, r *hotdesk.CallRecord) error { return s.single(r) }
func (s *recStore) UpdateCall(ctx context.Context, r *hotdesk.CallRecord) error { return s.single(r) }

func (s *recStore) single(r *hotdesk.CallRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.singles = append(s.singles, *r)
	if r.Extension == s.bad {
		return errors.New("no such user")
	}
	s.writeLocked(r)
	return nil
}

func (s *recStore) row(id int64) hotdesk.CallRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rows[id]
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// wait waits (bounded) for ch to close.
func wait(t *testing.T, ch chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not written", what)
	}
}

// Records queued while a batch is being written go out together in the
// next transaction; a record's start and end queued together are one
// write with its last values; a record written before is updated by its
// ID.
func TestRecorderBatches(t *testing.T) {
	st := newRecStore()
	st.entered, st.gate = make(chan struct{}), make(chan struct{})
	r := newRecorder(st, quiet())
	runInBackground(t, r.run, r.isRunning)

	var first recSlot
	rec1 := hotdesk.CallRecord{CallID: "c1", Extension: "201", Result: hotdesk.ResultFailed}
	r.put(&first, &rec1, nil)
	<-st.entered // the first batch is being written: the next ones queue

	var a, b recSlot
	recA := hotdesk.CallRecord{CallID: "c2", Extension: "202", Result: hotdesk.ResultFailed}
	recB := hotdesk.CallRecord{CallID: "c3", Extension: "203", Result: hotdesk.ResultFailed}
	r.put(&a, &recA, nil)
	r.put(&b, &recB, nil)
	end := time.Unix(1800000000, 0)
	recA.End, recA.Result = &end, hotdesk.ResultAnswered
	doneA := make(chan struct{})
	r.put(&a, &recA, doneA)
	rec1.Result = hotdesk.ResultBusy
	done1 := make(chan struct{})
	r.put(&first, &rec1, done1)
	st.gate <- struct{}{} // first batch
	<-st.entered
	st.gate <- struct{}{} // second batch
	wait(t, doneA, "c2")
	wait(t, done1, "c1")

	st.mu.Lock()
	batches := st.batches
	st.mu.Unlock()
	if len(batches) != 2 || len(batches[0]) != 1 || len(batches[1]) != 3 {
		t.Fatalf("batches %+v, want 1 record then 3", batches)
	}
	if got := batches[1][0]; got.CallID != "c2" || got.ID != 0 || got.End == nil || got.Result != hotdesk.ResultAnswered {
		t.Errorf("c2 written as %+v, want one insert with its last values", got)
	}
	if got := batches[1][2]; got.CallID != "c1" || got.ID != first.id || got.ID == 0 || got.Result != hotdesk.ResultBusy {
		t.Errorf("c1 written as %+v, want an update of row %d", got, first.id)
	}
	if a.id == 0 || b.id == 0 || st.row(a.id).CallID != "c2" || st.row(b.id).CallID != "c3" {
		t.Errorf("rows: c2 %d, c3 %d", a.id, b.id)
	}
}

// A batch the store refuses is written record by record, so one record
// that cannot be written does not cost the others theirs; without run the
// records are written at once.
func TestRecorderFallback(t *testing.T) {
	st := newRecStore()
	st.failAll, st.bad = true, "999"
	r := newRecorder(st, quiet())
	var good, bad recSlot
	recGood := hotdesk.CallRecord{CallID: "c1", Extension: "201"}
	recBad := hotdesk.CallRecord{CallID: "c1", Extension: "999"}
	r.mu.Lock()
	r.queue = append(r.queue, recWrite{slot: &good, val: recGood}, recWrite{slot: &bad, val: recBad})
	r.mu.Unlock()
	r.flush()
	if good.id == 0 || st.row(good.id).Extension != "201" {
		t.Errorf("the good record was not written after the batch failed: %+v", st.singles)
	}
	if bad.id != 0 {
		t.Errorf("the bad record got row %d", bad.id)
	}

	st.failAll = false
	var now recSlot
	r.put(&now, &hotdesk.CallRecord{CallID: "c2", Extension: "202"}, nil)
	if now.id == 0 {
		t.Error("put without run did not write at once")
	}
}

// isRunning reports whether tc's run loop has started.
func (tc *toucher) isRunning() bool {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.running
}

// runInBackground runs run until the test ends (cancelled and waited for
// then) and returns once running reports it started.
func runInBackground(t *testing.T, run func(context.Context), running func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); run(ctx) }()
	t.Cleanup(func() { cancel(); <-stopped })
	for deadline := time.Now().Add(10 * time.Second); !running(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the run loop did not start within 10 s")
		}
	}
}

// A busy phone's login is touched once per 10 s, not once a second (issue
// 18: with a second, 200 phones in calls cost 200 touches every second
// whatever the call rate), and the held-back touch still comes well
// within the shortest idle timeout (a minute), so it cannot fire meanwhile.
func TestToucherEveryTenSeconds(t *testing.T) {
	n := 0
	tc := newToucher(func(ctx context.Context, dev string) error { n++; return nil }, quiet())
	tc.running = true // rounds driven by hand with their times
	t0 := time.Unix(1800000000, 0)
	for _, s := range []struct {
		at, wait time.Duration
		touches  int
	}{
		{0, 0, 1},
		{time.Second, 9 * time.Second, 1},
		{5 * time.Second, 5 * time.Second, 1},
		{9900 * time.Millisecond, 100 * time.Millisecond, 1},
		{10 * time.Second, 0, 2},
	} {
		tc.put("HD1")
		if w := tc.round(t0.Add(s.at)); w != s.wait || n != s.touches {
			t.Errorf("round at %v: next in %v, %d touches; want %v, %d", s.at, w, n, s.wait, s.touches)
		}
	}
	if touchEvery >= time.Minute/2 {
		t.Errorf("touchEvery %v: a held-back touch must come well within the shortest idle timeout (1m)", touchEvery)
	}
}

func (r *recorder) isRunning() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running
}

// A device's login is touched at most once per touchEvery, however many
// calls marked it: the first mark at once, the others once that time is
// over; a final round touches whatever is marked; without run, at once.
// (Here with every at a second, so that run's timer comes within the test.)
func TestToucherCoalesces(t *testing.T) {
	var mu sync.Mutex
	count := map[string]int{}
	touched := func(dev string) int {
		mu.Lock()
		defer mu.Unlock()
		return count[dev]
	}
	tc := newToucher(func(ctx context.Context, dev string) error {
		mu.Lock()
		count[dev]++
		mu.Unlock()
		return nil
	}, quiet())
	tc.every = time.Second
	tc.put("HD0")
	if touched("HD0") != 1 {
		t.Fatal("put without run did not touch at once")
	}

	tc.running = true // as run does; rounds driven by hand with their times
	t0 := time.Unix(1800000000, 0)
	step := func(at time.Duration, wantWait time.Duration, want map[string]int) {
		t.Helper()
		if w := tc.round(t0.Add(at)); w != wantWait {
			t.Errorf("round at %v: next in %v, want %v", at, w, wantWait)
		}
		for dev, n := range want {
			if got := touched(dev); got != n {
				t.Errorf("round at %v: %s touched %d times, want %d", at, dev, got, n)
			}
		}
	}
	for range 3 {
		tc.put("HD1")
	}
	step(0, 0, map[string]int{"HD1": 1})
	for range 5 {
		tc.put("HD1")
	}
	step(500*time.Millisecond, 500*time.Millisecond, map[string]int{"HD1": 1})
	tc.put("HD2")
	step(600*time.Millisecond, 400*time.Millisecond, map[string]int{"HD1": 1, "HD2": 1})
	step(time.Second, 0, map[string]int{"HD1": 2, "HD2": 1})
	tc.put("HD2")
	step(1100*time.Millisecond, 500*time.Millisecond, map[string]int{"HD2": 1})
	if w := tc.round(time.Time{}); w != 0 || touched("HD2") != 2 {
		t.Errorf("final round: next %v, HD2 touched %d times, want 2", w, touched("HD2"))
	}
	tc.running = false

	// run's timer touches a held-back device once its second is over.
	runInBackground(t, tc.run, tc.isRunning)
	eventually := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 10s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	tc.put("HD3")
	eventually("first touch", func() bool { return touched("HD3") == 1 })
	tc.put("HD3")
	eventually("held-back touch", func() bool { return touched("HD3") == 2 })
}

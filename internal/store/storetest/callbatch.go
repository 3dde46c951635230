package storetest

import (
	"context"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// callWriter is the batch write of call records both SQL stores offer
// (the B2BUA writes its records through it, one transaction per batch).
type callWriter interface {
	WriteCalls(ctx context.Context, recs []*hotdesk.CallRecord) error
}

// testCallBatch: WriteCalls inserts the new records (assigning IDs) and
// updates the others in one transaction; a batch with an update of a
// missing record writes nothing and leaves the new records without IDs.
func testCallBatch(t *testing.T, s hotdesk.Store) {
	w, ok := s.(callWriter)
	if !ok {
		t.Skip("store has no WriteCalls")
	}
	ctx := context.Background()
	old := &hotdesk.CallRecord{CallID: "x", Extension: "201", Direction: hotdesk.DirectionOutbound, Peer: "202", Device: "HD00001", Start: t0, Result: hotdesk.ResultFailed}
	must(t, s.CreateCall(ctx, old))
	ans, end := t0.Add(5*time.Second), t0.Add(time.Minute)
	old.Answer, old.End, old.Result = &ans, &end, hotdesk.ResultAnswered
	in := &hotdesk.CallRecord{CallID: "x", Extension: "202", Direction: hotdesk.DirectionInbound, Peer: "201", Device: "HD00002", Start: t0, Answer: &ans, Result: hotdesk.ResultAnswered}
	out := &hotdesk.CallRecord{CallID: "y", Extension: "202", Direction: hotdesk.DirectionOutbound, Peer: "112", Start: t0.Add(time.Second), Result: hotdesk.ResultFailed, Emergency: true}
	must(t, w.WriteCalls(ctx, []*hotdesk.CallRecord{old, in, out}))
	if in.ID == 0 || out.ID == 0 || in.ID == out.ID || in.ID == old.ID {
		t.Fatalf("ids %d %d %d", old.ID, in.ID, out.ID)
	}
	cs, err := s.FindCalls(ctx, "201", 10)
	must(t, err)
	if len(cs) != 1 || cs[0].Result != hotdesk.ResultAnswered || cs[0].Answer == nil || cs[0].End == nil {
		t.Fatalf("201's calls = %+v", cs)
	}
	sameTime(t, "End", *cs[0].End, end)
	cs, err = s.FindCalls(ctx, "202", 10)
	must(t, err)
	if len(cs) != 2 || cs[0].ID != out.ID || !cs[0].Emergency || cs[1].ID != in.ID || cs[1].Device != "HD00002" || cs[1].Answer == nil || cs[1].End != nil {
		t.Fatalf("202's calls = %+v", cs)
	}

	// All or nothing.
	later := &hotdesk.CallRecord{CallID: "z", Extension: "203", Direction: hotdesk.DirectionInbound, Peer: "201", Start: t0, Result: hotdesk.ResultBusy}
	in.End = &end
	wantCode(t, w.WriteCalls(ctx, []*hotdesk.CallRecord{later, in, {ID: 99999, Result: hotdesk.ResultBusy}}), hotdesk.ENOTFOUND)
	if later.ID != 0 {
		t.Errorf("a record of a failed batch kept ID %d", later.ID)
	}
	if cs, _ := s.FindCalls(ctx, "203", 10); len(cs) != 0 {
		t.Errorf("a failed batch inserted %+v", cs)
	}
	if cs, _ := s.FindCalls(ctx, "202", 10); len(cs) != 2 || cs[1].End != nil {
		t.Errorf("a failed batch updated %+v", cs[1])
	}
	must(t, w.WriteCalls(ctx, nil))
}

// personalDevices is the narrow lookup of a user's personal phones the
// B2BUA makes on every call to the user.
type personalDevices interface {
	PersonalDevices(ctx context.Context, owner string) ([]string, error)
}

// testPersonalDevices: PersonalDevices lists the owner's personal phones in
// id order, as FindDevices with Mode personal and Owner does.
func testPersonalDevices(t *testing.T, s hotdesk.Store) {
	p, ok := s.(personalDevices)
	if !ok {
		t.Skip("store has no PersonalDevices")
	}
	ctx := context.Background()
	seed(t, s, 2)
	for _, d := range []*hotdesk.Device{
		{ID: "soft-b", Mode: hotdesk.ModePersonal, Owner: "201"},
		{ID: "soft-a", Mode: hotdesk.ModePersonal, Owner: "201"},
		{ID: "soft-c", Mode: hotdesk.ModePersonal, Owner: "202"},
	} {
		must(t, s.CreateDevice(ctx, d))
	}
	for owner, want := range map[string][]string{"201": {"soft-a", "soft-b"}, "202": {"soft-c"}, "203": nil, "": nil} {
		got, err := p.PersonalDevices(ctx, owner)
		must(t, err)
		if !slices.Equal(got, want) {
			t.Errorf("PersonalDevices(%q) = %q, want %q", owner, got, want)
		}
	}
}

// BenchWriteCalls measures the B2BUA's batch of call records at about 300
// calls/s (one batch per 100 ms, internal/b2bua's recordPace): each op is
// one WriteCalls of 30 calls' two new records (started and answered) and
// the ends of the previous batch's 60. It reports the process's CPU time
// per record from getrusage (the commit's fsync is wall time, not CPU),
// so the figure is the CPU a record costs the PBX, GC included. Each
// batch has a deadline, as the recorder's have.
func BenchWriteCalls(b *testing.B, s hotdesk.Store) {
	w, ok := s.(callWriter)
	if !ok {
		b.Skip("store has no WriteCalls")
	}
	ctx := context.Background()
	const calls = 30
	var prev []*hotdesk.CallRecord
	batch := make([]*hotdesk.CallRecord, 0, 4*calls)
	n, start := 0, cpuTime(b)
	for b.Loop() {
		batch = batch[:0]
		fresh := make([]*hotdesk.CallRecord, 0, 2*calls)
		for i := range calls {
			n++
			at := t0.Add(time.Duration(n) * time.Millisecond)
			id := fmt.Sprintf("bench-%d@10.0.0.1", n)
			caller, callee := fmt.Sprint(3001+i), fmt.Sprint(4001+i)
			fresh = append(fresh,
				&hotdesk.CallRecord{CallID: id, Extension: caller, Direction: hotdesk.DirectionOutbound, Peer: callee,
					Device: "BCA0001", Start: at, Answer: &at, Result: hotdesk.ResultAnswered},
				&hotdesk.CallRecord{CallID: id, Extension: callee, Direction: hotdesk.DirectionInbound, Peer: caller,
					Device: "BCB0001", Start: at, Answer: &at, Result: hotdesk.ResultAnswered})
		}
		end := t0.Add(time.Duration(n+1000) * time.Millisecond)
		for _, r := range prev {
			r.End = &end
		}
		batch = append(append(batch, fresh...), prev...)
		// As the recorder does: a deadline per batch.
		bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := w.WriteCalls(bctx, batch)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		prev = fresh
	}
	if recs := float64(b.N) * 4 * calls; b.N > 1 {
		recs -= 2 * calls // the first batch had no ends
		b.ReportMetric(float64(cpuTime(b)-start)/1e3/recs, "cpu-µs/record")
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package storetest

import (
	"context"
	"slices"
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

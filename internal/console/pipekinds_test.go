package console

import (
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// A call's events are no step of a phone's pipeline: the tracker skips
// them before its lock, and their Seq does not make a login published at
// the same moment (by another goroutine, so handed over after the call's
// event with a lower Seq) look like an old copy. A repeated copy of a
// step is still ignored.
func TestPhoneTrackerSkipsCallEvents(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tr := newPhoneTracker(func() time.Time { return at })
	tr.apply(events.Event{Seq: 6, Kind: events.KindCallConfirmed, Device: "HD1", Extension: "202", CallID: "c1"})
	login := events.Event{Seq: 5, Kind: hotdesk.KindLogin, Device: "HD1", Extension: "201"}
	tr.apply(login)
	p, _ := tr.get("HD1")
	if p == nil || p.Extension != "201" {
		t.Fatalf("pipeline after the login: %+v, want one for 201", p)
	}
	tr.apply(events.Event{Seq: 5, Kind: hotdesk.KindLogout, Device: "HD1"}) // a copy's Seq: ignored
	if p, _ := tr.get("HD1"); p == nil || p.Extension != "201" {
		t.Errorf("pipeline after an event with a Seq already seen: %+v, want 201's kept", p)
	}
	if tr.seq != 5 {
		t.Errorf("tracker Seq %d, want 5 (the login's; call events do not move it)", tr.seq)
	}
}

// A device's map of calls stays when its call ends, for its next call,
// rather than being made and dropped per call and device (issue 18: two a
// call); the minute's prune drops the maps that stayed empty.
func TestCallsKeepDeviceMaps(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tr := newCalls(func() time.Time { return at })
	ids := make([]string, 64)
	for i := range ids {
		ids[i] = "call-" + string(rune('A'+i%26)) + string(rune('a'+i/26))
	}
	var seq int64
	n := 0
	call := func() {
		id := ids[n%len(ids)]
		n++
		for _, k := range []string{events.KindCallEarly, events.KindCallConfirmed, events.KindCallTerminated} {
			for _, d := range []string{"HD1", "HD2"} {
				seq++
				tr.apply(events.Event{Seq: seq, Kind: k, Device: d, CallID: id})
			}
		}
	}
	for range 2 * len(ids) {
		call()
	}
	if a := testing.AllocsPerRun(100, call); a != 0 {
		t.Errorf("%v allocations a call once its devices have had one, want 0", a)
	}
	if tr.state("HD1") != "" || tr.count() != 0 {
		t.Errorf("after the calls ended: HD1 %q, %d calls", tr.state("HD1"), tr.count())
	}
	at = at.Add(2 * time.Minute)
	tr.mu.Lock()
	tr.prune(at)
	left := len(tr.byDevice)
	tr.mu.Unlock()
	if left != 0 {
		t.Errorf("%d device maps left after a prune with no calls, want 0", left)
	}
}

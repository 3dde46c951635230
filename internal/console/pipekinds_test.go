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

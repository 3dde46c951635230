package console

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

func TestCallsState(t *testing.T) {
	t.Parallel()
	type ev struct {
		seq      int64
		kind     string
		dev, cid string
	}
	const (
		early = events.KindCallEarly
		up    = events.KindCallConfirmed
		end   = events.KindCallTerminated
	)
	tests := []struct {
		name string
		evs  []ev
		want string // state of device "D"
	}{
		{"nothing", nil, ""},
		{"ringing", []ev{{1, early, "D", "a"}}, callRinging},
		{"answered", []ev{{1, early, "D", "a"}, {2, up, "D", "a"}}, callUp},
		{"ended", []ev{{1, early, "D", "a"}, {2, up, "D", "a"}, {3, end, "D", "a"}}, ""},
		{"ended without answer", []ev{{1, early, "D", "a"}, {2, end, "D", "a"}}, ""},
		{"late copy of an older event", []ev{{1, up, "D", "a"}, {3, end, "D", "a"}, {2, up, "D", "a"}}, ""},
		{"late 18x after answer", []ev{{2, up, "D", "a"}, {3, early, "D", "a"}}, callUp},
		{"two calls, one ends", []ev{{1, up, "D", "a"}, {2, up, "D", "b"}, {3, end, "D", "a"}}, callUp},
		{"up wins over ringing", []ev{{1, early, "D", "a"}, {2, up, "D", "b"}}, callUp},
		{"other device", []ev{{1, up, "E", "a"}}, ""},
		{"no device", []ev{{1, up, "", "a"}}, ""},
		{"no call id", []ev{{1, up, "D", ""}}, ""},
		{"trying is not ringing", []ev{{1, events.KindCallTrying, "D", "a"}}, ""},
		{"not a call event", []ev{{1, hotdesk.KindLogin, "D", "a"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := newCalls(time.Now)
			for _, e := range tt.evs {
				cs.apply(events.Event{Seq: e.seq, Kind: e.kind, Device: e.dev, CallID: e.cid})
			}
			if got := cs.state("D"); got != tt.want {
				t.Fatalf("state = %q, want %q", got, tt.want)
			}
		})
	}
}

// publisher applies call events to cs with rising Seqs, as the bus
// delivers them, and reports what apply reports.
func publisher(cs *calls) func(kind, dev, cid string) bool {
	seq := int64(0)
	return func(kind, dev, cid string) bool {
		seq++
		return cs.apply(events.Event{Seq: seq, Kind: kind, Device: dev, CallID: cid})
	}
}

func TestCallsBounded(t *testing.T) {
	t.Parallel()
	clk := siptest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	cs := newCalls(clk.Now)
	pub := publisher(cs)
	// A call whose call_terminated was lost stops showing after a day.
	pub(events.KindCallConfirmed, "D", "lost")
	clk.Advance(callMaxAge - time.Minute)
	if cs.state("D") != callUp {
		t.Fatal("call gone too early")
	}
	clk.Advance(2 * time.Minute)
	if s := cs.state("D"); s != "" {
		t.Fatalf("a day-old call still shows as %q", s)
	}
	pub(events.KindCallTerminated, "E", "x") // any event prunes
	if cs.n != 0 || len(cs.tombs) != 1 {     // only the new tombstone is left
		t.Fatalf("%d calls, %d tombstones after pruning, want 0 and 1", cs.n, len(cs.tombs))
	}
	clk.Advance(2 * time.Minute)
	pub(events.KindCallConfirmed, "F", "y")
	if cs.n != 1 || len(cs.tombs) != 0 || cs.state("F") != callUp {
		t.Fatalf("tombstone not dropped: %d calls, %d tombstones", cs.n, len(cs.tombs))
	}
	// The map is capped: beyond it new calls are not tracked.
	for i := range callMaxCalls + 10 {
		pub(events.KindCallConfirmed, fmt.Sprintf("G%d", i%100), fmt.Sprint(i))
	}
	if cs.n != callMaxCalls {
		t.Fatalf("%d entries, want the cap %d", cs.n, callMaxCalls)
	}
	if pub(events.KindCallConfirmed, "H", "new") || cs.state("H") != "" {
		t.Fatal("a call beyond the cap was tracked")
	}
	// Ending tracked calls still works when full.
	if !pub(events.KindCallTerminated, "F", "y") || cs.state("F") != "" {
		t.Fatal("a call could not end while the map was full")
	}
}

// TestCallsEndedDoNotFillTheTracker: calls that end leave the live map at
// once, so a busy minute (more calls than the cap, each ended) does not
// stop the desks page from showing the next call, and the tombstones
// that guard against late events stay bounded and still guard.
func TestCallsEndedDoNotFillTheTracker(t *testing.T) {
	t.Parallel()
	clk := siptest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	cs := newCalls(clk.Now)
	pub := publisher(cs)
	for i := range 3 * callMaxCalls {
		dev, id := fmt.Sprintf("D%d", i%500), fmt.Sprint(i)
		pub(events.KindCallConfirmed, dev, id)
		if !pub(events.KindCallTerminated, dev, id) {
			t.Fatalf("call %d did not end", i)
		}
	}
	busy := 0 // devices' maps stay, empty, until the minute's prune (TestCallsKeepDeviceMaps)
	for _, m := range cs.byDevice {
		if len(m) > 0 {
			busy++
		}
	}
	if cs.n != 0 || busy != 0 || len(cs.byDevice) > 500 {
		t.Fatalf("%d calls on %d devices left after all ended (%d maps kept for 500 devices)", cs.n, busy, len(cs.byDevice))
	}
	if !pub(events.KindCallConfirmed, "N", "next") || cs.state("N") != callUp {
		t.Fatal("the next call after a busy minute is not tracked")
	}
	if len(cs.tombs) > callMaxTombs || len(cs.queue) > callMaxTombs {
		t.Fatalf("%d tombstones, %d queued, want at most %d", len(cs.tombs), len(cs.queue), callMaxTombs)
	}
	// A late copy of an older event of a recent call does not revive it.
	last := fmt.Sprint(3*callMaxCalls - 1)
	dev := fmt.Sprintf("D%d", (3*callMaxCalls-1)%500)
	if cs.apply(events.Event{Seq: 1, Kind: events.KindCallConfirmed, Device: dev, CallID: last}) || cs.state(dev) != "" {
		t.Fatal("a late event revived an ended call")
	}
	// A minute later its tombstone is gone.
	clk.Advance(callTombstone + time.Second)
	pub(events.KindCallTerminated, "N", "next")
	if len(cs.tombs) != 1 {
		t.Fatalf("%d tombstones a minute on, want only the newest", len(cs.tombs))
	}
}

// TestDesksShowCalls publishes the B2BUA's call events on the bus and
// reads the desks page: with Run following the bus, and without it.
func TestDesksShowCalls(t *testing.T) {
	t.Parallel()
	for _, run := range []bool{true, false} {
		t.Run(fmt.Sprint("run=", run), func(t *testing.T) {
			t.Parallel()
			hs := newHarness(t)
			c := hs.signIn()
			for _, id := range []string{"HD00001", "HD00002"} {
				hs.addDevice(&hotdesk.Device{ID: id, Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelSnom})
			}
			if run {
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- hs.con.Run(ctx) }()
				defer func() { cancel(); <-done }()
			}
			callOf := func(id string) string {
				t.Helper()
				row := rowOf(t, c.get("/desks/table").Body.String(), id)
				switch {
				case strings.Contains(row, "on a call"):
					return callUp
				case strings.Contains(row, ">ringing<"):
					return callRinging
				}
				return ""
			}
			// wait polls, since Run applies the events asynchronously.
			wait := func(id, want string) {
				t.Helper()
				for range 200 {
					if callOf(id) == want {
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
				t.Fatalf("%s: call state %q, want %q", id, callOf(id), want)
			}
			pub := func(kind, dev, ext, dir string) {
				hs.bus.Publish(events.Event{Kind: kind, Device: dev, Extension: ext, CallID: "call-1@test", Direction: dir})
			}
			wait("HD00001", "")
			pub(events.KindCallTrying, "HD00001", "201", "initiator")
			pub(events.KindCallEarly, "HD00001", "201", "initiator")
			pub(events.KindCallEarly, "", "202", "recipient") // forked: no device yet
			wait("HD00001", callRinging)
			wait("HD00002", "")
			pub(events.KindCallConfirmed, "HD00001", "201", "initiator")
			pub(events.KindCallConfirmed, "HD00002", "202", "recipient")
			wait("HD00001", callUp)
			wait("HD00002", callUp)
			if b := c.get("/").Body.String(); !strings.Contains(b, `data-call="call"`) || !strings.Contains(b, `<span class="badge call">on a call</span>`) {
				t.Fatal("desks page lacks the call badge")
			}
			pub(events.KindCallTerminated, "HD00001", "201", "initiator")
			pub(events.KindCallTerminated, "HD00002", "202", "recipient")
			wait("HD00001", "")
			wait("HD00002", "")
		})
	}
}

// TestEventsStreamForwardsCalls: a call event of a device makes open
// desks pages refresh, and the table they then fetch shows it.
func TestEventsStreamForwardsCalls(t *testing.T) {
	hs, c := newSignedIn(t)
	hs.addDevice(&hotdesk.Device{ID: "HD00001", Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelSnom})
	srv := hs.serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rd := openEvents(t, ctx, srv.URL, c)
	hs.bus.Publish(events.Event{Kind: events.KindCallEarly, CallID: "x", Extension: "202"}) // no device: nothing to show
	hs.bus.Publish(events.Event{Kind: events.KindCallConfirmed, Device: "HD00001", Extension: "201", CallID: "x"})
	if line := nextData(t, rd); !strings.Contains(line, `"kind":"call_confirmed"`) || !strings.Contains(line, `"device":"HD00001"`) {
		t.Fatalf("data = %q", line)
	}
	if row := rowOf(t, c.get("/desks/table").Body.String(), "HD00001"); !strings.Contains(row, "on a call") {
		t.Fatalf("table after the event: %s", row)
	}
}

// The console takes call events as they are published (a bus handler),
// not from a goroutine woken for each one (issue 18): the state is there
// when Publish returns, with nothing running Run or draining.
func TestCallsFollowedInPublish(t *testing.T) {
	hs := newHarness(t)
	hs.bus.Publish(events.Event{Kind: events.KindCallConfirmed, Device: "HD00001", CallID: "c1", Extension: "3001"})
	if n := hs.con.calls.count(); n != 1 {
		t.Fatalf("%d calls tracked right after Publish, want 1", n)
	}
	hs.bus.Publish(events.Event{Kind: events.KindCallTerminated, Device: "HD00001", CallID: "c1", Extension: "3001"})
	if n := hs.con.calls.count(); n != 0 {
		t.Fatalf("%d calls tracked after the call ended, want 0", n)
	}
}

package console

import (
	"sync"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// Call states of a desk phone, as the desks page shows them.
const (
	callRinging = "ringing"
	callUp      = "call"
)

// Bounds of the call tracker: a call_terminated lost on the bus (a full
// subscriber buffer) must not leave a phone "on a call" for ever, nor can
// a flood of calls grow the map without end.
const (
	callMaxAge    = 24 * time.Hour
	callTombstone = time.Minute // how long an ended call's Seq is kept
	callMaxCalls  = 10000
)

// callEntry is one call on one device. An ended call stays for
// callTombstone as a tombstone (state "") so a late copy of an older event
// of that call, received by another reader of the bus, cannot revive it.
type callEntry struct {
	state string
	seq   int64
	at    time.Time // when the entry last changed
}

// calls tracks, per device, the calls that are ringing or up, from the
// bus's call events. Safe for concurrent use.
type calls struct {
	now func() time.Time

	mu       sync.Mutex
	byDevice map[string]map[string]callEntry // device → Call-ID → entry
	n        int
	pruned   time.Time
}

func newCalls(now func() time.Time) *calls {
	return &calls{now: now, byDevice: map[string]map[string]callEntry{}}
}

// isCallKind reports whether kind changes a phone's call state.
func isCallKind(kind string) bool {
	switch kind {
	case events.KindCallEarly, events.KindCallConfirmed, events.KindCallTerminated:
		return true
	}
	return false
}

// apply records a call event and reports whether it changed anything.
// Events of one call on one device apply in Seq order; older ones are
// ignored.
func (t *calls) apply(e events.Event) bool {
	if !isCallKind(e.Kind) || e.Device == "" || e.CallID == "" {
		return false
	}
	state := ""
	switch e.Kind {
	case events.KindCallEarly:
		state = callRinging
	case events.KindCallConfirmed:
		state = callUp
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.prune(now)
	m := t.byDevice[e.Device]
	old, ok := m[e.CallID]
	if ok && e.Seq <= old.seq {
		return false
	}
	if ok && old.state == callUp && state == callRinging {
		state = callUp // a late 18x on an answered call
	}
	if !ok {
		if t.n >= callMaxCalls {
			return false
		}
		if m == nil {
			m = map[string]callEntry{}
			t.byDevice[e.Device] = m
		}
		t.n++
	}
	m[e.CallID] = callEntry{state: state, seq: e.Seq, at: now}
	return old.state != state
}

// prune drops tombstones and calls older than callMaxAge, at most once a
// minute unless the map is full. t.mu is held.
func (t *calls) prune(now time.Time) {
	if now.Sub(t.pruned) < time.Minute && t.n < callMaxCalls {
		return
	}
	t.pruned = now
	for dev, m := range t.byDevice {
		for id, c := range m {
			age := now.Sub(c.at)
			if age > callMaxAge || (c.state == "" && age > callTombstone) {
				delete(m, id)
				t.n--
			}
		}
		if len(m) == 0 {
			delete(t.byDevice, dev)
		}
	}
}

// state is callUp when any call of the device is up, else callRinging
// when one rings, else "".
func (t *calls) state(device string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	s := ""
	for _, c := range t.byDevice[device] {
		if now.Sub(c.at) > callMaxAge {
			continue
		}
		switch c.state {
		case callUp:
			return callUp
		case callRinging:
			s = callRinging
		}
	}
	return s
}

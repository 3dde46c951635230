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
// a flood of calls grow the maps without end.
const (
	callMaxAge    = 24 * time.Hour
	callTombstone = time.Minute // how long an ended call's Seq is kept
	callMaxCalls  = 10000       // calls ringing or up
	callMaxTombs  = 4 * callMaxCalls
)

// callEntry is one call on one device that rings or is up.
type callEntry struct {
	state string
	seq   int64
	at    time.Time // when the entry last changed
}

// callKey names one call on one device.
type callKey struct{ device, callID string }

// tombstone is an ended call: its last Seq is kept for callTombstone so
// a late copy of an older event of that call, received by another reader
// of the bus, cannot revive it.
type tombstone struct {
	key callKey
	seq int64
	at  time.Time
}

// calls tracks, per device, the calls that are ringing or up, from the
// bus's call events. Ended calls leave the live map at once and wait in a
// queue of tombstones, oldest first, so an event costs the same at a
// thousand calls a second as at one. Safe for concurrent use.
type calls struct {
	now func() time.Time

	mu       sync.Mutex
	byDevice map[string]map[string]callEntry // device → Call-ID → entry
	n        int                             // entries in byDevice
	pruned   time.Time
	tombs    map[callKey]tombstone
	queue    []tombstone // in the order they were made; stale copies are skipped
}

func newCalls(now func() time.Time) *calls {
	return &calls{now: now, byDevice: map[string]map[string]callEntry{}, tombs: map[callKey]tombstone{}}
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
	key := callKey{e.Device, e.CallID}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.prune(now)
	if tomb, ok := t.tombs[key]; ok {
		if e.Seq <= tomb.seq {
			return false
		}
		delete(t.tombs, key)
	}
	m := t.byDevice[e.Device]
	old, ok := m[e.CallID]
	if ok && e.Seq <= old.seq {
		return false
	}
	if state == "" {
		if ok {
			t.remove(m, e.CallID)
		}
		t.bury(tombstone{key: key, seq: e.Seq, at: now})
		return ok && old.state != ""
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

// remove drops a live entry. t.mu is held. The device's map stays when
// it empties, for its next call (a map made and dropped per call and
// device, issue 18); prune drops the maps found empty.
func (t *calls) remove(m map[string]callEntry, id string) {
	delete(m, id)
	t.n--
}

// bury keeps an ended call's tombstone, dropping the oldest beyond
// callMaxTombs. t.mu is held.
func (t *calls) bury(tomb tombstone) {
	t.tombs[tomb.key] = tomb
	t.queue = append(t.queue, tomb)
	for len(t.tombs) > callMaxTombs {
		t.unqueue()
	}
}

// unqueue drops the oldest tombstone of the queue, and it from the map
// unless the call was buried again since. t.mu is held.
func (t *calls) unqueue() {
	head := t.queue[0]
	t.queue[0] = tombstone{}
	t.queue = t.queue[1:]
	if cur, ok := t.tombs[head.key]; ok && cur.at.Equal(head.at) && cur.seq == head.seq {
		delete(t.tombs, head.key)
	}
	if len(t.queue) == 0 {
		t.queue = nil // let the drained backing array go
	}
}

// prune drops tombstones older than callTombstone (from the queue's head:
// no scan), and at most once a minute live calls older than callMaxAge and
// the devices' maps it finds empty (no call ringing or up on the device
// now). t.mu is held.
func (t *calls) prune(now time.Time) {
	for len(t.queue) > 0 && now.Sub(t.queue[0].at) > callTombstone {
		t.unqueue()
	}
	if now.Sub(t.pruned) < time.Minute {
		return
	}
	t.pruned = now
	for dev, m := range t.byDevice {
		if len(m) == 0 { // no call on the device now
			delete(t.byDevice, dev)
			continue
		}
		for id, c := range m {
			if now.Sub(c.at) > callMaxAge {
				t.remove(m, id)
			}
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

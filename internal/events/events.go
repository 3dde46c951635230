// Package events is the in-process publish/subscribe bus that carries logins,
// logouts, registrations and call progress to SSE clients, BLF subscriptions,
// check-sync notifiers and the console. Publishers never block: a subscriber
// that falls behind loses events and is told so by a gap in Seq.
package events

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Event kinds beyond the audit kinds of package hotdesk.
const (
	KindCallTrying     = "call_trying"     // a call to or from a user started
	KindCallEarly      = "call_early"      // ringing
	KindCallConfirmed  = "call_confirmed"  // answered
	KindCallTerminated = "call_terminated" // ended
	KindUserUpdated    = "user_updated"    // name/BLF changed (phones reprovision)
	// KindResync says other nodes' events may have been missed (the
	// cluster bridge lost its database connection): state kept from events
	// should be read again from the store. Never sent to other nodes.
	KindResync = "cluster_resync"
)

// Logged reports whether events of kind have an audit row, written (with
// its row in the cluster's event log) by the store in the change's own
// transaction: every kind but call progress, user_updated and the local
// cluster_resync. The cluster bridge logs the others itself.
func Logged(kind string) bool {
	return !strings.HasPrefix(kind, "call_") && kind != KindUserUpdated && kind != KindResync
}

// Event is one thing that happened. Audit events are published with the same
// Kind, Extension, Device, Reason and Source as their audit row.
type Event struct {
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	Extension string    `json:"extension,omitempty"`
	Device    string    `json:"device,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Source    string    `json:"source,omitempty"`
	Detail    string    `json:"detail,omitempty"`
	// Call fields, for call_* kinds.
	CallID    string `json:"call_id,omitempty"`
	Direction string `json:"direction,omitempty"` // "initiator" or "recipient" (RFC 4235)
	Peer      string `json:"peer,omitempty"`
	// Node names the node the event happened on when it was published
	// here by another node (internal/cluster); empty for events of this
	// node. Reactions that act on shared state (the store) and were already
	// taken by the origin node check it, and the cluster bridge never sends
	// an event with a Node on, so events do not loop between nodes.
	Node string `json:"node,omitempty"`
	// Login is set on another node's login event by the cluster's reader:
	// the login as it was when the event was read from the log (in the
	// same query), so every node need not read it again per event.
	Login *LoginNow `json:"-"`
}

// LoginNow is a login's state when its event was read from the log.
type LoginNow struct {
	Live   bool       // still there (same user and phone)
	EndsAt *time.Time // its auto-logout deadline, nil for none
}

// Remote reports whether e was published by another node.
func (e Event) Remote() bool { return e.Node != "" }

// Bus fans events out to subscribers.
type Bus struct {
	seq      atomic.Int64
	dropped  atomic.Int64 // events not delivered to a full subscriber, in all
	mu       sync.RWMutex
	subs     map[*sub]struct{}
	handlers map[*handler]struct{}
}

type sub struct {
	ch      chan Event
	dropped atomic.Int64
	// want, when set, says which kinds the subscriber takes (SubscribeKinds);
	// lost is then set when one it wanted was dropped, until it is told so.
	want func(kind string) bool
	lost atomic.Bool
}

type handler struct{ f func(Event) }

// New returns an empty bus.
func New() *Bus { return &Bus{subs: make(map[*sub]struct{}), handlers: make(map[*handler]struct{})} }

// Publish assigns e a sequence number (and time, if zero), calls every
// handler with it and hands it to every subscriber that wants it, without
// blocking.
func (b *Bus) Publish(e Event) {
	e.Seq = b.seq.Add(1)
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for h := range b.handlers {
		h.f(e)
	}
	for s := range b.subs {
		if s.want == nil {
			b.send(s, e)
			continue
		}
		// A subscriber that lost an event is told so before it gets
		// another; while it has no room for that, it gets none.
		if s.lost.Load() && !b.tellLost(s, e) {
			if s.want(e.Kind) {
				s.dropped.Add(1)
				b.dropped.Add(1)
			}
			continue
		}
		if s.want(e.Kind) && !b.send(s, e) {
			s.lost.Store(true)
		}
	}
}

// send hands e to s if its buffer has room, and counts it dropped if not.
func (b *Bus) send(s *sub, e Event) bool {
	select {
	case s.ch <- e:
		return true
	default:
		s.dropped.Add(1)
		b.dropped.Add(1)
		return false
	}
}

// tellLost hands s, which lost an event it wanted, a KindResync event (at
// e's time) if its buffer has room, and reports whether it did (or another
// publisher is doing it). One publisher takes the flag; an event of a
// concurrent publisher may land just before its resync, which is harmless:
// the resync still comes, and a reread covers that event too.
func (b *Bus) tellLost(s *sub, e Event) bool {
	if !s.lost.CompareAndSwap(true, false) {
		return true // another publisher told it
	}
	select {
	case s.ch <- Event{Seq: e.Seq, Time: e.Time, Kind: KindResync, Reason: "lost"}:
		return true
	default:
		s.lost.Store(true)
		return false
	}
}

// Dropped is how many events, over all subscribers, were not delivered
// because the subscriber's buffer was full (for /metrics).
func (b *Bus) Dropped() int64 { return b.dropped.Load() }

// Subscribe returns a channel of events buffered to buf and a cancel function
// that must be called to release it; the channel is closed by cancel.
func (b *Bus) Subscribe(buf int) (<-chan Event, func()) { return b.subscribe(buf, nil) }

// SubscribeKinds is Subscribe for a subscriber that acts on some kinds
// only: the bus hands it only the events whose kind want accepts, so it
// is not woken for the others (issue 18: every call event woke every
// subscriber). want is called by Publish, for every event, concurrently:
// it must be cheap and must not block.
//
// The Seq of the events it gets has gaps for the kinds it does not want,
// so a lost event is not told by a gap: when an event it wanted was
// dropped (its buffer was full), the bus hands it a KindResync event
// (Reason "lost", Seq and Time those of the event that found room for it)
// as soon as its buffer has room again, whatever kind is published next,
// and before the events published after that. KindResync is handed to it
// anyway if published.
func (b *Bus) SubscribeKinds(buf int, want func(kind string) bool) (<-chan Event, func()) {
	return b.subscribe(buf, func(kind string) bool { return kind == KindResync || want(kind) })
}

func (b *Bus) subscribe(buf int, want func(string) bool) (<-chan Event, func()) {
	if buf <= 0 {
		buf = 64
	}
	s := &sub{ch: make(chan Event, buf), want: want}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
			close(s.ch)
		})
	}
}

// Handle has f called with every event, in Publish (in the publisher's
// goroutine, before the event is handed to subscribers), until cancel is
// called: for a subscriber that only counts or notes an event, cheaper
// than a goroutine woken for each one, and it loses none. f is called
// concurrently by concurrent publishers; it must be quick, must not
// block, and must not call the bus (Publish, Subscribe, Handle or cancel).
func (b *Bus) Handle(f func(Event)) (cancel func()) {
	h := &handler{f: f}
	b.mu.Lock()
	b.handlers[h] = struct{}{}
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		delete(b.handlers, h)
		b.mu.Unlock()
	}
}

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
	seq     atomic.Int64
	dropped atomic.Int64 // events not delivered to a full subscriber, in all
	mu      sync.RWMutex
	subs    map[*sub]struct{}
}

type sub struct {
	ch      chan Event
	dropped atomic.Int64
}

// New returns an empty bus.
func New() *Bus { return &Bus{subs: make(map[*sub]struct{})} }

// Publish assigns e a sequence number (and time, if zero) and hands it to
// every subscriber without blocking.
func (b *Bus) Publish(e Event) {
	e.Seq = b.seq.Add(1)
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.subs {
		select {
		case s.ch <- e:
		default:
			s.dropped.Add(1)
			b.dropped.Add(1)
		}
	}
}

// Dropped is how many events, over all subscribers, were not delivered
// because the subscriber's buffer was full (for /metrics).
func (b *Bus) Dropped() int64 { return b.dropped.Load() }

// Subscribe returns a channel of events buffered to buf and a cancel function
// that must be called to release it; the channel is closed by cancel.
func (b *Bus) Subscribe(buf int) (<-chan Event, func()) {
	if buf <= 0 {
		buf = 64
	}
	s := &sub{ch: make(chan Event, buf)}
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

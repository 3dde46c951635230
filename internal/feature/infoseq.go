package feature

import (
	"sync"
	"time"
)

// infoHold is how long a request that arrived ahead of its CSeq turn waits
// for the ones before it. The missing request is normally only a goroutine
// behind (sipgo hands each message to its own goroutine); if it was lost
// on UDP its first retransmission comes after T1 (500 ms). After infoHold
// the held keys apply in CSeq order and whatever comes later is dropped.
const infoHold = 700 * time.Millisecond

// infoSeen bounds the memory of CSeqs already handled (duplicates), and
// infoMaxHeld how many requests wait for a gap to fill.
const (
	infoSeen    = 256
	infoMaxHeld = 32
)

// infoOrder applies SIP INFO key presses in CSeq order, once each.
//
// Requests within a dialog carry contiguous, increasing CSeq numbers (RFC
// 3261 section 12.2.1.1), but sipgo handles each in its own goroutine, so
// INFO 8 can reach the call before INFO 7 when a phone sends its INFOs
// without waiting for each 200. Every in-dialog request from the caller is
// noted (a re-INVITE or OPTIONS uses a number too); a key whose number is
// ahead of the next expected one is held until the gap fills or infoHold
// passes. A number seen before (a retransmission that reached us as a new
// request, or a replay) is dropped.
type infoOrder struct {
	apply func(rune) // called with mu held, in CSeq order; must not block
	hold  time.Duration

	mu    sync.Mutex
	next  uint32          // next CSeq expected; 0: take the first one seen
	held  map[uint32]rune // requests ahead of next; 0 = no key
	seen  map[uint32]bool // CSeqs handled, for duplicates
	timer *time.Timer     // flushes held after hold
}

func newInfoOrder(inviteCSeq uint32, apply func(rune)) *infoOrder {
	o := &infoOrder{apply: apply, hold: infoHold, held: map[uint32]rune{}, seen: map[uint32]bool{}}
	if inviteCSeq > 0 {
		o.next = inviteCSeq + 1
	}
	return o
}

// note takes the in-dialog request numbered cseq; key is its DTMF key, or
// 0 for a request that carries none. It reports false when the request is
// a duplicate or came too late to be used (its key is then dropped).
func (o *infoOrder) note(cseq uint32, key rune) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen[cseq] {
		return false
	}
	o.remember(cseq)
	switch {
	case o.next == 0 || cseq == o.next:
		o.deliver(cseq, key)
		o.drain()
	case cseq > o.next:
		o.held[cseq] = key
		if len(o.held) >= infoMaxHeld {
			o.flushLocked()
		} else if o.timer == nil {
			o.timer = time.AfterFunc(o.hold, o.flush)
		}
	default:
		// Below next and never seen: it was skipped after infoHold. Using
		// it now would put its key after keys typed later.
		if key != 0 {
			return false
		}
	}
	return true
}

func (o *infoOrder) deliver(cseq uint32, key rune) {
	if key != 0 {
		o.apply(key)
	}
	o.next = cseq + 1
}

// drain applies held requests that are now in turn.
func (o *infoOrder) drain() {
	for {
		key, ok := o.held[o.next]
		if !ok {
			break
		}
		delete(o.held, o.next)
		o.deliver(o.next, key)
	}
	if len(o.held) == 0 && o.timer != nil {
		o.timer.Stop()
		o.timer = nil
	}
}

// flush gives up on the gap: held requests apply in CSeq order.
func (o *infoOrder) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushLocked()
}

func (o *infoOrder) flushLocked() {
	if o.timer != nil {
		o.timer.Stop()
		o.timer = nil
	}
	for len(o.held) > 0 {
		lowest := uint32(0)
		for c := range o.held {
			if lowest == 0 || c < lowest {
				lowest = c
			}
		}
		o.next = lowest
		o.drain()
	}
}

// stop cancels a pending flush (the call ended).
func (o *infoOrder) stop() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.timer != nil {
		o.timer.Stop()
		o.timer = nil
	}
}

func (o *infoOrder) remember(cseq uint32) {
	if len(o.seen) >= infoSeen {
		for c := range o.seen {
			if c+infoSeen/2 < max(cseq, o.next) {
				delete(o.seen, c)
			}
		}
	}
	o.seen[cseq] = true
}

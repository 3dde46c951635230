package presence

import (
	"fmt"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk/internal/sipnotify"
)

// enqueueLocked queues a NOTIFY with the user's current state and starts
// the subscription's sender if idle. Each NOTIFY is full state, so when a
// subscriber falls behind the oldest queued ones are dropped.
func (p *Presence) enqueueLocked(s *subscription, final bool, reason string) {
	s.pending = append(s.pending, pending{calls: p.snapshotLocked(s.ext), final: final, reason: reason})
	if n := len(s.pending); n > maxPending {
		s.pending = append(s.pending[:0], s.pending[n-maxPending:]...)
	}
	if !s.sending && !p.closed {
		s.sending = true
		p.loop.WG.Add(1)
		go p.drain(s)
	}
}

// drain sends s's queued NOTIFYs one at a time, each after the previous
// one was answered, and exits when the queue is empty.
func (p *Presence) drain(s *subscription) {
	defer p.loop.WG.Done()
	for {
		p.mu.Lock()
		if len(s.pending) == 0 || p.loop.Base.Err() != nil {
			s.pending, s.sending = nil, false
			p.mu.Unlock()
			return
		}
		n := s.pending[0]
		s.pending = s.pending[1:]
		req := p.buildNotifyLocked(s, n)
		p.mu.Unlock()

		code, err := p.send(req)
		switch {
		case err != nil:
			p.terminate(s, "no answer: "+err.Error())
		case code == sip.StatusCallTransactionDoesNotExists:
			p.terminate(s, "481")
		case code >= 300:
			p.log.Info("presence: NOTIFY refused", "extension", s.ext, "device", s.device, "code", code)
		default:
			p.answered.Add(1)
		}
	}
}

// buildNotifyLocked makes the next in-dialog NOTIFY of s (RFC 6665 4.2.2):
// CSeq and version both advance by one per NOTIFY.
func (p *Presence) buildNotifyLocked(s *subscription, n pending) *sip.Request {
	s.cseq++
	version := s.version
	s.version++
	state := sipnotify.State(n.final, n.reason, s.expires.Sub(p.o.Now()))
	return s.Notify(s.cseq, "dialog", state, ContentType, dialogInfo(s.Local.String(), version, n.calls, s.Local.Host))
}

// send runs one NOTIFY transaction and returns the final status.
func (p *Presence) send(req *sip.Request) (int, error) {
	res, err := sipnotify.Send(p.loop.Base, p.o.SIP, req)
	if err != nil {
		return 0, fmt.Errorf("notify: %w", err)
	}
	return res.StatusCode, nil
}

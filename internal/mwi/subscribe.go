package mwi

import (
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/sipnotify"
)

// subscription is one message-summary subscription (RFC 6665 dialog) of a
// phone. Whose mailbox it reports is read at each NOTIFY from the phone's
// login, so it follows the user without the phone subscribing again.
type subscription struct {
	sipnotify.Dialog // Local is the SUBSCRIBE's Request-URI
	device           string

	mu      sync.Mutex // one NOTIFY at a time, in CSeq order
	cseq    uint32
	expires time.Time // guarded by Notifier.mu
}

// HandleSubscribe answers an out-of-dialog SUBSCRIBE for message-summary
// (presence hands it over by event package): the device is authenticated,
// and whatever account the Request-URI names, the subscription reports the
// mailbox of the user on that device.
func (n *Notifier) HandleSubscribe(req *sip.Request, tx sip.ServerTransaction) {
	if n.o.Auth == nil {
		sipnotify.Reply(req, tx, n.log, sip.StatusForbidden, "")
		return
	}
	dev, ok := n.o.Auth(req, tx)
	if !ok {
		return
	}
	exp, ok := n.bounds.Read(req, tx, n.log)
	if !ok {
		return
	}
	local := sip.Uri{Scheme: "sip", User: req.Recipient.User, Host: n.o.SIP.Domain()}
	if local.User == "" {
		local.User = dev.ID
	}
	d, ok := sipnotify.NewDialog(req, local, n.o.SIP.Contact(req.Transport()).Address)
	if !ok {
		sipnotify.Reply(req, tx, n.log, sip.StatusBadRequest, "Missing Contact or Tags")
		return
	}
	s := &subscription{Dialog: d, device: dev.ID}
	n.mu.Lock()
	old, _ := n.subs.Get(s.CallID)
	if exp > 0 && old == nil && (n.subs.LenUnder(s.device) >= maxPerDevice || n.subs.Len() >= maxSubscriptions) {
		n.mu.Unlock()
		n.log.Warn("mwi: subscription refused: too many", "device", s.device, "source", s.Dest)
		sipnotify.Reply(req, tx, n.log, sip.StatusForbidden, "Too Many Subscriptions From This Device")
		return
	}
	if exp > 0 && !n.closed {
		s.expires = n.o.Now().Add(time.Duration(exp) * time.Second)
		n.addLocked(s)
	} else if old != nil {
		n.removeLocked(old) // the phone unsubscribes without our tag
	}
	n.mu.Unlock()
	signaling.Send(tx, s.OK(req, exp), n.log)
	n.log.Info("mwi: subscribed", "device", s.device, "expires", exp, "source", s.Dest)
	if exp == 0 {
		// A one-shot fetch (RFC 6665 4.4.3): the state, then terminated.
		n.final(s, "timeout")
		return
	}
	n.Kick(s.device)
}

// HandleInDialog handles refreshes and unsubscribes of a subscription.
func (n *Notifier) HandleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	n.mu.Lock()
	s, d := n.subs.Get(req.CallID().Value())
	n.mu.Unlock()
	exp, ok := n.bounds.Refresh(req, tx, n.log, d, Event, Event)
	if !ok {
		return
	}
	n.mu.Lock()
	if exp == 0 {
		n.removeLocked(s)
	} else {
		s.expires = n.o.Now().Add(time.Duration(exp) * time.Second)
	}
	n.mu.Unlock()
	signaling.Send(tx, s.OK(req, exp), n.log)
	if exp == 0 {
		n.log.Info("mwi: unsubscribed", "device", s.device)
		n.final(s, "")
		return
	}
	n.Kick(s.device)
}

func (n *Notifier) addLocked(s *subscription) {
	if old, _ := n.subs.Get(s.CallID); old != nil {
		n.removeLocked(old)
	}
	n.subs.Add(s.device, s, n.o.SIP, n)
}

func (n *Notifier) removeLocked(s *subscription) { n.subs.Remove(s.device, s, n.o.SIP) }

// Subscriptions is the number of live subscriptions.
func (n *Notifier) Subscriptions() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.subs.Len()
}

// sweep ends expired subscriptions with a final NOTIFY (reason=timeout).
func (n *Notifier) sweep(now time.Time) {
	var gone []*subscription
	n.mu.Lock()
	for s := range n.subs.All() {
		if !s.expires.After(now) {
			n.removeLocked(s)
			gone = append(gone, s)
		}
	}
	closed := n.closed
	if !closed {
		n.loop.WG.Add(len(gone))
	}
	n.mu.Unlock()
	if closed {
		return
	}
	for _, s := range gone {
		go func() { defer n.loop.WG.Done(); n.final(s, "timeout") }()
	}
}

// final sends the terminating NOTIFY of s with the current state.
func (n *Notifier) final(s *subscription, reason string) {
	sum, err := n.SummaryOf(n.loop.Base, s.device)
	if err != nil {
		n.log.Warn("mwi: read state", "device", s.device, "err", err)
	}
	n.notifySub(s, sum.Body(n.account(sum, s.device)), true, reason)
}

// notifySub sends one NOTIFY in s's dialog (RFC 6665 4.2.2) and drops s
// when the phone says it is gone (481) or does not answer.
func (n *Notifier) notifySub(s *subscription, body []byte, final bool, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cseq++
	n.mu.Lock()
	left := s.expires.Sub(n.o.Now())
	n.mu.Unlock()
	req := s.Notify(s.cseq, Event, sipnotify.State(final, reason, left), ContentType, body)
	code, err := n.send(req)
	if err == nil && code != sip.StatusCallTransactionDoesNotExists {
		if code >= 300 {
			n.log.Info("mwi: NOTIFY refused", "device", s.device, "code", code)
		}
		return
	}
	n.mu.Lock()
	n.removeLocked(s)
	n.mu.Unlock()
	n.log.Info("mwi: subscription dropped", "device", s.device, "call_id", s.CallID, "code", code, "err", err)
}

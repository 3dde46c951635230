package mwi

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
)

// subscription is one message-summary subscription (RFC 6665 dialog) of a
// phone. Whose mailbox it reports is read at each NOTIFY from the phone's
// login, so it follows the user without the phone subscribing again.
type subscription struct {
	callID    string
	localTag  string
	remoteTag string
	local     sip.Uri // the SUBSCRIBE's Request-URI: From of our NOTIFYs
	remote    sip.Uri // subscriber's From address
	contact   sip.Uri // where NOTIFYs go
	ourURI    sip.Uri // our Contact
	dest      string  // source of the SUBSCRIBE (NAT-safe)
	transport string
	device    string

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
		n.reply(req, tx, sip.StatusForbidden, "")
		return
	}
	dev, ok := n.o.Auth(req, tx)
	if !ok {
		return
	}
	exp, ok := n.expires(req, tx)
	if !ok {
		return
	}
	c, from, cid := req.Contact(), req.From(), req.CallID()
	rtag, _ := from.Params.Get("tag")
	if c == nil || cid == nil || rtag == "" {
		n.reply(req, tx, sip.StatusBadRequest, "Missing Contact or Tags")
		return
	}
	s := &subscription{callID: cid.Value(), localTag: sip.GenerateTagN(16), remoteTag: rtag,
		local:  sip.Uri{Scheme: "sip", User: req.Recipient.User, Host: n.o.SIP.Domain()},
		remote: from.Address, contact: c.Address, dest: req.Source(), transport: req.Transport(), device: dev.ID,
		ourURI: n.o.SIP.Contact(req.Transport()).Address}
	if s.local.User == "" {
		s.local.User = dev.ID
	}
	n.mu.Lock()
	if exp > 0 && n.subs[s.callID] == nil && (len(n.byDev[s.device]) >= maxPerDevice || len(n.subs) >= maxSubscriptions) {
		n.mu.Unlock()
		n.log.Warn("mwi: subscription refused: too many", "device", s.device, "source", s.dest)
		n.reply(req, tx, sip.StatusForbidden, "Too Many Subscriptions From This Device")
		return
	}
	if exp > 0 && !n.closed {
		s.expires = n.o.Now().Add(time.Duration(exp) * time.Second)
		n.addLocked(s)
	} else if old := n.subs[s.callID]; old != nil {
		n.removeLocked(old) // the phone unsubscribes without our tag
	}
	n.mu.Unlock()
	signaling.Send(tx, n.okResponse(req, s, exp), n.log)
	n.log.Info("mwi: subscribed", "device", s.device, "expires", exp, "source", s.dest)
	if exp == 0 {
		// A one-shot fetch (RFC 6665 4.4.3): the state, then terminated.
		n.final(s, "timeout")
		return
	}
	n.Kick(s.device)
}

// HandleInDialog handles refreshes and unsubscribes of a subscription.
func (n *Notifier) HandleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	if req.IsAck() {
		return
	}
	if req.Method != sip.SUBSCRIBE {
		n.reply(req, tx, sip.StatusMethodNotAllowed, "", sip.NewHeader("Allow", "SUBSCRIBE"))
		return
	}
	n.mu.Lock()
	s := n.subs[req.CallID().Value()]
	n.mu.Unlock()
	totag, _ := req.To().Params.Get("tag")
	fromtag, _ := req.From().Params.Get("tag")
	if s == nil || totag != s.localTag || fromtag != s.remoteTag {
		n.reply(req, tx, sip.StatusCallTransactionDoesNotExists, "Subscription Does Not Exist")
		return
	}
	if pkg, _, _ := strings.Cut(trimValue(req.GetHeader("Event")), ";"); !strings.EqualFold(pkg, Event) {
		n.reply(req, tx, 489, "Bad Event", sip.NewHeader("Allow-Events", Event))
		return
	}
	exp, ok := n.expires(req, tx)
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
	signaling.Send(tx, n.okResponse(req, s, exp), n.log)
	if exp == 0 {
		n.log.Info("mwi: unsubscribed", "device", s.device)
		n.final(s, "")
		return
	}
	n.Kick(s.device)
}

// expires reads Expires, capped at MaxExpires; when it returns false it has
// answered 400 or 423.
func (n *Notifier) expires(req *sip.Request, tx sip.ServerTransaction) (int, bool) {
	exp := n.o.DefaultExpires
	if h := req.GetHeader("Expires"); h != nil {
		v, err := strconv.Atoi(trimValue(h))
		if err != nil || v < 0 {
			n.reply(req, tx, sip.StatusBadRequest, "Bad Expires")
			return 0, false
		}
		exp = v
	}
	if exp > 0 && exp < n.o.MinExpires {
		n.reply(req, tx, 423, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(n.o.MinExpires)))
		return 0, false
	}
	return min(exp, n.o.MaxExpires), true
}

func (n *Notifier) reply(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	res := signaling.NewResponse(req, code, hdrs...)
	if reason != "" {
		res.Reason = reason
	}
	signaling.Send(tx, res, n.log)
}

func (n *Notifier) okResponse(req *sip.Request, s *subscription, exp int) *sip.Response {
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	if to := res.To(); to != nil {
		to.Params.Remove("tag")
		to.Params.Add("tag", s.localTag)
	}
	res.AppendHeader(&sip.ContactHeader{Address: s.ourURI})
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(exp)))
	return res
}

func (n *Notifier) addLocked(s *subscription) {
	if old := n.subs[s.callID]; old != nil {
		n.removeLocked(old)
	}
	n.subs[s.callID] = s
	if n.byDev[s.device] == nil {
		n.byDev[s.device] = map[*subscription]struct{}{}
	}
	n.byDev[s.device][s] = struct{}{}
	n.o.SIP.AddDialog(s.callID, n)
}

func (n *Notifier) removeLocked(s *subscription) {
	if n.subs[s.callID] != s {
		return
	}
	delete(n.subs, s.callID)
	if m := n.byDev[s.device]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(n.byDev, s.device)
		}
	}
	n.o.SIP.RemoveDialog(s.callID)
}

// Subscriptions is the number of live subscriptions.
func (n *Notifier) Subscriptions() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.subs)
}

// sweep ends expired subscriptions with a final NOTIFY (reason=timeout).
func (n *Notifier) sweep(now time.Time) {
	var gone []*subscription
	n.mu.Lock()
	for _, s := range n.subs {
		if !s.expires.After(now) {
			n.removeLocked(s)
			gone = append(gone, s)
		}
	}
	closed := n.closed
	if !closed {
		n.wg.Add(len(gone))
	}
	n.mu.Unlock()
	if closed {
		return
	}
	for _, s := range gone {
		go func() { defer n.wg.Done(); n.final(s, "timeout") }()
	}
}

// final sends the terminating NOTIFY of s with the current state.
func (n *Notifier) final(s *subscription, reason string) {
	sum, err := n.SummaryOf(n.base, s.device)
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
	state := "terminated"
	if reason != "" {
		state += ";reason=" + reason
	}
	if !final {
		n.mu.Lock()
		left := int(s.expires.Sub(n.o.Now()).Seconds() + 0.5)
		n.mu.Unlock()
		state = "active;expires=" + strconv.Itoa(max(left, 0))
	}
	req := sip.NewRequest(sip.NOTIFY, s.contact)
	if s.dest != "" {
		req.SetDestination(s.dest)
	}
	if s.transport != "" {
		req.SetTransport(s.transport)
	}
	from := &sip.FromHeader{Address: s.local, Params: sip.NewParams()}
	from.Params.Add("tag", s.localTag)
	to := &sip.ToHeader{Address: s.remote, Params: sip.NewParams()}
	to.Params.Add("tag", s.remoteTag)
	callID := sip.CallIDHeader(s.callID)
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: s.cseq, MethodName: sip.NOTIFY})
	req.AppendHeader(&maxFwd)
	req.AppendHeader(&sip.ContactHeader{Address: s.ourURI})
	req.AppendHeader(sip.NewHeader("Event", Event))
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", ContentType))
	req.SetBody(body)
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
	n.log.Info("mwi: subscription dropped", "device", s.device, "call_id", s.callID, "code", code, "err", err)
}

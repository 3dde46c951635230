package presence

import (
	"context"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/deadlines"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/sipnotify"
)

// subscription is one dialog-event subscription: the dialog with the
// subscriber (RFC 6665 section 4.1.2) and the watched extension.
type subscription struct {
	sipnotify.Dialog // Local is sip:EXT@domain
	ext              string
	device           string // authenticated subscriber device, for logs

	// Guarded by Presence.mu.
	deadlines.Entry // in Presence.expiry while subscribed
	expires         time.Time
	version         int // next dialog-info version (RFC 4235: starts at 0)
	cseq            uint32
	pending         []pending
	sending         bool
}

// pending is one queued NOTIFY.
type pending struct {
	calls  []callState
	final  bool   // Subscription-State: terminated
	reason string // with final: "timeout", ""…
}

// allowEvents is the Allow-Events of a 489: dialog and the Packages.
func (p *Presence) allowEvents() string {
	allow := "dialog"
	for pkg := range p.o.Packages {
		allow += ", " + pkg
	}
	return allow
}

// onSubscribe handles an out-of-dialog SUBSCRIBE.
func (p *Presence) onSubscribe(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := req.To().Params.Get("tag"); ok {
		sipnotify.Reply(req, tx, p.log, sip.StatusCallTransactionDoesNotExists, "Subscription Does Not Exist")
		return
	}
	if h := p.o.Packages[sipnotify.EventPackage(req)]; h != nil {
		h(req, tx)
		return
	}
	if !sipnotify.CheckEvent(req, tx, p.log, "dialog", p.allowEvents()) {
		return
	}
	var dev *hotdesk.Device
	if p.o.Auth != nil {
		var ok bool
		if dev, ok = p.o.Auth(req, tx); !ok {
			return
		}
	}
	exp, ok := p.bounds.Read(req, tx, p.log)
	if !ok {
		return
	}
	ext := extensionOf(req)
	if _, err := p.o.Store.FindUser(context.Background(), ext); hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
		sipnotify.Reply(req, tx, p.log, sip.StatusNotFound, "Not Found")
		return
	} else if err != nil {
		p.log.Error("presence: find user", "extension", ext, "error", err)
		sipnotify.Reply(req, tx, p.log, signaling.ErrorStatus(err), "")
		return
	}
	s, ok := p.newSubscription(req, ext, dev)
	if !ok {
		sipnotify.Reply(req, tx, p.log, sip.StatusBadRequest, "Missing Contact or Tags")
		return
	}
	p.accept(req, tx, s, exp)
}

// newSubscription builds the dialog state from an initial SUBSCRIBE.
func (p *Presence) newSubscription(req *sip.Request, ext string, dev *hotdesk.Device) (*subscription, bool) {
	domain := p.o.Domain
	if domain == "" {
		domain = req.Recipient.Host
	}
	d, ok := sipnotify.NewDialog(req, sip.Uri{Scheme: "sip", User: ext, Host: domain},
		sip.Uri{Scheme: "sip", User: ext, Host: p.o.SIP.Hostname(), Port: p.sipPort(req.Transport())})
	if !ok {
		return nil, false
	}
	s := &subscription{Dialog: d, ext: ext}
	if dev != nil {
		s.device = dev.ID
	}
	return s, true
}

func (p *Presence) sipPort(transport string) int {
	if transport == "TCP" {
		if a := p.o.SIP.TCPAddr(); a != nil {
			return a.Port
		}
	}
	if a := p.o.SIP.UDPAddr(); a != nil {
		return a.Port
	}
	return 0
}

// accept answers 200 and sends the first NOTIFY. Expires 0 is a one-shot
// fetch (RFC 6665 4.4.3): the NOTIFY carries the state and terminates.
func (p *Presence) accept(req *sip.Request, tx sip.ServerTransaction, s *subscription, exp int) {
	lim := p.limits()
	p.mu.Lock()
	if exp > 0 && p.subs.Len() >= maxSubscriptions {
		p.mu.Unlock()
		p.log.Warn("presence: too many subscriptions", "extension", s.ext, "device", s.device)
		sipnotify.Reply(req, tx, p.log, sip.StatusServiceUnavailable, "Too Many Subscriptions")
		return
	}
	if exp > 0 {
		if code := p.overLimitLocked(s, lim); code != 0 {
			p.mu.Unlock()
			p.refuse(req, tx, s, code, lim)
			return
		}
	}
	s.expires = p.o.Now().Add(time.Duration(exp) * time.Second)
	if exp > 0 {
		p.addLocked(s)
	}
	p.mu.Unlock()
	signaling.Send(tx, s.OK(req, exp), p.log)
	p.log.Info("presence: subscribed", "extension", s.ext, "device", s.device, "expires", exp, "source", s.Dest)
	if p.o.Bus != nil && s.device != "" && exp > 0 { // the console's login pipeline: BLF subscribed
		p.o.Bus.Publish(events.Event{Kind: events.KindSubscribed, Device: s.device, Extension: s.ext})
	}
	p.mu.Lock()
	p.enqueueLocked(s, exp == 0, "timeout")
	p.mu.Unlock()
}

// HandleInDialog handles requests inside a subscription dialog: refreshes
// and unsubscribes (SUBSCRIBE with our To tag).
func (p *Presence) HandleInDialog(req *sip.Request, tx sip.ServerTransaction) {
	p.mu.Lock()
	s, d := p.subs.Get(req.CallID().Value())
	p.mu.Unlock()
	if exp, ok := p.bounds.Refresh(req, tx, p.log, d, "dialog", p.allowEvents()); ok {
		p.refresh(req, tx, s, exp)
	}
}

// refresh extends s, or ends it when exp is 0, and notifies the current state.
func (p *Presence) refresh(req *sip.Request, tx sip.ServerTransaction, s *subscription, exp int) {
	p.mu.Lock()
	if exp == 0 {
		p.removeLocked(s)
	} else {
		s.expires = p.o.Now().Add(time.Duration(exp) * time.Second)
		if s.Queued() {
			p.expiry.Set(s, s.expires)
		}
	}
	p.mu.Unlock()
	signaling.Send(tx, s.OK(req, exp), p.log)
	if exp == 0 {
		p.log.Info("presence: unsubscribed", "extension", s.ext, "device", s.device)
	}
	p.mu.Lock()
	p.enqueueLocked(s, exp == 0, "")
	p.mu.Unlock()
}

// limits returns the subscription caps, defaulted.
func (p *Presence) limits() hotdesk.LimitSettings {
	def := hotdesk.DefaultSettings().Limits
	if p.o.Limits == nil {
		return def
	}
	l := p.o.Limits()
	if l.SubscriptionsPerDevice <= 0 {
		l.SubscriptionsPerDevice = def.SubscriptionsPerDevice
	}
	if l.SubscriptionsPerExtension <= 0 {
		l.SubscriptionsPerExtension = def.SubscriptionsPerExtension
	}
	return l
}

// overLimitLocked returns the status refusing s when its device already
// holds SubscriptionsPerDevice subscriptions (403: that phone must stop) or
// its extension is watched SubscriptionsPerExtension times (503 with
// Retry-After: the cap bounds the NOTIFYs one call or login fans out to),
// else 0. A subscription that replaces its own Call-ID's is not counted
// twice.
func (p *Presence) overLimitLocked(s *subscription, lim hotdesk.LimitSettings) int {
	devN, extN := p.byDev[s.device], p.subs.LenUnder(s.ext)
	if old, _ := p.subs.Get(s.CallID); old != nil {
		if old.device == s.device {
			devN--
		}
		if old.ext == s.ext {
			extN--
		}
	}
	switch {
	case s.device != "" && devN >= lim.SubscriptionsPerDevice:
		return sip.StatusForbidden
	case extN >= lim.SubscriptionsPerExtension:
		return sip.StatusServiceUnavailable
	}
	return 0
}

// refuseRetryAfter is the Retry-After of a 503 for a watched extension at
// its cap.
const refuseRetryAfter = "300"

func (p *Presence) refuse(req *sip.Request, tx sip.ServerTransaction, s *subscription, code int, lim hotdesk.LimitSettings) {
	if code == sip.StatusForbidden {
		p.log.Warn("presence: subscription refused: device at its limit", "device", s.device,
			"extension", s.ext, "limit", lim.SubscriptionsPerDevice, "source", s.Dest)
		sipnotify.Reply(req, tx, p.log, sip.StatusForbidden, "Too Many Subscriptions From This Device")
		return
	}
	p.log.Warn("presence: subscription refused: extension at its limit", "device", s.device,
		"extension", s.ext, "limit", lim.SubscriptionsPerExtension, "source", s.Dest)
	sipnotify.Reply(req, tx, p.log, sip.StatusServiceUnavailable, "Too Many Subscriptions For This Extension",
		sip.NewHeader("Retry-After", refuseRetryAfter))
}

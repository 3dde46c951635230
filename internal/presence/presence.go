// Package presence serves BLF: SUBSCRIBE with "Event: dialog" for an
// extension creates a subscription (RFC 6665) and the subscriber receives
// RFC 4235 dialog-info NOTIFYs for that user's calls, whichever phone the
// user is logged in on. Call progress comes from the event bus (call_*
// events published by the B2BUA, keyed by extension, not by device), so a
// lamp follows the user when they roam, and a subscription belongs to the
// subscribing phone's dialog, so it survives that phone changing its user.
//
// Subscriptions live in memory: one map, one expiry heap swept by one
// ticker, and a sender goroutine per subscription only while it has
// NOTIFYs in flight (each waits for the previous one's answer, so CSeq and
// version order hold). After a PBX restart refreshes get 481 and phones
// subscribe anew.
package presence

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/deadlines"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/sipnotify"
)

// Bus kinds this package consumes.
const (
	kindTrying     = events.KindCallTrying
	kindEarly      = events.KindCallEarly
	kindConfirmed  = events.KindCallConfirmed
	kindTerminated = events.KindCallTerminated
)

// Limits.
const (
	maxSubscriptions = 100_000
	maxPending       = 8              // queued NOTIFYs per subscription; older full-state ones are dropped
	maxCallAge       = 24 * time.Hour // call states never terminated are dropped
)

// Store is what presence needs of the store: a SUBSCRIBE's extension must
// exist. hotdesk.Store has it.
type Store interface {
	FindUser(ctx context.Context, ext string) (*hotdesk.User, error)
}

// Options configure Presence. Zero values take the defaults noted.
type Options struct {
	Store Store             // required: extensions are looked up
	Bus   *events.Bus       // call events; nil: lamps never change
	SIP   *signaling.Server // required: NOTIFYs are sent through its client
	// Auth authenticates an out-of-dialog SUBSCRIBE (registrar.Authenticate);
	// when it returns false it has answered (407 or 403). Nil accepts all.
	Auth   func(req *sip.Request, tx sip.ServerTransaction) (*hotdesk.Device, bool)
	Logger *slog.Logger  // default slog.Default()
	Now    hotdesk.Clock // default time.Now
	// MinExpires (default 60) and MaxExpires (default 3600) bound the
	// subscription duration: shorter requests get 423, longer are capped.
	MinExpires, MaxExpires int
	// DefaultExpires applies when SUBSCRIBE has no Expires (RFC 4235: 3600).
	DefaultExpires int
	// Domain is the host of entity URIs (sip:EXT@Domain); default the
	// SUBSCRIBE's Request-URI host.
	Domain string
	// Limits returns the site's caps on subscriptions per subscribing
	// device and per watched extension (Settings.Limits); nil or zero
	// fields take hotdesk.DefaultSettings().
	Limits func() hotdesk.LimitSettings
	// Packages hands SUBSCRIBEs of other event packages (message-summary:
	// internal/mwi) to their handler; others get 489.
	Packages map[string]func(req *sip.Request, tx sip.ServerTransaction)
}

// Presence holds the dialog-event subscriptions. Safe for concurrent use.
type Presence struct {
	o      Options
	bounds sipnotify.Expiry // o's, defaulted
	log    *slog.Logger
	loop   *sipnotify.Loop // the sweep's ticks; its Base aborts NOTIFYs in flight when Run returns
	// stopEvents ends the bus handler (onEvent, called in Publish from
	// New until Run returns; issue 18: a goroutine woken for every call
	// event cost more than the map updates it made).
	stopEvents func()

	mu     sync.Mutex
	subs   sipnotify.Subs[*subscription] // filed by watched extension
	byDev  map[string]int                // live subscriptions per authenticated device
	expiry deadlines.Heap[*subscription]
	calls  map[string]map[string]*callState // extension → Call-ID → state
	seq    int
	closed bool // Run has returned: no more NOTIFYs

	answered atomic.Int64 // NOTIFYs answered with 2xx
}

// New checks o and returns an idle Presence; Register and Run start it.
func New(o Options) (*Presence, error) {
	if o.Store == nil || o.SIP == nil {
		return nil, errors.New("presence: Store and SIP are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	p := &Presence{o: o, log: o.Logger, loop: sipnotify.NewLoop(nil), stopEvents: func() {},
		bounds: sipnotify.Expiry{Min: o.MinExpires, Max: o.MaxExpires, Default: o.DefaultExpires}.Defaulted(),
		byDev:  map[string]int{}, calls: map[string]map[string]*callState{}}
	if o.Bus != nil {
		// onEvent only updates maps under p.mu and starts a drain
		// goroutine when a watcher has none: quick, and it publishes
		// nothing, as a handler must.
		p.stopEvents = o.Bus.Handle(p.onEvent)
	}
	return p, nil
}

// Register installs the out-of-dialog SUBSCRIBE handler.
func (p *Presence) Register(srv *signaling.Server) {
	srv.Handle(sip.SUBSCRIBE, p.onSubscribe)
}

// Run expires subscriptions until ctx is done, then stops following call
// events (followed since New) and waits for NOTIFYs in flight (aborting
// them).
func (p *Presence) Run(ctx context.Context) error {
	return p.loop.Run(ctx, func(context.Context, events.Event) {},
		func() { p.sweep(p.o.Now()) },
		func() { p.mu.Lock(); p.closed = true; p.mu.Unlock(); p.stopEvents() })
}

// Subscriptions is the number of live subscriptions.
func (p *Presence) Subscriptions() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.subs.Len()
}

// Answered is how many NOTIFYs were answered with 2xx (tests, metrics).
func (p *Presence) Answered() int64 { return p.answered.Load() }

// onEvent applies a call event to the user's state and notifies the
// user's watchers.
func (p *Presence) onEvent(e events.Event) {
	st := stateOf(e.Kind)
	if st == "" || e.Extension == "" || e.CallID == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	calls := p.calls[e.Extension]
	if calls == nil {
		calls = map[string]*callState{}
		p.calls[e.Extension] = calls
	}
	c := calls[e.CallID]
	if c == nil {
		p.seq++
		c = &callState{ID: e.CallID, seq: p.seq}
		calls[e.CallID] = c
	}
	c.State, c.updated = st, p.o.Now()
	if e.Direction != "" {
		c.Direction = e.Direction
	}
	if e.Peer != "" {
		c.Peer = e.Peer
	}
	for s := range p.subs.Under(e.Extension) {
		p.enqueueLocked(s, false, "")
	}
	if st == StateTerminated {
		delete(calls, e.CallID)
		if len(calls) == 0 {
			delete(p.calls, e.Extension)
		}
	}
}

// snapshotLocked copies the user's calls for one NOTIFY.
func (p *Presence) snapshotLocked(ext string) []callState {
	var out []callState
	for _, c := range p.calls[ext] {
		out = append(out, *c)
	}
	return out
}

// sweep ends expired subscriptions (final NOTIFY with reason=timeout) and
// forgets calls that never ended.
func (p *Presence) sweep(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		s, ok := p.expiry.PopDue(now)
		if !ok {
			break
		}
		p.removeLocked(s)
		p.enqueueLocked(s, true, "timeout")
	}
	for ext, calls := range p.calls {
		for id, c := range calls {
			if now.Sub(c.updated) > maxCallAge {
				delete(calls, id)
			}
		}
		if len(calls) == 0 {
			delete(p.calls, ext)
		}
	}
}

// addLocked starts tracking s.
func (p *Presence) addLocked(s *subscription) {
	if old, _ := p.subs.Get(s.CallID); old != nil {
		p.removeLocked(old)
	}
	p.subs.Add(s.ext, s, p.o.SIP, p)
	if s.device != "" {
		p.byDev[s.device]++
	}
	p.expiry.Set(s, s.expires)
}

// removeLocked stops tracking s (its queued NOTIFYs still go out).
func (p *Presence) removeLocked(s *subscription) {
	if !p.subs.Remove(s.ext, s, p.o.SIP) {
		return
	}
	if s.device != "" {
		if p.byDev[s.device]--; p.byDev[s.device] <= 0 {
			delete(p.byDev, s.device)
		}
	}
	p.expiry.Remove(s)
}

// terminate drops s after its NOTIFY failed (481 or timeout, RFC 6665
// 4.2.2): no final NOTIFY, the subscriber is gone.
func (p *Presence) terminate(s *subscription, why string) {
	p.mu.Lock()
	p.removeLocked(s)
	s.pending = nil
	p.mu.Unlock()
	p.log.Info("presence: subscription dropped", "extension", s.ext, "device", s.device, "call_id", s.CallID, "reason", why)
}

// extensionOf is the Request-URI user, unescaped (%2A is *).
func extensionOf(req *sip.Request) string {
	u := req.Recipient.User
	if v, err := url.PathUnescape(u); err == nil {
		u = v
	}
	return u
}

// Package b2bua connects calls the way the hot desk state says (SPEC
// section 4, issue 4): a call to an extension rings, in parallel, every
// contact of the phone the user is logged in on and the user's personal
// phones; calls from a phone carry the logged-in user's identity and obey
// that user's outbound permission; neutral hot desk phones reach only
// emergency numbers (feature codes are answered by internal/feature before
// this package is asked); emergency calls carry the desk's civic location as
// PIDF-LO (RFC 6442); a SIP trunk takes external calls out and brings DIDs
// in. The PBX is a back-to-back user agent; media flows directly between
// the phones (SDP passes through unchanged) unless the call is anchored in
// the relay (anchor.go: a phone behind NAT, another network, --media).
//
// One goroutine — the one sipgo runs the INVITE handler in — owns each
// call from INVITE to the last BYE. In-dialog requests of every leg (routed
// by Call-ID through signaling.Server.AddDialog) and the outcome of every
// outgoing leg are handed to that goroutine over one channel, so each
// dialog's messages are processed in order even though sipgo delivers them
// concurrently.
package b2bua

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/media/prompts"
	"github.com/hotdesk-pbx/hotdesk/internal/relay"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
)

// Defaults.
const (
	DefaultRingTimeout = 30 * time.Second // per user, when User.RingTimeout is 0
	// DefaultMaxCallDuration bounds a connected call.
	DefaultMaxCallDuration = 12 * time.Hour
	// MaxOutboundRing bounds how long an outgoing trunk call may ring.
	MaxOutboundRing = 3 * time.Minute
	// byeTimeout bounds each BYE and relayed in-dialog request.
	byeTimeout = 10 * time.Second
	// lookupTimeout bounds the store reads made while routing an INVITE.
	lookupTimeout = 5 * time.Second
)

// Options configures a B2BUA. Store, Desk, SIP, Contacts and Settings are
// required.
type Options struct {
	Store    Store
	Desk     *desk.Service
	Bus      *events.Bus // call events (BLF, console); nil: none
	SIP      *signaling.Server
	Contacts func(device string) []hotdesk.Binding // registrar.Contacts
	// Settings returns the site settings (cached by the caller).
	Settings func(ctx context.Context) hotdesk.Settings
	// SettingsGen is the generation of Settings' copy and whether it
	// follows the bus (settings.Cache.Gen). Nil: NotFromTrunk is never sure.
	SettingsGen func() (gen uint64, ok bool)
	// Prompts loads one language's prompts for announcements (neutral
	// phone, not allowed). Nil: refusals are a bare 403.
	Prompts func(lang string) (*prompts.Set, error)
	Ports   *media.PortPool // RTP ports for announcements; nil: no announcements
	MediaIP string          // address announcements' RTP binds to; default 127.0.0.1
	// Domain is the host part of the PBX's own From/To URIs (the SIP
	// domain); default the signaling hostname.
	Domain string
	Logger *slog.Logger
	Now    hotdesk.Clock // nil = time.Now
	// RingTimeout is the no-answer timeout for users without their own;
	// zero means DefaultRingTimeout.
	RingTimeout time.Duration
	// MaxCallDuration hangs up calls that last longer (both sides get a
	// BYE); zero means DefaultMaxCallDuration.
	MaxCallDuration time.Duration
	// RegisterRetry is how long the trunk registration waits after a
	// failure; zero means 30 s.
	RegisterRetry time.Duration
	// Nodes are the other PBX nodes on the same database; a callee's phone
	// registered with one of them is rung through it. Nil: one node.
	Nodes Nodes
	// Voicemail takes the calls to users with voicemail that would end
	// in 486, 480 or 603 (busy, no answer, logged in nowhere, declined).
	// Nil: those answers go to the caller as before.
	Voicemail Voicemail
	// Relay anchors calls' media (issue 15); nil: media always direct.
	Relay *relay.Relay
	// Media is when calls are anchored: MediaAuto (default), MediaAnchor
	// or MediaDirect.
	Media string
	// Emergency locates emergency callers, alerts on site and keeps the
	// callback window (internal/emergency). Nil: the desk's address, the
	// default trunk, an audit row and no alerts.
	Emergency Emergency
}

// B2BUA routes and bridges calls. Safe for concurrent use.
type B2BUA struct {
	o   Options
	log *slog.Logger

	mu     sync.Mutex
	calls  map[string]*call // by the caller's Call-ID
	inCall map[string]int   // device → calls it takes part in
	quit   chan struct{}    // closed when Run returns: calls hang up
	quitMu sync.Once

	reg trunkRegState

	rec     *recorder // call records, written behind the calls
	touches *toucher  // call activity on logins, recorded behind the calls
	cache   *partyCache

	trunkSeen atomic.Pointer[trunkSeen] // the trunk's addresses FromTrunk read last
}

// LiveCall is a call in progress, for GET /api/v1/calls.
type LiveCall struct {
	CallID    string    `json:"call_id"`
	From      string    `json:"from"`      // caller's extension or number
	To        string    `json:"to"`        // dialled number
	Extension string    `json:"extension"` // the user the call belongs to (callee for inbound trunk calls)
	Device    string    `json:"device"`    // caller's device, or the answering device of an inbound trunk call
	State     string    `json:"state"`     // trying, early, confirmed
	Since     time.Time `json:"since"`
}

// New checks o and returns a B2BUA.
func New(o Options) (*B2BUA, error) {
	if o.Store == nil || o.Desk == nil || o.SIP == nil || o.Contacts == nil || o.Settings == nil {
		return nil, errors.New("b2bua: Store, Desk, SIP, Contacts and Settings are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RingTimeout <= 0 {
		o.RingTimeout = DefaultRingTimeout
	}
	if o.MediaIP == "" {
		o.MediaIP = "127.0.0.1"
	}
	if o.MaxCallDuration <= 0 {
		o.MaxCallDuration = DefaultMaxCallDuration
	}
	if o.RegisterRetry <= 0 {
		o.RegisterRetry = 30 * time.Second
	}
	b := &B2BUA{o: o, log: o.Logger, calls: map[string]*call{}, inCall: map[string]int{}, quit: make(chan struct{})}
	b.rec = newRecorder(o.Store, o.Logger)
	b.touches = newToucher(o.Desk.Touch, o.Logger)
	b.cache = newPartyCache()
	return b, nil
}

// Run keeps the trunk registered (when the settings ask for it) and writes
// the calls' records and activity until ctx is done, then hangs up the
// calls in progress and waits for them to end.
func (b *B2BUA) Run(ctx context.Context) error {
	// The writers outlive ctx: they stop once the calls have ended, after
	// writing what those calls left.
	writers, stopWriters := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); b.rec.run(writers) }()
	go func() { defer wg.Done(); b.touches.run(writers) }()
	if b.o.Bus != nil {
		wg.Add(1)
		go func() { defer wg.Done(); b.cache.watch(ctx, b.o.Bus) }()
	}
	defer wg.Wait()
	defer stopWriters()
	b.registerLoop(ctx)
	b.quitMu.Do(func() { close(b.quit) })
	deadline := time.NewTimer(2 * byeTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for b.Active() > 0 {
		select {
		case <-deadline.C:
			b.log.Warn("b2bua: calls still up at shutdown", "calls", b.Active())
			return nil
		case <-tick.C:
		}
	}
	return nil
}

// Active is the number of calls in progress.
func (b *B2BUA) Active() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.calls)
}

// Live lists the calls in progress, oldest first.
func (b *B2BUA) Live() []LiveCall {
	b.mu.Lock()
	calls := make([]*call, 0, len(b.calls))
	for _, c := range b.calls {
		calls = append(calls, c)
	}
	b.mu.Unlock()
	out := make([]LiveCall, 0, len(calls))
	for _, c := range calls {
		if !c.hop { // the calling node lists it
			out = append(out, c.live())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	return out
}

// InCall reports whether device takes part in a call (for the desk
// service's Options.InCall: an auto-logout waits for the call to end).
func (b *B2BUA) InCall(device string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inCall[device] > 0
}

func (b *B2BUA) addCall(c *call) {
	b.mu.Lock()
	b.calls[c.id] = c
	b.mu.Unlock()
}

func (b *B2BUA) removeCall(c *call) {
	b.mu.Lock()
	delete(b.calls, c.id)
	b.mu.Unlock()
}

// deviceBusy counts device in (delta 1) or out (delta -1) of a call. When
// the device's last call ends the desk service may run a deferred
// auto-logout.
func (b *B2BUA) deviceBusy(device string, delta int) {
	if device == "" {
		return
	}
	b.mu.Lock()
	b.inCall[device] += delta
	n := b.inCall[device]
	if n <= 0 {
		delete(b.inCall, device)
	}
	b.mu.Unlock()
	if delta < 0 && n <= 0 {
		ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
		defer cancel()
		if err := b.o.Desk.CallEnded(ctx, device); err != nil {
			b.log.Warn("b2bua: call ended on desk", "device", device, "err", err)
		}
	}
}

// touch records call activity on device's login (idle auto-logout), soon
// (toucher).
func (b *B2BUA) touch(device string) {
	if device != "" {
		b.touches.put(device)
	}
}

func (b *B2BUA) publish(e events.Event) {
	if b.o.Bus != nil {
		if e.Time.IsZero() {
			e.Time = b.o.Now()
		}
		b.o.Bus.Publish(e)
	}
}

// domain is the host of the PBX's own URIs.
func (b *B2BUA) domain() string {
	if b.o.Domain != "" {
		return b.o.Domain
	}
	return b.o.SIP.Hostname()
}

// contact is the PBX's Contact on transport ("udp", "tcp" or "tls").
func (b *B2BUA) contact(transport string) sip.ContactHeader { return b.o.SIP.Contact(transport) }

// dialogUA is a sipgo dialog helper whose Contact matches transport.
// RewriteContact sends in-dialog requests to the address the peer's
// messages came from, so phones behind NAT are reached.
func (b *B2BUA) dialogUA(transport string) *sipgo.DialogUA {
	return &sipgo.DialogUA{Client: b.o.SIP.Client, ContactHDR: b.contact(transport), RewriteContact: true}
}

// promptSet loads the site-language prompts, falling back to English.
func (b *B2BUA) promptSet(lang string) (*prompts.Set, error) {
	if b.o.Prompts == nil {
		return nil, errors.New("b2bua: no prompts")
	}
	if lang == "" {
		lang = "en"
	}
	set, err := b.o.Prompts(lang)
	if err != nil && lang != "en" {
		set, err = b.o.Prompts("en")
	}
	return set, err
}

// uniqueBindings drops repeated contacts (a device listed twice).
func uniqueBindings(bs []hotdesk.Binding) []hotdesk.Binding {
	var out []hotdesk.Binding
	for _, x := range bs {
		if !slices.ContainsFunc(out, func(y hotdesk.Binding) bool { return y.Device == x.Device && y.Contact == x.Contact }) {
			out = append(out, x)
		}
	}
	return out
}

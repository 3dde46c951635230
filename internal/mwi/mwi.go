// Package mwi lights the message-waiting lamp (RFC 3842, Event:
// message-summary) of the phone a user is at. The lamp belongs to the
// user, not the phone: a phone reports the mailbox of whoever is logged in
// on it (or of its owner, for a personal phone), so a login lights the new
// desk, and a logout, roam or replacement darkens the old one.
//
// Phones learn the state two ways. A phone that subscribes (SUBSCRIBE
// Event: message-summary, digest-authenticated like every request of a
// device) gets NOTIFYs in that subscription's dialog; a phone that does not
// gets unsolicited NOTIFYs at its registered contacts, which Snom, Yealink,
// Grandstream and most others act on. Changes come from the event bus
// (login, logout, registered, device_changed, voicemail), local and from
// other nodes alike, and each node notifies only the phones registered with
// it, so with several nodes every phone is told once.
package mwi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/sipnotify"
)

// Event is the SIP event package, ContentType the NOTIFY body's type.
const (
	Event       = "message-summary"
	ContentType = "application/simple-message-summary"
)

// Limits.
const (
	maxInFlight = 512 // device workers at once; more are skipped and logged
	// A phone needs one message-summary subscription (a few with several
	// lines); more from one device are refused, so a broken or hostile
	// phone cannot grow memory without bound.
	maxPerDevice     = 4
	maxSubscriptions = 100_000
)

// Counts is what MWI needs of the mailbox store (hotdesk.VoicemailStore
// has it): the user's new and saved message counts.
type Counts interface {
	VoicemailCounts(ctx context.Context, ext string) (newCount, oldCount int, err error)
}

// Store is what MWI needs of the store to find whose mailbox a phone shows
// and where a user is.
type Store interface {
	LoginByUser(ctx context.Context, ext string) (*hotdesk.Login, error)
	LoginByDevice(ctx context.Context, device string) (*hotdesk.Login, error)
	FindDevice(ctx context.Context, id string) (*hotdesk.Device, error)
	FindDevices(ctx context.Context, f hotdesk.DeviceFilter) ([]*hotdesk.Device, int, error)
}

// MailboxStore reads in one query what SummaryOf reads in up to three
// (LoginByDevice, FindDevice, VoicemailCounts): the extension whose
// mailbox device shows ("" for none) and its counts. The SQL stores have
// it; SummaryOf uses it when Store has it and is Counts too (one
// database answers both).
type MailboxStore interface {
	DeviceMailbox(ctx context.Context, device string) (ext string, newCount, oldCount int, err error)
}

// LitStore lists the phones whose lamp shows new messages (the SQL stores
// have it). After the notifier missed events (a registration flood overran
// its queue: events.KindResync) it kicks those phones again, so a phone
// that came up meanwhile with messages waiting is lit; without it such a
// phone stays dark until its mailbox next changes.
type LitStore interface {
	LitDevices(ctx context.Context) ([]string, error)
}

// Options configure a Notifier. Store, Counts and SIP are required.
type Options struct {
	Store    Store
	Counts   Counts
	Bus      *events.Bus
	SIP      *signaling.Server
	Contacts func(device string) []hotdesk.Binding // this node's live registrations (registrar.Contacts)
	Node     string                                // this node's name; bindings of other nodes are skipped
	// Auth authenticates an out-of-dialog SUBSCRIBE (registrar.Authenticate);
	// when it returns false it has answered (407 or 403). Required to accept
	// subscriptions: the subscriber's device decides whose mailbox it sees.
	Auth   func(req *sip.Request, tx sip.ServerTransaction) (*hotdesk.Device, bool)
	Logger *slog.Logger
	Now    hotdesk.Clock
	// MinExpires (default 60), MaxExpires (default 3600) and DefaultExpires
	// (RFC 3842 suggests 3600) bound subscriptions.
	MinExpires, MaxExpires, DefaultExpires int
}

// Summary is the state one phone shows.
type Summary struct {
	Extension string // the user whose mailbox it is; "" for a neutral phone
	New, Old  int
}

// Body is the RFC 3842 simple-message-summary body for account (a SIP URI).
func (s Summary) Body(account string) []byte {
	waiting := "no"
	if s.New > 0 {
		waiting = "yes"
	}
	return fmt.Appendf(nil, "Messages-Waiting: %s\r\nMessage-Account: %s\r\nVoice-Message: %d/%d (0/0)\r\n",
		waiting, account, s.New, s.Old)
}

// Notifier sends message-summary NOTIFYs. Run drives it.
type Notifier struct {
	o      Options
	bounds sipnotify.Expiry // o's, defaulted
	log    *slog.Logger
	loop   *sipnotify.Loop // the bus; its Base aborts NOTIFYs in flight when Run returns

	mu      sync.Mutex
	workers map[string]*worker            // device → its NOTIFY worker while one runs
	subs    sipnotify.Subs[*subscription] // filed by device
	closed  bool
	// deferred are the kicks that found maxInFlight workers running
	// (device → always), started by the next ticks as workers end;
	// relight says events were lost, so the next tick also kicks every
	// lit phone (LitStore).
	deferred map[string]bool
	relight  bool

	sent atomic.Int64 // NOTIFYs answered 2xx

	mailbox MailboxStore // Store, when it has DeviceMailbox and is Counts too
	lit     LitStore     // Store, when it has LitDevices
}

// worker serialises one device's NOTIFYs: again says state changed while
// it was sending, so it reads the state once more before it stops; always
// says the next round notifies whatever the state (else only a lit lamp).
type worker struct{ again, always bool }

// New checks o and returns an idle Notifier; Register and Run start it.
func New(o Options) (*Notifier, error) {
	if o.Store == nil || o.Counts == nil || o.SIP == nil {
		return nil, errors.New("mwi: Store, Counts and SIP are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	n := &Notifier{o: o, log: o.Logger, loop: sipnotify.NewLoopKinds(o.Bus, lampKind),
		bounds:  sipnotify.Expiry{Min: o.MinExpires, Max: o.MaxExpires, Default: o.DefaultExpires}.Defaulted(),
		workers: map[string]*worker{}, deferred: map[string]bool{}}
	if m, ok := o.Store.(MailboxStore); ok && sameValue(o.Store, o.Counts) {
		n.mailbox = m
	}
	n.lit, _ = o.Store.(LitStore)
	return n, nil
}

// sameValue reports whether a and b are the same (comparable) value.
func sameValue(a, b any) bool {
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta != nil && ta.Comparable() && a == b
}

// Sent is how many NOTIFYs were answered with 2xx (tests, metrics).
func (n *Notifier) Sent() int64 { return n.sent.Load() }

// Run follows the bus and expires subscriptions until ctx is done, then
// aborts and waits for the NOTIFYs in flight.
func (n *Notifier) Run(ctx context.Context) error {
	return n.loop.Run(ctx, func(ctx context.Context, e events.Event) {
		// A phone that registers anew (rebooted, re-provisioned) comes up
		// with its lamp off: it is told only when there are new messages
		// to light it, so a flood of registrations (and phones that take
		// no NOTIFY) hears nothing otherwise.
		if e.Kind == events.KindResync {
			// Events this notifier wanted were dropped (its queue was
			// full) or other nodes' may have been missed: registrations
			// among them, whose phones may have come up dark.
			n.mu.Lock()
			n.relight = true
			n.mu.Unlock()
			return
		}
		always := e.Kind != hotdesk.KindRegistered
		for _, d := range n.devicesOf(ctx, e) {
			n.kick(d, always)
		}
	}, func() { n.sweep(n.o.Now()); n.catchUp(n.loop.Base) }, func() { n.mu.Lock(); n.closed = true; n.mu.Unlock() })
}

// catchUp runs every second: after lost events (relight) it adds every
// lit phone to the deferred kicks, then starts as many of those as
// maxInFlight allows; the rest wait for the next second. A flood of
// registrations (thousands of phones back after a power cut) thus lights
// every lamp that has messages waiting, a few hundred phones at a time,
// instead of skipping those beyond the limit.
func (n *Notifier) catchUp(ctx context.Context) {
	n.mu.Lock()
	relight := n.relight
	n.relight = false
	n.mu.Unlock()
	var lit []string
	if relight && n.lit != nil {
		var err error
		if lit, err = n.lit.LitDevices(ctx); err != nil {
			n.log.Warn("mwi: read the lit lamps after lost events", "err", err)
			n.mu.Lock()
			n.relight = ctx.Err() == nil // again next second
			n.mu.Unlock()
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	for _, d := range lit {
		if _, ok := n.deferred[d]; !ok {
			n.deferred[d] = false
		}
	}
	for d, always := range n.deferred {
		if !n.startLocked(d, always) {
			break
		}
		delete(n.deferred, d)
	}
	if len(n.deferred) > 0 {
		n.log.Info("mwi: phones waiting for their lamp's NOTIFY", "waiting", len(n.deferred), "in_flight", len(n.workers))
	}
}

// lampKind reports whether events of kind may change a lamp (devicesOf
// names phones for them): the loop subscribes to those only.
func lampKind(kind string) bool {
	switch kind {
	case hotdesk.KindLogin, hotdesk.KindLogout, hotdesk.KindDeviceChanged, hotdesk.KindRegistered, hotdesk.KindVoicemail:
		return true
	}
	return false
}

// devicesOf returns the phones whose lamp e may change.
func (n *Notifier) devicesOf(ctx context.Context, e events.Event) []string {
	switch e.Kind {
	case hotdesk.KindLogin, hotdesk.KindLogout, hotdesk.KindDeviceChanged:
		if e.Device != "" {
			return []string{e.Device}
		}
	case hotdesk.KindRegistered:
		if e.Device != "" && !e.Remote() { // only by its node
			return []string{e.Device}
		}
	case hotdesk.KindVoicemail:
		if e.Extension != "" {
			return n.devicesOfUser(ctx, e.Extension)
		}
	}
	return nil
}

// devicesOfUser is the desk ext is logged in on plus ext's personal phones.
func (n *Notifier) devicesOfUser(ctx context.Context, ext string) []string {
	var out []string
	if l, err := n.o.Store.LoginByUser(ctx, ext); err == nil {
		out = append(out, l.Device)
	} else if hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		n.log.Warn("mwi: find login", "extension", ext, "err", err)
	}
	ds, _, err := n.o.Store.FindDevices(ctx, hotdesk.DeviceFilter{Owner: ext, Mode: hotdesk.ModePersonal})
	if err != nil {
		n.log.Warn("mwi: find personal phones", "extension", ext, "err", err)
	}
	for _, d := range ds {
		if d.Mode == hotdesk.ModePersonal && d.Owner == ext && !slices.Contains(out, d.ID) {
			out = append(out, d.ID)
		}
	}
	return out
}

// SummaryOf reads the state device shows now: the mailbox of the user
// logged in on it, else of its owner when it is a personal phone, else
// none (the lamp off).
func (n *Notifier) SummaryOf(ctx context.Context, device string) (Summary, error) {
	var s Summary
	if n.mailbox != nil {
		// Every login and logout reads a lamp: one read, not three. The
		// SQL store on SQLite reads it on its reader goroutine, with the
		// other lamps and PIN prejudges queued meanwhile in one read
		// transaction (sqlstore/reader.go).
		ext, nw, old, err := n.mailbox.DeviceMailbox(ctx, device)
		if err != nil {
			return s, fmt.Errorf("mwi: mailbox of %s: %w", device, err)
		}
		return Summary{Extension: ext, New: nw, Old: old}, nil
	}
	l, err := n.o.Store.LoginByDevice(ctx, device)
	switch {
	case err == nil:
		s.Extension = l.Extension
	case hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND:
		return s, fmt.Errorf("mwi: login of %s: %w", device, err)
	default:
		d, err := n.o.Store.FindDevice(ctx, device)
		if err != nil && hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
			return s, fmt.Errorf("mwi: device %s: %w", device, err)
		}
		if d != nil && d.Mode == hotdesk.ModePersonal {
			s.Extension = d.Owner
		}
	}
	if s.Extension == "" {
		return s, nil
	}
	s.New, s.Old, err = n.o.Counts.VoicemailCounts(ctx, s.Extension)
	if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
		return Summary{Extension: s.Extension}, nil
	}
	if err != nil {
		return s, fmt.Errorf("mwi: counts of %s: %w", s.Extension, err)
	}
	return s, nil
}

// account is the Message-Account of s on device: the user's AOR, or the
// phone's own for a neutral phone.
func (n *Notifier) account(s Summary, device string) string {
	user := s.Extension
	if user == "" {
		user = device
	}
	u := sip.Uri{Scheme: "sip", User: user, Host: n.o.SIP.Domain()}
	return u.String()
}

// Kick tells device its current state soon: in its subscriptions' dialogs,
// or unsolicited at its contacts on this node when it has none. NOTIFYs of
// one device go one round at a time, each round reading the state afresh,
// so the last one a phone gets is never older than the last change.
func (n *Notifier) Kick(device string) { n.kick(device, true) }

func (n *Notifier) kick(device string, always bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	if !n.startLocked(device, always) {
		n.deferred[device] = n.deferred[device] || always // catchUp starts it
	}
}

// startLocked hands device to its running worker, or starts one unless
// maxInFlight run already (false).
func (n *Notifier) startLocked(device string, always bool) bool {
	if w := n.workers[device]; w != nil {
		w.again = true
		w.always = w.always || always
		return true
	}
	if len(n.workers) >= maxInFlight {
		return false
	}
	w := &worker{always: always}
	n.workers[device] = w
	n.loop.WG.Add(1)
	go n.work(device, w)
	return true
}

func (n *Notifier) work(device string, w *worker) {
	defer n.loop.WG.Done()
	for {
		n.mu.Lock()
		always := w.always
		w.always = false
		n.mu.Unlock()
		n.round(device, always)
		n.mu.Lock()
		if !w.again || n.loop.Base.Err() != nil {
			delete(n.workers, device)
			n.mu.Unlock()
			return
		}
		w.again = false
		n.mu.Unlock()
	}
}

// round sends device's current state to each of its subscriptions, or to
// its contacts when it has none, and waits for the answers; unless always,
// only when the lamp is to be lit.
func (n *Notifier) round(device string, always bool) {
	ctx := n.loop.Base
	n.mu.Lock()
	subs := slices.Collect(n.subs.Under(device))
	n.mu.Unlock()
	var local []hotdesk.Binding
	if len(subs) == 0 {
		for _, b := range n.o.Contacts(device) {
			if n.o.Node == "" || b.Node == "" || b.Node == n.o.Node {
				local = append(local, b)
			}
		}
		// Every node hears every login; only the node holding the phone
		// reads its mailbox (a store read per login per node otherwise).
		if len(local) == 0 {
			return
		}
	}
	s, err := n.SummaryOf(ctx, device)
	if err != nil {
		n.log.Warn("mwi: read state", "device", device, "err", err)
		return
	}
	if !always && s.New == 0 {
		return
	}
	body := s.Body(n.account(s, device))
	var wg sync.WaitGroup
	if len(subs) > 0 {
		for _, sub := range subs {
			wg.Go(func() { n.notifySub(sub, body, false, "") })
		}
		wg.Wait()
		return
	}
	for _, b := range local {
		wg.Go(func() {
			if err := n.unsolicited(ctx, b, body); err != nil {
				n.log.Info("mwi: notify failed", "device", device, "contact", b.Contact, "err", err)
			}
		})
	}
	wg.Wait()
}

// unsolicited sends one NOTIFY outside any subscription to b, as phones
// configured for unsolicited MWI expect (Subscription-State active, as
// Cisco, Asterisk and the phone makers' own examples show).
func (n *Notifier) unsolicited(ctx context.Context, b hotdesk.Binding, body []byte) error {
	if err := sipnotify.Unsolicited(ctx, n.o.SIP, b, Event, "active", ContentType, body); err != nil {
		return err
	}
	n.sent.Add(1)
	return nil
}

// send runs one NOTIFY transaction and returns its final status.
func (n *Notifier) send(req *sip.Request) (int, error) {
	res, err := sipnotify.Send(n.loop.Base, n.o.SIP, req)
	if err != nil {
		return 0, err
	}
	if res.IsSuccess() {
		n.sent.Add(1)
	}
	return res.StatusCode, nil
}

// Package checksync tells phones to re-fetch their configuration after a
// login or logout (and after a change to a logged-in user) by sending
// NOTIFY with "Event: check-sync;reboot=false" to every registered contact
// of each affected device. The NOTIFYs are client transactions, so sipgo
// retransmits them over UDP until answered; failures are logged and never
// hold up a login.
package checksync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/follow"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/sipnotify"
)

// EventHeader is the Event header value sent (no reboot: phones re-provision
// in place).
const EventHeader = signaling.CheckSync

// maxInFlight bounds concurrent NOTIFY transactions; beyond it devices are
// skipped (and logged) rather than blocking the event loop.
const maxInFlight = 512

// Store is what check-sync needs of the store (hotdesk.Store has it): the
// device an updated user is logged in at.
type Store interface {
	LoginByUser(ctx context.Context, ext string) (*hotdesk.Login, error)
}

// LoginByUserFunc is a Store made of one function.
type LoginByUserFunc func(ctx context.Context, ext string) (*hotdesk.Login, error)

func (f LoginByUserFunc) LoginByUser(ctx context.Context, ext string) (*hotdesk.Login, error) {
	return f(ctx, ext)
}

// Options configures a Notifier.
type Options struct {
	Bus      *events.Bus
	SIP      *signaling.Server
	Contacts func(device string) []hotdesk.Binding // live registrations (registrar.Contacts)
	Store    Store                                 // finds the device of an updated user
	Logger   *slog.Logger
}

// Notifier sends check-sync NOTIFYs. Run drives it.
type Notifier struct {
	o    Options
	log  *slog.Logger
	sem  chan struct{}
	wg   sync.WaitGroup
	sent atomic.Int64

	// The subscription is taken in New, so that no login made between New
	// and the moment Run's goroutine gets going is missed.
	events      <-chan events.Event
	unsubscribe func()
}

// New returns a Notifier subscribed to the bus; it sends nothing until Run.
func New(o Options) *Notifier {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	n := &Notifier{o: o, log: log, sem: make(chan struct{}, maxInFlight), unsubscribe: func() {}}
	if o.Bus != nil {
		// The kinds collect acts on only: not woken for a call's
		// events (issue 18).
		n.events, n.unsubscribe = o.Bus.SubscribeKinds(1024, collects)
	}
	return n
}

// Sent is how many NOTIFYs were answered with 2xx (for tests and metrics).
func (n *Notifier) Sent() int64 { return n.sent.Load() }

// Run subscribes to the bus and notifies devices until ctx is done, then
// waits for the NOTIFYs in flight.
func (n *Notifier) Run(ctx context.Context) error {
	if n.o.Bus == nil || n.o.SIP == nil || n.o.Contacts == nil {
		return errors.New("checksync: Bus, SIP and Contacts are required")
	}
	ch := n.events
	defer n.unsubscribe()
	defer n.wg.Wait()
	follow.Each(ctx, ch, func(e events.Event) {
		// Coalesce what is queued: a roaming login yields several
		// events for the same device.
		devices := map[string]bool{}
		n.collect(ctx, e, devices)
		follow.Queued(ch, -1, func(e events.Event) { n.collect(ctx, e, devices) })
		for d := range devices {
			n.start(ctx, d, EventHeader)
		}
	})
	return nil
}

// collects reports whether collect acts on events of kind.
func collects(kind string) bool {
	switch kind {
	case hotdesk.KindLogin, hotdesk.KindLogout, events.KindUserUpdated, hotdesk.KindUserChanged:
		return true
	}
	return false
}

// collect adds the devices affected by e.
func (n *Notifier) collect(ctx context.Context, e events.Event, devices map[string]bool) {
	switch e.Kind {
	case hotdesk.KindLogin, hotdesk.KindLogout:
		if e.Device != "" {
			devices[e.Device] = true
		}
	case events.KindUserUpdated, hotdesk.KindUserChanged:
		if e.Extension == "" || n.o.Store == nil {
			return
		}
		l, err := n.o.Store.LoginByUser(ctx, e.Extension)
		if err == nil {
			devices[l.Device] = true
		} else if hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
			n.log.Warn("checksync: find login", "extension", e.Extension, "err", err)
		}
	}
}

// Notify sends one check-sync NOTIFY to b and waits for the final response.
func (n *Notifier) Notify(ctx context.Context, b hotdesk.Binding) error {
	return n.published(b, EventHeader, n.notify(ctx, b, EventHeader))
}

// notify sends one NOTIFY with the Event header event to b and waits for
// the final response.
func (n *Notifier) notify(ctx context.Context, b hotdesk.Binding, event string) error {
	// Unsolicited: no subscription exists. RFC 6665 8.2.1 wants the
	// Subscription-State in every NOTIFY; "terminated" says there is no
	// state to keep.
	if err := sipnotify.Unsolicited(ctx, n.o.SIP, b, event, "terminated", "", nil); err != nil {
		return fmt.Errorf("checksync: %w", err)
	}
	n.sent.Add(1)
	return nil
}

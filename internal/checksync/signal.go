package checksync

import (
	"context"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// Event headers an admin can send a phone from the console or the API
// (issue 17 item 7). Without a reboot parameter the phone applies its own
// policy (most re-fetch and reboot only when the configuration changed).
const (
	EventCheckSync   = "check-sync"
	EventReprovision = "check-sync;reboot=false"
	EventReboot      = "check-sync;reboot=true"
)

// Signal sends a NOTIFY with the Event header event to every registered
// contact of device and returns how many it started. The transactions run
// on after ctx ends (an HTTP request that asked for them); each is bounded
// by the NOTIFY timeout, and Run waits for them when it returns.
func (n *Notifier) Signal(ctx context.Context, device, event string) int {
	if n.o.SIP == nil || n.o.Contacts == nil {
		return 0
	}
	return n.start(context.WithoutCancel(ctx), device, event)
}

// start sends a NOTIFY with the Event header event to every registered
// contact of device, each in a goroutine Run waits for, and returns how
// many it started: beyond maxInFlight contacts are skipped (and logged)
// rather than blocking the event loop.
func (n *Notifier) start(ctx context.Context, device, event string) int {
	started := 0
	for _, b := range n.o.Contacts(device) {
		select {
		case n.sem <- struct{}{}:
		default:
			n.log.Warn("checksync: too many NOTIFYs in flight, skipped", "device", device, "contact", b.Contact)
			continue
		}
		started++
		n.wg.Add(1)
		go func() {
			defer func() { <-n.sem; n.wg.Done() }()
			if err := n.published(b, event, n.notify(ctx, b, event)); err != nil {
				n.log.Info("checksync: notify failed", "device", device, "contact", b.Contact, "event", event, "err", err)
			}
		}()
	}
	return started
}

// published tells the bus how a NOTIFY to b ended (the console's login
// pipeline follows it) and returns err.
func (n *Notifier) published(b hotdesk.Binding, event string, err error) error {
	if n.o.Bus == nil || b.Device == "" {
		return err
	}
	e := events.Event{Kind: events.KindCheckSync, Device: b.Device, Detail: event}
	if err != nil {
		e.Kind, e.Detail = events.KindCheckSyncFailed, err.Error()
	}
	n.o.Bus.Publish(e)
	return err
}

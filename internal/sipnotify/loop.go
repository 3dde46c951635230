package sipnotify

import (
	"context"
	"sync"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// Loop is the life of a subscription notifier (presence, mwi): the bus
// subscription taken when the notifier is made, so that nothing published
// before Run starts is missed; Base, cancelled when Run returns to abort
// the NOTIFYs in flight; and WG, the goroutines sending them, which Run
// waits for.
type Loop struct {
	Base context.Context
	WG   sync.WaitGroup

	stop        context.CancelFunc
	events      <-chan events.Event
	unsubscribe func()
}

// NewLoop subscribes to bus (nil: no events).
func NewLoop(bus *events.Bus) *Loop { return NewLoopKinds(bus, nil) }

// NewLoopKinds subscribes to the events of bus whose kind want accepts
// (events.Bus.SubscribeKinds; nil want: all of them), for a notifier that
// acts on some kinds only: it is then not woken for the others (issue 18:
// every call event woke every loop).
func NewLoopKinds(bus *events.Bus, want func(kind string) bool) *Loop {
	l := &Loop{unsubscribe: func() {}}
	l.Base, l.stop = context.WithCancel(context.Background())
	switch {
	case bus == nil:
	case want == nil:
		l.events, l.unsubscribe = bus.Subscribe(1024)
	default:
		l.events, l.unsubscribe = bus.SubscribeKinds(1024, want)
	}
	return l
}

// Run hands each bus event to on and calls tick every second until ctx
// is done or the bus closes. Then it calls closing, which marks the
// notifier closed so that it starts no more goroutines in WG, cancels Base
// and waits for WG.
func (l *Loop) Run(ctx context.Context, on func(context.Context, events.Event), tick, closing func()) error {
	defer l.unsubscribe()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	defer func() {
		closing() // no goroutine starts after this, so Wait cannot race Add
		l.stop()
		l.WG.Wait()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-l.events:
			if !ok {
				return nil
			}
			on(ctx, e)
		case <-t.C:
			tick()
		}
	}
}

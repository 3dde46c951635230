package webhook

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// worker serves one endpoint so a slow endpoint never delays another.
type worker struct {
	wake   chan struct{}
	cancel context.CancelFunc
}

func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done: one worker per enabled webhook, woken by
// new events on the bus, by Notify/Wake, by its own earliest retry time, and
// by a periodic rescan (which also picks up added, changed or removed
// webhooks and rows written by other nodes).
func (d *Dispatcher) Run(ctx context.Context) error {
	if d.o.Store == nil {
		return errors.New("webhook: no store")
	}
	var evs <-chan events.Event
	if d.o.Bus != nil {
		// Only the kinds that wake a worker or a rescan: the bus then
		// does not wake this loop for a call's events (issue 18).
		ch, cancel := d.o.Bus.SubscribeKinds(256, wakesOn)
		defer cancel()
		evs = ch
	}
	var wg sync.WaitGroup
	workers := map[int64]*worker{}
	defer func() {
		for _, w := range workers {
			w.cancel()
		}
		wg.Wait()
	}()
	ticker := time.NewTicker(rescanEvery)
	defer ticker.Stop()
	rescan, poke := true, true
	for {
		if rescan {
			d.syncWorkers(ctx, workers, &wg)
		}
		if poke {
			for _, w := range workers {
				w.poke()
			}
		}
		rescan, poke = false, false
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
			rescan, poke = true, true
		case <-d.o.Notify:
			rescan, poke = true, true
		case <-ticker.C:
			rescan, poke = true, true
		case e, ok := <-evs:
			if !ok {
				evs = nil
			}
			poke = ok && wakesOn(e.Kind)
			// The API audits webhook changes as settings changes (on any
			// node, and the node delivering may be another one): look again
			// now rather than at the next rescan.
			rescan = ok && e.Kind == hotdesk.KindSettings
		}
	}
}

// wakesOn reports whether an event kind can have an outbox row (audit
// kinds do; call progress and profile updates do not).
func wakesOn(kind string) bool {
	return !strings.HasPrefix(kind, "call_") && kind != events.KindUserUpdated
}

// syncWorkers starts a worker per enabled webhook and stops the others.
func (d *Dispatcher) syncWorkers(ctx context.Context, workers map[int64]*worker, wg *sync.WaitGroup) {
	hooks, err := d.o.Store.ListWebhooks(ctx)
	if err != nil {
		d.log.Warn("webhook: list", "err", err)
		return
	}
	enabled := map[int64]bool{}
	for _, h := range hooks {
		if !h.Enabled {
			continue
		}
		enabled[h.ID] = true
		if workers[h.ID] != nil {
			continue
		}
		wctx, cancel := context.WithCancel(ctx)
		w := &worker{wake: make(chan struct{}, 1), cancel: cancel}
		workers[h.ID] = w
		id := h.ID
		wg.Go(func() { d.work(wctx, id, w.wake) })
	}
	for id, w := range workers {
		if !enabled[id] {
			w.cancel()
			delete(workers, id)
		}
	}
}

// work is one endpoint's loop: deliver what is due, then sleep until the
// next retry or a wake-up.
func (d *Dispatcher) work(ctx context.Context, id int64, wake <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := rescanEvery
		h, err := d.o.Store.FindWebhook(ctx, id) // fresh URL and secret
		switch {
		case hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND:
			return
		case err != nil:
			d.log.Warn("webhook: find", "webhook", id, "err", err)
			wait = d.o.FirstRetry
		case h.Enabled:
			if next := d.drain(ctx, h); !next.IsZero() {
				wait = max(next.Sub(d.o.Now()), 0)
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-timer.C:
		}
	}
}

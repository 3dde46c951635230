// Package webhook delivers audit events to the HTTP endpoints admins
// register. The store writes one pending delivery per matching webhook in
// the same transaction as the audit event (an outbox); a Dispatcher sends
// them signed, at least once, strictly in order per endpoint, retrying with
// exponential backoff for up to a day. All state is in the store, so a
// restart loses nothing.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// Defaults for Options.
const (
	DefaultFirstRetry = 5 * time.Second
	DefaultMaxBackoff = time.Hour
	DefaultRetryFor   = 24 * time.Hour
	DefaultTimeout    = 10 * time.Second
	rescanEvery       = time.Minute // safety net for rows written by other nodes
	batch             = 50
)

// Store is what delivery needs of the store (hotdesk.Store has it).
type Store interface {
	FindWebhook(ctx context.Context, id int64) (*hotdesk.Webhook, error)
	ListWebhooks(ctx context.Context) ([]*hotdesk.Webhook, error)
	PendingDeliveries(ctx context.Context, webhook int64, limit int) ([]*hotdesk.Delivery, error)
	UpdateDelivery(ctx context.Context, d *hotdesk.Delivery) error
	FindAuditEvent(ctx context.Context, id int64) (*hotdesk.AuditEvent, error)
}

// Options configures a Dispatcher.
type Options struct {
	Store  Store
	Bus    *events.Bus     // new events wake the dispatcher; may be nil
	Notify <-chan struct{} // optional extra wake-up (e.g. a webhook was created)
	Logger *slog.Logger
	Now    hotdesk.Clock
	Client *http.Client // nil = a client with DefaultTimeout
	// Backoff: FirstRetry after the first failure, doubling up to MaxBackoff;
	// a delivery still failing RetryFor after its event becomes failed.
	FirstRetry, MaxBackoff, RetryFor time.Duration
}

// Dispatcher delivers the webhook outbox.
type Dispatcher struct {
	o    Options
	log  *slog.Logger
	wake chan struct{}
}

// New returns a Dispatcher; Run starts it. It does no I/O.
func New(o Options) *Dispatcher {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: DefaultTimeout}
	}
	if o.FirstRetry <= 0 {
		o.FirstRetry = DefaultFirstRetry
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.RetryFor <= 0 {
		o.RetryFor = DefaultRetryFor
	}
	return &Dispatcher{o: o, log: o.Logger, wake: make(chan struct{}, 1)}
}

// Wake makes Run look for new deliveries now (non-blocking).
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Body is the JSON a webhook receives.
type Body struct {
	ID        int64     `json:"id"` // audit event id: stable, increasing
	Kind      string    `json:"kind"`
	Time      time.Time `json:"time"`
	Extension string    `json:"extension"`
	Device    string    `json:"device"`
	Reason    string    `json:"reason"`
	Source    string    `json:"source"`
	Detail    string    `json:"detail"`
}

// backoff is the wait after the n-th failed attempt (n >= 1).
func (d *Dispatcher) backoff(n int) time.Duration {
	w := d.o.FirstRetry
	for i := 1; i < n && w < d.o.MaxBackoff; i++ {
		w *= 2
	}
	return min(w, d.o.MaxBackoff)
}

// Tick delivers, for every enabled webhook, the pending deliveries that are
// due, in order, stopping at an endpoint's first one that must wait. Each
// endpoint is served by its own goroutine; Tick waits for all. It returns
// the earliest time a waiting delivery is due (zero if none). Run calls it;
// tests call it with an injected clock.
func (d *Dispatcher) Tick(ctx context.Context) (time.Time, error) {
	hooks, err := d.o.Store.ListWebhooks(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("webhook: list: %w", err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		next time.Time
	)
	for _, w := range hooks {
		if !w.Enabled {
			continue
		}
		wg.Go(func() {
			at := d.drain(ctx, w)
			mu.Lock()
			if !at.IsZero() && (next.IsZero() || at.Before(next)) {
				next = at
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return next, nil
}

// drain delivers w's due deliveries in ID order and returns when the next
// one is due (zero: nothing pending).
func (d *Dispatcher) drain(ctx context.Context, w *hotdesk.Webhook) time.Time {
	for ctx.Err() == nil {
		ds, err := d.o.Store.PendingDeliveries(ctx, w.ID, batch)
		if err != nil {
			d.log.Warn("webhook: pending deliveries", "webhook", w.ID, "err", err)
			return d.o.Now().Add(d.o.FirstRetry)
		}
		if len(ds) == 0 {
			return time.Time{}
		}
		for _, dl := range ds {
			if dl.NextAttempt.After(d.o.Now()) {
				return dl.NextAttempt // strict order: later rows wait too
			}
			if !d.attempt(ctx, w, dl) {
				return dl.NextAttempt
			}
		}
	}
	return time.Time{}
}

// attempt sends one delivery and records the outcome. It reports whether
// the endpoint may move on to the next delivery (delivered, or given up).
func (d *Dispatcher) attempt(ctx context.Context, w *hotdesk.Webhook, dl *hotdesk.Delivery) bool {
	now := d.o.Now()
	ev, err := d.o.Store.FindAuditEvent(ctx, dl.AuditID)
	if err == nil {
		err = d.send(ctx, w, dl, ev, now)
	} else if hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		dl.NextAttempt = now.Add(d.o.FirstRetry) // store trouble: not the endpoint's fault
		return false
	}
	dl.Attempts++
	moveOn := true
	switch {
	case err == nil:
		dl.Status, dl.LastError, dl.DeliveredAt = hotdesk.DeliveryDelivered, "", &now
	case d.expired(dl, ev, now):
		dl.Status, dl.LastError = hotdesk.DeliveryFailed, errText(err)
		d.log.Warn("webhook: delivery failed for good", "webhook", w.ID, "delivery", dl.ID, "attempts", dl.Attempts, "err", dl.LastError)
	default:
		dl.LastError = errText(err)
		dl.NextAttempt = d.nextAttempt(dl, ev, now)
		moveOn = false
		d.log.Info("webhook: delivery will be retried", "webhook", w.ID, "delivery", dl.ID, "attempts", dl.Attempts, "next", dl.NextAttempt, "err", dl.LastError)
	}
	if err := d.o.Store.UpdateDelivery(ctx, dl); err != nil {
		d.log.Warn("webhook: update delivery", "delivery", dl.ID, "err", err)
		dl.NextAttempt = now.Add(d.o.FirstRetry)
		return false // sent again later: at least once
	}
	return moveOn
}

// giveUpAt is when a delivery stops being retried.
func (d *Dispatcher) giveUpAt(dl *hotdesk.Delivery, ev *hotdesk.AuditEvent) time.Time {
	start := dl.CreatedAt
	if start.IsZero() && ev != nil {
		start = ev.Time
	}
	return start.Add(d.o.RetryFor)
}

func (d *Dispatcher) expired(dl *hotdesk.Delivery, ev *hotdesk.AuditEvent, now time.Time) bool {
	return ev == nil || !now.Before(d.giveUpAt(dl, ev))
}

// nextAttempt backs off exponentially; the last try is at the give-up time.
func (d *Dispatcher) nextAttempt(dl *hotdesk.Delivery, ev *hotdesk.AuditEvent, now time.Time) time.Time {
	at := now.Add(d.backoff(dl.Attempts))
	if end := d.giveUpAt(dl, ev); at.After(end) {
		at = end
	}
	return at
}

// send POSTs the signed event; any 2xx is success.
func (d *Dispatcher) send(ctx context.Context, w *hotdesk.Webhook, dl *hotdesk.Delivery, ev *hotdesk.AuditEvent, now time.Time) error {
	body, err := json.Marshal(Body{ID: ev.ID, Kind: ev.Kind, Time: ev.Time.UTC(), Extension: ev.Extension,
		Device: ev.Device, Reason: ev.Reason, Source: ev.Source, Detail: ev.Detail})
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	ts := now.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "hotdesk-webhook/1")
	req.Header.Set(HeaderEvent, ev.Kind)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(dl.ID, 10))
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(w.Secret, ts, body))
	resp, err := d.o.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

package webhook

import (
	"context"
	"slices"
	"sync"

	"github.com/hotdesk-pbx/hotdesk"
)

// memStore is the webhook Store in memory; addEvent plays the store's
// outbox (a pending delivery per matching enabled webhook).
type memStore struct {
	mu         sync.Mutex
	hooks      []*hotdesk.Webhook
	deliveries []*hotdesk.Delivery
	audit      []*hotdesk.AuditEvent
}

func (s *memStore) addHook(w hotdesk.Webhook) *hotdesk.Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.ID = int64(len(s.hooks) + 1)
	s.hooks = append(s.hooks, &w)
	return &w
}

func (s *memStore) addEvent(e hotdesk.AuditEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.ID = int64(len(s.audit) + 1)
	s.audit = append(s.audit, &e)
	for _, w := range s.hooks {
		if w.Enabled && (len(w.Kinds) == 0 || slices.Contains(w.Kinds, e.Kind)) {
			s.deliveries = append(s.deliveries, &hotdesk.Delivery{ID: int64(len(s.deliveries) + 1), Webhook: w.ID,
				AuditID: e.ID, Status: hotdesk.DeliveryPending, NextAttempt: e.Time, CreatedAt: e.Time})
		}
	}
}

func (s *memStore) delivery(id int64) hotdesk.Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.deliveries[id-1]
}

func (s *memStore) ListWebhooks(ctx context.Context) ([]*hotdesk.Webhook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*hotdesk.Webhook
	for _, w := range s.hooks {
		c := *w
		out = append(out, &c)
	}
	return out, nil
}

func (s *memStore) FindWebhook(ctx context.Context, id int64) (*hotdesk.Webhook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return byID(s.hooks, id, "webhook")
}

func (s *memStore) PendingDeliveries(ctx context.Context, webhook int64, limit int) ([]*hotdesk.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*hotdesk.Delivery
	for _, d := range s.deliveries {
		if d.Webhook == webhook && d.Status == hotdesk.DeliveryPending && len(out) < limit {
			c := *d
			out = append(out, &c)
		}
	}
	return out, nil
}

func (s *memStore) UpdateDelivery(ctx context.Context, d *hotdesk.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *d
	s.deliveries[d.ID-1] = &c
	return nil
}

func (s *memStore) FindAuditEvent(ctx context.Context, id int64) (*hotdesk.AuditEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return byID(s.audit, id, "event")
}

var _ Store = (*memStore)(nil)

// byID returns a copy of row id (numbered from 1) of rows, or ENOTFOUND
// naming what.
func byID[T any](rows []*T, id int64, what string) (*T, error) {
	if id < 1 || int(id) > len(rows) {
		return nil, hotdesk.Errorf(hotdesk.ENOTFOUND, "no %s", what)
	}
	c := *rows[id-1]
	return &c, nil
}

package hotdesk

import (
	"context"
	"time"
)

// Webhook is an HTTPS endpoint that receives events of the given kinds.
type Webhook struct {
	ID        int64     `json:"id"`
	URL       string    `json:"url"`
	Secret    string    `json:"secret,omitempty"` // HMAC key; shown once on create
	Kinds     []string  `json:"kinds"`            // audit kinds; empty = all
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed" // gave up after the retry window
)

// Delivery is one outbox row: one event for one webhook.
type Delivery struct {
	ID          int64      `json:"id"`
	Webhook     int64      `json:"webhook"`
	AuditID     int64      `json:"event_id"`
	Status      string     `json:"status"`
	Attempts    int        `json:"attempts"`
	NextAttempt time.Time  `json:"next_attempt"`
	LastError   string     `json:"last_error,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
}

// WebhookStore persists webhooks and their outbox.
type WebhookStore interface {
	CreateWebhook(ctx context.Context, w *Webhook) error
	FindWebhook(ctx context.Context, id int64) (*Webhook, error)
	ListWebhooks(ctx context.Context) ([]*Webhook, error)
	UpdateWebhook(ctx context.Context, w *Webhook) error
	DeleteWebhook(ctx context.Context, id int64) error
	// PendingDeliveries returns the oldest pending deliveries of a webhook in
	// ID order (which is event order).
	PendingDeliveries(ctx context.Context, webhook int64, limit int) ([]*Delivery, error)
	FindDeliveries(ctx context.Context, webhook int64, status string, limit int) ([]*Delivery, error)
	UpdateDelivery(ctx context.Context, d *Delivery) error
	FindAuditEvent(ctx context.Context, id int64) (*AuditEvent, error)
}

package web

import (
	"context"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

// Store is what the API reads from the database itself: changes go through
// Admin and the desk Service. Both stores implement it.
type Store interface {
	admin.ReadStore
	ListBindings(ctx context.Context, now time.Time) ([]hotdesk.Binding, error)
	FindWebhook(ctx context.Context, id int64) (*hotdesk.Webhook, error)
	FindDeliveries(ctx context.Context, webhook int64, status string, limit int) ([]*hotdesk.Delivery, error)
	Ping(ctx context.Context) error
}

// Admin is the part of the admin Service (internal/admin) the API calls:
// every change to users, devices and settings, and the audit of the
// changes the API makes through the desk Service.
type Admin interface {
	admin.Changes
	LogoutUser(ctx context.Context, source, ext string) (*hotdesk.Login, error)
	LogoutDevice(ctx context.Context, source, id string) (*hotdesk.Login, error)
	admin.Voicemails
	admin.Sites
	admin.WebhookAdmin
	admin.Operations
}

var _ Admin = (*admin.Service)(nil)

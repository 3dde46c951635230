package admin

import (
	"context"

	"github.com/hotdesk-pbx/hotdesk"
)

// ReadStore is what both edges (internal/web and internal/console) read
// from the database themselves to show users, devices, logins, the audit
// trail, call records and settings; every change goes through the Service.
// Each edge's own Store interface embeds it. Both stores implement it.
type ReadStore interface {
	FindUser(ctx context.Context, ext string) (*hotdesk.User, error)
	FindUsers(ctx context.Context, f hotdesk.UserFilter) ([]*hotdesk.User, int, error)
	FindDevice(ctx context.Context, id string) (*hotdesk.Device, error)
	FindDevices(ctx context.Context, f hotdesk.DeviceFilter) ([]*hotdesk.Device, int, error)
	ListLogins(ctx context.Context) ([]*hotdesk.Login, error)
	LoginByUser(ctx context.Context, ext string) (*hotdesk.Login, error)
	LoginByDevice(ctx context.Context, device string) (*hotdesk.Login, error)
	FindAudit(ctx context.Context, f hotdesk.AuditFilter) ([]*hotdesk.AuditEvent, error)
	CountAudit(ctx context.Context, f hotdesk.AuditFilter) (int, error)
	FindCalls(ctx context.Context, ext string, limit int) ([]*hotdesk.CallRecord, error)
	GetSettings(ctx context.Context) (hotdesk.Settings, error)
}

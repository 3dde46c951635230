package b2bua

import (
	"context"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// Store is the part of hotdesk.Store the B2BUA uses: routing reads users,
// devices, logins and other nodes' bindings; call records and emergency
// audit rows are written.
type Store interface {
	FindUser(ctx context.Context, ext string) (*hotdesk.User, error)
	FindUsers(ctx context.Context, f hotdesk.UserFilter) ([]*hotdesk.User, int, error)
	FindDevice(ctx context.Context, id string) (*hotdesk.Device, error)
	FindDevices(ctx context.Context, f hotdesk.DeviceFilter) ([]*hotdesk.Device, int, error)
	LoginByUser(ctx context.Context, ext string) (*hotdesk.Login, error)
	DeviceBindings(ctx context.Context, device string, now time.Time) ([]hotdesk.Binding, error)
	CreateCall(ctx context.Context, c *hotdesk.CallRecord) error
	UpdateCall(ctx context.Context, c *hotdesk.CallRecord) error
	AppendAudit(ctx context.Context, e *hotdesk.AuditEvent) error
}

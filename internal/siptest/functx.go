package siptest

import (
	"context"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// FuncTx is a hotdesk.Tx made of optional functions, for test fakes of
// components that need only a method or two inside a transaction. A method
// whose function is nil does nothing safe: lookups answer ENOTFOUND, writes
// succeed. Nothing panics.
type FuncTx struct {
	FindUserFunc       func(ctx context.Context, ext string) (*hotdesk.User, error)
	FindDeviceFunc     func(ctx context.Context, id string) (*hotdesk.Device, error)
	UpdateUserFunc     func(ctx context.Context, ext string, upd hotdesk.UserUpdate) (*hotdesk.User, error)
	UpdateDeviceFunc   func(ctx context.Context, id string, upd hotdesk.DeviceUpdate) (*hotdesk.Device, error)
	PINFailuresFunc    func(ctx context.Context, scope, key string) ([]time.Time, error)
	PutPINFailuresFunc func(ctx context.Context, scope, key string, times []time.Time) error
	LoginByUserFunc    func(ctx context.Context, ext string) (*hotdesk.Login, error)
	LoginByDeviceFunc  func(ctx context.Context, device string) (*hotdesk.Login, error)
	ListLoginsFunc     func(ctx context.Context) ([]*hotdesk.Login, error)
	CreateLoginFunc    func(ctx context.Context, l *hotdesk.Login) error
	UpdateLoginFunc    func(ctx context.Context, l *hotdesk.Login) error
	DeleteLoginFunc    func(ctx context.Context, device string) error
	AppendAuditFunc    func(ctx context.Context, e *hotdesk.AuditEvent) error
}

var _ hotdesk.Tx = FuncTx{}

var errNotFound = hotdesk.Errorf(hotdesk.ENOTFOUND, "not found")

func (t FuncTx) FindUser(ctx context.Context, ext string) (*hotdesk.User, error) {
	if t.FindUserFunc == nil {
		return nil, errNotFound
	}
	return t.FindUserFunc(ctx, ext)
}

func (t FuncTx) FindDevice(ctx context.Context, id string) (*hotdesk.Device, error) {
	if t.FindDeviceFunc == nil {
		return nil, errNotFound
	}
	return t.FindDeviceFunc(ctx, id)
}

func (t FuncTx) UpdateUser(ctx context.Context, ext string, upd hotdesk.UserUpdate) (*hotdesk.User, error) {
	if t.UpdateUserFunc == nil {
		return nil, errNotFound
	}
	return t.UpdateUserFunc(ctx, ext, upd)
}

func (t FuncTx) UpdateDevice(ctx context.Context, id string, upd hotdesk.DeviceUpdate) (*hotdesk.Device, error) {
	if t.UpdateDeviceFunc == nil {
		return nil, errNotFound
	}
	return t.UpdateDeviceFunc(ctx, id, upd)
}

func (t FuncTx) PINFailures(ctx context.Context, scope, key string) ([]time.Time, error) {
	if t.PINFailuresFunc == nil {
		return nil, nil
	}
	return t.PINFailuresFunc(ctx, scope, key)
}

func (t FuncTx) PutPINFailures(ctx context.Context, scope, key string, times []time.Time) error {
	if t.PutPINFailuresFunc == nil {
		return nil
	}
	return t.PutPINFailuresFunc(ctx, scope, key, times)
}

func (t FuncTx) LoginByUser(ctx context.Context, ext string) (*hotdesk.Login, error) {
	if t.LoginByUserFunc == nil {
		return nil, errNotFound
	}
	return t.LoginByUserFunc(ctx, ext)
}

func (t FuncTx) LoginByDevice(ctx context.Context, device string) (*hotdesk.Login, error) {
	if t.LoginByDeviceFunc == nil {
		return nil, errNotFound
	}
	return t.LoginByDeviceFunc(ctx, device)
}

func (t FuncTx) ListLogins(ctx context.Context) ([]*hotdesk.Login, error) {
	if t.ListLoginsFunc == nil {
		return nil, nil
	}
	return t.ListLoginsFunc(ctx)
}

func (t FuncTx) CreateLogin(ctx context.Context, l *hotdesk.Login) error {
	if t.CreateLoginFunc == nil {
		return nil
	}
	return t.CreateLoginFunc(ctx, l)
}

func (t FuncTx) UpdateLogin(ctx context.Context, l *hotdesk.Login) error {
	if t.UpdateLoginFunc == nil {
		return nil
	}
	return t.UpdateLoginFunc(ctx, l)
}

func (t FuncTx) DeleteLogin(ctx context.Context, device string) error {
	if t.DeleteLoginFunc == nil {
		return nil
	}
	return t.DeleteLoginFunc(ctx, device)
}

func (t FuncTx) AppendAudit(ctx context.Context, e *hotdesk.AuditEvent) error {
	if t.AppendAuditFunc == nil {
		return nil
	}
	return t.AppendAuditFunc(ctx, e)
}

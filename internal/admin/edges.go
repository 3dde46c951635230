package admin

import (
	"context"
	"io"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// Changes is the core of the Service that the API and the console both
// call: every change to users, devices and settings, and the audit of the
// changes an edge makes through the desk Service.
type Changes interface {
	CreateUser(ctx context.Context, source string, in UserInput) (*hotdesk.User, error)
	UpdateUser(ctx context.Context, source, ext string, in UserInput) (*hotdesk.User, error)
	DeleteUser(ctx context.Context, source, ext string, freePhones bool) error
	SetPIN(ctx context.Context, source, ext string, in PINInput) (generated string, err error)
	CreateDevice(ctx context.Context, source string, in DeviceInput) (*hotdesk.Device, error)
	UpdateDevice(ctx context.Context, source, id string, in DeviceInput) (*hotdesk.Device, error)
	DeleteDevice(ctx context.Context, source, id string) error
	PutSettings(ctx context.Context, source string, st hotdesk.Settings) (hotdesk.Settings, error)
	Audit(ctx context.Context, source string, e *hotdesk.AuditEvent)
}

var _ Changes = (*Service)(nil)

// Operations is the day-one management part of the Service (issue 17:
// dashboard, phone actions, call log, CSV import and export) that the API
// and the console call; both declare it in their Admin interface.
type Operations interface {
	Summary(ctx context.Context, registered func(device string) bool) (*Summary, error)
	PhoneAction(ctx context.Context, source, id, action string) (int, error)
	ResetSIPPassword(ctx context.Context, source, id string) (string, error)
	CallLog(ctx context.Context, f hotdesk.CallFilter) ([]*hotdesk.CallRecord, int, error)
	ExportCalls(ctx context.Context, f hotdesk.CallFilter, loc *time.Location, w io.Writer) error
	Import(ctx context.Context, source, kind string, r io.Reader, apply bool) (*ImportReport, error)
	ExportUsers(ctx context.Context, w io.Writer) error
	ExportDevices(ctx context.Context, w io.Writer) error
}

var _ Operations = (*Service)(nil)

// Accounts is the console's admin-accounts part of the Service (issue 17
// item 12: roles, disabling, own password) and its webhook pages.
type Accounts interface {
	WebhookAdmin
	Accounts(ctx context.Context) ([]hotdesk.AdminAccess, error)
	Access(ctx context.Context, username string) (*hotdesk.AdminAccess, error)
	CreateAccount(ctx context.Context, source, username, password, role string) error
	SetAccess(ctx context.Context, source, actor string, a hotdesk.AdminAccess) error
	ChangePassword(ctx context.Context, source, username, current, password string) error
}

var _ Accounts = (*Service)(nil)

// WebhookAdmin is the webhook part of the Service, which the API and the
// console both call.
type WebhookAdmin interface {
	Webhooks(ctx context.Context) ([]*hotdesk.Webhook, error)
	CreateWebhook(ctx context.Context, source string, in WebhookInput) (*hotdesk.Webhook, error)
	UpdateWebhook(ctx context.Context, source string, id int64, in WebhookInput) (*hotdesk.Webhook, error)
	DeleteWebhook(ctx context.Context, source string, id int64) error
}

// Package admin is the administration service behind the REST API
// (internal/web) and the console (internal/console): it owns input
// validation, the device mode/owner rules, PINs, the rule that a user whose
// hot desking is switched off is logged out, and the audit trail and event
// of every change. The edges only decode a request, call the Service and
// encode its answer; Status is their one error→HTTP status table.
// Hot-desk logins and logouts go through the desk Service.
package admin

import (
	"context"
	"log/slog"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// Store is the part of hotdesk.Store the Service uses.
type Store interface {
	FindUser(ctx context.Context, ext string) (*hotdesk.User, error)
	CreateUser(ctx context.Context, u *hotdesk.User) error
	UpdateUser(ctx context.Context, ext string, upd hotdesk.UserUpdate) (*hotdesk.User, error)
	FindDevice(ctx context.Context, id string) (*hotdesk.Device, error)
	FindDevices(ctx context.Context, f hotdesk.DeviceFilter) ([]*hotdesk.Device, int, error)
	CreateDevice(ctx context.Context, d *hotdesk.Device) error
	UpdateDevice(ctx context.Context, id string, upd hotdesk.DeviceUpdate) (*hotdesk.Device, error)
	DeleteDevice(ctx context.Context, id string) error
	GetSettings(ctx context.Context) (hotdesk.Settings, error)
	PutSettings(ctx context.Context, s hotdesk.Settings) error
	DeleteUser(ctx context.Context, ext string) error
	DeleteUserFreeingPhones(ctx context.Context, ext string) ([]string, error)
	AppendAudit(ctx context.Context, e *hotdesk.AuditEvent) error
	InTx(ctx context.Context, fn func(tx hotdesk.Tx) error) error
	ReportStore
}

// Desk is the part of the desk Service the admin rules use.
type Desk interface {
	Logout(ctx context.Context, device, reason, source string) (*hotdesk.Login, error)
	LogoutUser(ctx context.Context, ext, reason, source string) (*hotdesk.Login, error)
	SetPINFrom(ctx context.Context, ext, pin, source string) (string, error)
}

var _ Desk = (*desk.Service)(nil)

// Options configures a Service.
type Options struct {
	Store  Store
	Desk   Desk
	Bus    *events.Bus   // nil: changes are audited, not published
	Logger *slog.Logger  // nil = slog.Default()
	Now    hotdesk.Clock // nil = time.Now
	Sites  SiteStore     // sites and emergency calls (issue 16); nil: their methods answer EUNAVAILABLE
	// Phones sends check-sync and reboot NOTIFYs (nil: nothing is sent).
	Phones Phones
}

// Service applies admin changes. Safe for concurrent use.
type Service struct {
	store Store
	desk  Desk
	bus   *events.Bus
	log   *slog.Logger
	now   hotdesk.Clock
	sites SiteStore

	phones Phones
}

// New returns a Service. It does no I/O.
func New(o Options) *Service {
	s := &Service{store: o.Store, desk: o.Desk, bus: o.Bus, log: o.Logger, now: o.Now, sites: o.Sites, phones: o.Phones}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Now is the Service's clock (the edges show locks against it).
func (s *Service) Now() time.Time { return s.now() }

// audit appends e from source and publishes it, after the change it
// records is committed (as the desk Service does). A failure is logged:
// the change stands.
func (s *Service) audit(ctx context.Context, source string, e *hotdesk.AuditEvent) {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	e.Source = source
	if err := s.store.AppendAudit(ctx, e); err != nil {
		s.log.Warn("admin: audit", "kind", e.Kind, "err", err)
		return
	}
	s.publish(e)
}

// Audit records an admin action the Service has no method for (console
// sign-in, webhooks) the same way.
func (s *Service) Audit(ctx context.Context, source string, e *hotdesk.AuditEvent) {
	s.audit(ctx, source, e)
}

func (s *Service) publish(e *hotdesk.AuditEvent) {
	if s.bus != nil {
		s.bus.Publish(events.Event{Time: e.Time, Kind: e.Kind, Extension: e.Extension, Device: e.Device,
			Reason: e.Reason, Source: e.Source, Detail: e.Detail})
	}
}

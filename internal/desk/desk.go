// Package desk holds the hot-desk rules, and only here: who may log in on
// which phone, roaming and identity switches, PIN checks and lockouts, and
// the auto-logout policies that end logins nobody ended. Adapters (feature
// codes, the API, the console) call a *Service; they never write logins.
package desk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/settings"
)

// Sentinel errors; compare with errors.Is. Each is a *hotdesk.Error, so the
// edges map its code (and message) to a status.
var (
	ErrUnknownUser      = hotdesk.Errorf(hotdesk.ENOTFOUND, "Unknown extension.")
	ErrUnknownDevice    = hotdesk.Errorf(hotdesk.ENOTFOUND, "Unknown device.")
	ErrNotLoggedIn      = hotdesk.Errorf(hotdesk.ENOTFOUND, "Nobody is logged in.")
	ErrBadPIN           = hotdesk.Errorf(hotdesk.EFORBIDDEN, "Incorrect PIN.")
	ErrUserNotHotdesk   = hotdesk.Errorf(hotdesk.EFORBIDDEN, "Hot desking is not enabled for this extension.")
	ErrDeviceNotHotdesk = hotdesk.Errorf(hotdesk.EFORBIDDEN, "Hot desking is not enabled for this phone.")
	ErrLocked           = hotdesk.Errorf(hotdesk.ELOCKED, "Hot desk login is locked after too many failed PINs; try again later.")
	ErrUnavailable      = hotdesk.Errorf(hotdesk.EUNAVAILABLE, "The service is unavailable; try again later.")
)

// Lockout rules: this many PIN failures within the window lock for LockFor.
const (
	MaxFailures   = 5
	FailureWindow = 15 * time.Minute
	LockFor       = 15 * time.Minute
)

// A login transaction that lost a race (a row lock busy, a deadlock, a
// serialisation failure) is tried again after a random pause that grows
// with each attempt, so the racers spread out instead of colliding again:
// up to conflictRetries times within conflictBudget.
const (
	conflictRetries = 25
	conflictBudget  = 5 * time.Second
	conflictPause   = 2 * time.Millisecond // the longest first pause; 16× that from the fifth
)

// Store is what the desk rules need of the store (hotdesk.Store has it);
// every change is made in one transaction (InTx).
type Store interface {
	FindUser(ctx context.Context, ext string) (*hotdesk.User, error)
	FindDevice(ctx context.Context, id string) (*hotdesk.Device, error)
	LoginByDevice(ctx context.Context, device string) (*hotdesk.Login, error)
	ListLogins(ctx context.Context) ([]*hotdesk.Login, error)
	DeviceBindings(ctx context.Context, device string, now time.Time) ([]hotdesk.Binding, error)
	GetSettings(ctx context.Context) (hotdesk.Settings, error)
	AppendAudit(ctx context.Context, e *hotdesk.AuditEvent) error
	InTx(ctx context.Context, fn func(tx hotdesk.Tx) error) error
}

// Options configures a Service.
type Options struct {
	Store  Store
	Bus    *events.Bus   // may be nil in tests
	Now    hotdesk.Clock // nil = time.Now
	Logger *slog.Logger  // nil = slog.Default()
	// InCall reports whether a device is in a call; an auto-logout that fires
	// during a call waits for CallEnded. Nil means never in a call.
	InCall func(device string) bool
	// Hold, when set, says until when a device's auto-logout is suspended
	// (the callback window after an emergency call, issue 16).
	Hold func(ctx context.Context, device string) (until time.Time, ok bool)
	// Settings is the shared settings cache (internal/settings); nil: a
	// cache of its own over Store with SettingsTTL (default 2 s). A
	// settings_changed event on the bus drops the cache at once.
	Settings    *settings.Cache
	SettingsTTL time.Duration
}

// Service applies the hot-desk rules. Safe for concurrent use.
type Service struct {
	store  Store
	bus    *events.Bus
	now    hotdesk.Clock
	log    *slog.Logger
	inCall func(string) bool
	hold   func(context.Context, string) (time.Time, bool)

	settings *settings.Cache

	sched *scheduler
	work  *workers // Login and Logout run there

	// lostChecked is when the logins were last checked for phones with no
	// registration (Load); lostPending says a resync asked for another
	// check within lostRecheck of it, which Run does when that is over.
	// Both only on Run's goroutine.
	lostChecked time.Time
	lostPending bool

	checkPIN func(hash, pin string) bool // CheckPIN; tests watch it
}

// New returns a Service. It does no I/O; call Run to start auto-logout.
func New(o Options) *Service {
	s := &Service{
		store: o.Store, bus: o.Bus, now: o.Now, log: o.Logger, inCall: o.InCall, hold: o.Hold, settings: o.Settings,
		checkPIN: CheckPIN,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.inCall == nil {
		s.inCall = func(string) bool { return false }
	}
	if s.settings == nil {
		s.settings = settings.New(o.Store, o.SettingsTTL, s.now)
	}
	s.sched = newScheduler()
	s.work = newWorkers()
	return s
}

// publish sends an event for a committed audit row.
func (s *Service) publish(e *hotdesk.AuditEvent) {
	if s.bus == nil {
		return
	}
	s.bus.Publish(events.Event{Time: e.Time, Kind: e.Kind, Extension: e.Extension, Device: e.Device,
		Reason: e.Reason, Source: e.Source, Detail: e.Detail})
}

func (s *Service) publishAll(es []*hotdesk.AuditEvent) {
	for _, e := range es {
		s.publish(e)
	}
}

// loadSettings returns the site settings from the cache.
func (s *Service) loadSettings(ctx context.Context) (hotdesk.Settings, error) {
	st, err := s.settings.Load(ctx)
	if err != nil {
		return st, unavailable("settings", err)
	}
	return st, nil
}

// InvalidateSettings drops cached settings so the next use reads the store.
func (s *Service) InvalidateSettings() { s.settings.Invalidate() }

// isDomain reports whether err is one of the rule errors (not a failure).
func isDomain(err error) bool {
	for _, e := range []error{ErrUnknownUser, ErrUnknownDevice, ErrNotLoggedIn, ErrBadPIN,
		ErrUserNotHotdesk, ErrDeviceNotHotdesk, ErrLocked} {
		if errors.Is(err, e) {
			return true
		}
	}
	return hotdesk.ErrorCode(err) == hotdesk.EINVALID
}

// unavailable wraps a database failure as ErrUnavailable (keeping the cause).
func unavailable(op string, err error) error {
	if isDomain(err) || errors.Is(err, ErrUnavailable) || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("desk: %s: %w: %w", op, ErrUnavailable, err)
}

func isNotFound(err error) bool { return hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND }

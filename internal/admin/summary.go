package admin

import (
	"context"
	"fmt"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
)

// ReportStore is the part of hotdesk.Store the read-only views (dashboard,
// exports) use.
type ReportStore interface {
	FindUsers(ctx context.Context, f hotdesk.UserFilter) ([]*hotdesk.User, int, error)
	ListLogins(ctx context.Context) ([]*hotdesk.Login, error)
	FindAudit(ctx context.Context, f hotdesk.AuditFilter) ([]*hotdesk.AuditEvent, error)
	CountAudit(ctx context.Context, f hotdesk.AuditFilter) (int, error)
	hotdesk.BulkStore
	hotdesk.CallLogStore
	hotdesk.AdminAccessStore
	FindAdmin(ctx context.Context, username string) (*hotdesk.Admin, error)
	CreateAdmin(ctx context.Context, a *hotdesk.Admin) error
	SetAdminPassword(ctx context.Context, username, hash string) error
	CreateWebhook(ctx context.Context, w *hotdesk.Webhook) error
	FindWebhook(ctx context.Context, id int64) (*hotdesk.Webhook, error)
	ListWebhooks(ctx context.Context) ([]*hotdesk.Webhook, error)
	UpdateWebhook(ctx context.Context, w *hotdesk.Webhook) error
	DeleteWebhook(ctx context.Context, id int64) error
}

// Summary is the dashboard's picture of the site: what an admin with a few
// hundred phones wants to see first (issue 17 item 10). The edges add what
// only they know (live calls, the trunk).
type Summary struct {
	Phones       int                   `json:"phones"`            // every device
	Registered   int                   `json:"phones_registered"` // devices with a live contact
	Desks        int                   `json:"desks"`             // hot desk phones
	Occupied     int                   `json:"desks_occupied"`    // desks with someone logged in
	LoginsToday  int                   `json:"logins_today"`      // since midnight, site time
	FailedToday  int                   `json:"failed_logins_today"`
	LockedUsers  []string              `json:"locked_users"`   // extensions whose PIN logins are locked now
	LockedPhones []string              `json:"locked_devices"` // devices whose PIN logins are locked now
	Recent       []*hotdesk.AuditEvent `json:"recent_audit"`   // newest first
	Since        time.Time             `json:"since"`          // the midnight "today" counts from
}

// summaryRecent is how many audit events the dashboard lists.
const summaryRecent = 10

// Summary counts phones, desks, today's logins and failures, the locks in
// force and the latest audit events. registered reports whether a device
// has a live contact (the registrar's view; nil: none has). Today begins
// at midnight in the site's time zone.
func (s *Service) Summary(ctx context.Context, registered func(device string) bool) (*Summary, error) {
	loc := time.UTC
	if st, err := s.store.GetSettings(ctx); err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	} else if l, err := time.LoadLocation(st.Timezone); err == nil && st.Timezone != "" {
		loc = l
	}
	now := s.now()
	y, m, d := now.In(loc).Date()
	sum := &Summary{Since: time.Date(y, m, d, 0, 0, 0, 0, loc)}
	devs, _, err := s.store.FindDevices(ctx, hotdesk.DeviceFilter{})
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	logins, err := s.store.ListLogins(ctx)
	if err != nil {
		return nil, fmt.Errorf("list logins: %w", err)
	}
	at := make(map[string]bool, len(logins))
	for _, l := range logins {
		at[l.Device] = true
	}
	for _, dev := range devs {
		sum.Phones++
		if registered != nil && registered(dev.ID) {
			sum.Registered++
		}
		if dev.Mode == hotdesk.ModeHotdesk {
			sum.Desks++
			if at[dev.ID] {
				sum.Occupied++
			}
		}
		if desk.ActiveLock(dev.LockedUntil, now) != nil {
			sum.LockedPhones = append(sum.LockedPhones, dev.ID)
		}
	}
	users, _, err := s.store.FindUsers(ctx, hotdesk.UserFilter{})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	for _, u := range users {
		if desk.ActiveLock(u.LockedUntil, now) != nil {
			sum.LockedUsers = append(sum.LockedUsers, u.Extension)
		}
	}
	if sum.LoginsToday, err = s.store.CountAudit(ctx, hotdesk.AuditFilter{Kinds: []string{hotdesk.KindLogin}, Since: sum.Since}); err != nil {
		return nil, fmt.Errorf("count logins: %w", err)
	}
	if sum.FailedToday, err = s.store.CountAudit(ctx, hotdesk.AuditFilter{Kinds: []string{hotdesk.KindLoginFailed}, Since: sum.Since}); err != nil {
		return nil, fmt.Errorf("count failed logins: %w", err)
	}
	if sum.Recent, err = s.store.FindAudit(ctx, hotdesk.AuditFilter{Limit: summaryRecent}); err != nil {
		return nil, fmt.Errorf("recent audit: %w", err)
	}
	return sum, nil
}

// TrunkState is the trunk's registration as the dashboard shows it.
type TrunkState struct {
	Configured bool      `json:"configured"`       // a trunk is enabled in the settings
	Register   bool      `json:"register"`         // the PBX registers with the provider
	Registered bool      `json:"registered"`       // the last registration succeeded
	Error      string    `json:"error,omitempty"`  // why the last attempt failed
	Updated    time.Time `json:"updated,omitzero"` // when the state last changed
}

// Label is the state in words.
func (t TrunkState) Label() string {
	switch {
	case !t.Configured:
		return "no trunk"
	case !t.Register:
		return "no registration (by address)"
	case t.Registered:
		return "registered"
	case t.Error != "":
		return "failed"
	}
	return "not registered yet"
}

// OK reports whether the trunk needs no attention.
func (t TrunkState) OK() bool { return !t.Configured || !t.Register || t.Registered }

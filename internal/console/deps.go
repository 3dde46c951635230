package console

import (
	"context"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

// Store is what the console reads from the database itself, and its
// sign-in sessions: changes go through Admin and the desk Service. Both
// stores implement it.
type Store interface {
	admin.ReadStore
	FindAdmin(ctx context.Context, username string) (*hotdesk.Admin, error)
	CreateSession(ctx context.Context, s *hotdesk.Session) error
	FindSession(ctx context.Context, tokenHash string) (*hotdesk.Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) error
	// Sites and emergency calls (issue 16): desks page badges, Emergency page.
	ListSites(ctx context.Context) ([]*hotdesk.Site, error)
	FindEmergencyCalls(ctx context.Context, f hotdesk.EmergencyCallFilter) ([]*hotdesk.EmergencyCall, error)
	LastEmergencyTests(ctx context.Context) (map[string]time.Time, error)
	// Roles (issue 17): the signed-in admin's role and whether they are disabled.
	AdminAccess(ctx context.Context, username string) (*hotdesk.AdminAccess, error)
}

// Admin is the part of the admin Service (internal/admin) the console
// calls: every change to users, devices and settings, and the audit of the
// changes it makes through the desk Service.
type Admin interface {
	admin.Changes
	admin.Voicemails
	admin.Sites
	admin.Operations
	admin.Accounts
}

var _ Admin = (*admin.Service)(nil)

package hotdesk

import (
	"context"
	"time"
)

// Admin is a console account.
type Admin struct {
	Username     string    `json:"username"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
}

// AdminStore persists console accounts and their sessions.
type AdminStore interface {
	FindAdmin(ctx context.Context, username string) (*Admin, error) // ENOTFOUND
	ListAdmins(ctx context.Context) ([]*Admin, error)
	CreateAdmin(ctx context.Context, a *Admin) error // ECONFLICT
	// SetAdminPassword replaces the hash and deletes the admin's sessions
	// (a new password signs out every browser). Returns ENOTFOUND.
	SetAdminPassword(ctx context.Context, username, hash string) error
	// Sessions: the token hash is stored, never the token.
	CreateSession(ctx context.Context, s *Session) error
	FindSession(ctx context.Context, tokenHash string) (*Session, error) // ENOTFOUND
	DeleteSession(ctx context.Context, tokenHash string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) error
}

// Session is a signed-in console session.
type Session struct {
	TokenHash string
	Username  string
	CSRF      string
	Expires   time.Time
}

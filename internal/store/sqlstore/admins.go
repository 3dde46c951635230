package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// FindAdmin returns ENOTFOUND if the username does not exist.
func (db *DB) FindAdmin(ctx context.Context, username string) (*hotdesk.Admin, error) {
	return queryOne(ctx, db, db.r, "find admin", func() error { return notFound("Admin %s not found.", username) },
		scanAdmin, `SELECT username, password_hash, created_at FROM admins WHERE username = $1`, username)
}

// ListAdmins returns every admin by username.
func (db *DB) ListAdmins(ctx context.Context) ([]*hotdesk.Admin, error) {
	return queryAll(ctx, db, db.r, "list admins", scanAdmin,
		`SELECT username, password_hash, created_at FROM admins ORDER BY username`)
}

func scanAdmin(row rowScanner) (*hotdesk.Admin, error) {
	var a hotdesk.Admin
	var created int64
	if err := row.Scan(&a.Username, &a.PasswordHash, &created); err != nil {
		return nil, err
	}
	a.CreatedAt = fromTS(created)
	return &a, nil
}

// CreateAdmin returns ECONFLICT if the username exists.
func (db *DB) CreateAdmin(ctx context.Context, a *hotdesk.Admin) error {
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now()
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO admins (username, password_hash, created_at) VALUES ($1, $2, $3)`,
		a.Username, a.PasswordHash, ts(a.CreatedAt))
	return db.conflict(err, "create admin", "Admin %s already exists.", a.Username)
}

// SetAdminPassword replaces the password hash and ends the admin's
// sessions; ENOTFOUND if no such admin.
func (db *DB) SetAdminPassword(ctx context.Context, username, hash string) error {
	return db.inTx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE admins SET password_hash = $1 WHERE username = $2`, hash, username)
		if err != nil {
			return db.wrap(err, "set admin password")
		}
		if err := affected(res, func() error { return notFound("Admin %s not found.", username) }); err != nil {
			return err
		}
		// Whoever knew the old password is signed out everywhere.
		if _, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE username = $1`, username); err != nil {
			return db.wrap(err, "end admin sessions")
		}
		return nil
	})
}

// CreateSession stores a session (by token hash); ECONFLICT if it exists.
func (db *DB) CreateSession(ctx context.Context, s *hotdesk.Session) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO sessions (token_hash, username, csrf, expires) VALUES ($1, $2, $3, $4)`,
		s.TokenHash, s.Username, s.CSRF, ts(s.Expires))
	return db.conflict(err, "create session", "Session exists.")
}

// FindSession returns the session or ENOTFOUND. Expiry is the caller's rule.
func (db *DB) FindSession(ctx context.Context, tokenHash string) (*hotdesk.Session, error) {
	var s hotdesk.Session
	var exp int64
	err := db.r.QueryRowContext(ctx, `SELECT token_hash, username, csrf, expires FROM sessions WHERE token_hash = $1`,
		tokenHash).Scan(&s.TokenHash, &s.Username, &s.CSRF, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Session not found.")
	} else if err != nil {
		return nil, db.wrap(err, "find session")
	}
	s.Expires = fromTS(exp)
	return &s, nil
}

// DeleteSession removes the session; deleting a missing one is not an error.
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
	return db.wrap(err, "delete session")
}

// DeleteExpiredSessions removes sessions that expired at or before now.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	_, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires <= $1`, ts(now))
	return db.wrap(err, "delete expired sessions")
}

package sqlstore

import (
	"context"
	"database/sql"

	"github.com/hotdesk-pbx/hotdesk"
)

var _ hotdesk.AdminAccessStore = (*DB)(nil)

// AdminAccess returns the admin's role and state (an enabled admin when
// no row is stored); ENOTFOUND if no such admin.
func (db *DB) AdminAccess(ctx context.Context, username string) (*hotdesk.AdminAccess, error) {
	a, err := queryOne(ctx, db, db.r, "find admin access", func() error { return notFound("Admin %s not found.", username) },
		scanAdminAccess, `SELECT a.username, x.role, x.disabled FROM admins a
		LEFT JOIN admin_access x ON x.username = a.username WHERE a.username = $1`, username)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// ListAdminAccess returns every admin's access by username.
func (db *DB) ListAdminAccess(ctx context.Context) ([]hotdesk.AdminAccess, error) {
	return queryAll(ctx, db, db.r, "list admin access", scanAdminAccess, `SELECT a.username, x.role, x.disabled FROM admins a
		LEFT JOIN admin_access x ON x.username = a.username ORDER BY a.username`)
}

// scanAdminAccess reads an admin with no access row as an enabled admin.
func scanAdminAccess(row rowScanner) (hotdesk.AdminAccess, error) {
	a := hotdesk.AdminAccess{Role: hotdesk.RoleAdmin}
	var role sql.NullString
	var disabled sql.NullBool
	if err := row.Scan(&a.Username, &role, &disabled); err != nil {
		return a, err
	}
	if role.Valid {
		a.Role = role.String
	}
	a.Disabled = disabled.Bool
	return a, nil
}

// PutAdminAccess stores the role and state; disabling ends the admin's
// sessions in the same transaction. ENOTFOUND if no such admin.
func (db *DB) PutAdminAccess(ctx context.Context, a hotdesk.AdminAccess) error {
	return db.inTx(ctx, func(q querier) error {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM admins WHERE username = $1`, a.Username).Scan(&n); err != nil {
			return db.wrap(err, "find admin")
		}
		if n == 0 {
			return notFound("Admin %s not found.", a.Username)
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO admin_access (username, role, disabled) VALUES ($1, $2, $3)
			ON CONFLICT (username) DO UPDATE SET role = excluded.role, disabled = excluded.disabled`,
			a.Username, a.Role, a.Disabled); err != nil {
			return db.wrap(err, "put admin access")
		}
		if a.Disabled {
			if _, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE username = $1`, a.Username); err != nil {
				return db.wrap(err, "end sessions")
			}
		}
		return nil
	})
}

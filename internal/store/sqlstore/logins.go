package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

const loginCols = `extension, device, since, via, ends_at, policy, last_activity`

func scanLogin(row rowScanner) (*hotdesk.Login, error) {
	var l hotdesk.Login
	var since, last int64
	var ends sql.NullInt64
	if err := row.Scan(&l.Extension, &l.Device, &since, &l.Via, &ends, &l.Policy, &last); err != nil {
		return nil, err
	}
	l.Since, l.LastActivity, l.EndsAt = fromTS(since), fromTS(last), fromTSPtr(ends)
	return &l, nil
}

// ListLogins returns every login ordered by device.
func (db *DB) ListLogins(ctx context.Context) ([]*hotdesk.Login, error) {
	return db.listLogins(ctx, db.r)
}

// ListLogins lists logins inside the transaction.
func (tx *Tx) ListLogins(ctx context.Context) ([]*hotdesk.Login, error) {
	return tx.db.listLogins(ctx, tx.q)
}

func (db *DB) listLogins(ctx context.Context, q querier) ([]*hotdesk.Login, error) {
	return queryAll(ctx, db, q, "list logins", scanLogin, `SELECT `+loginCols+` FROM logins ORDER BY device`)
}

// LoginByUser returns the user's login or ENOTFOUND.
func (db *DB) LoginByUser(ctx context.Context, ext string) (*hotdesk.Login, error) {
	return db.loginBy(ctx, db.rs, "extension", ext)
}

// LoginByDevice returns the device's login or ENOTFOUND.
func (db *DB) LoginByDevice(ctx context.Context, device string) (*hotdesk.Login, error) {
	return db.loginBy(ctx, db.rs, "device", device)
}

// LoginByUser reads the user's login inside the transaction.
func (tx *Tx) LoginByUser(ctx context.Context, ext string) (*hotdesk.Login, error) {
	return tx.db.loginBy(ctx, tx.q, "extension", ext)
}

// LoginByDevice reads the device's login inside the transaction.
func (tx *Tx) LoginByDevice(ctx context.Context, device string) (*hotdesk.Login, error) {
	return tx.db.loginBy(ctx, tx.q, "device", device)
}

// loginBy looks a login up by col, which is a constant from this file.
func (db *DB) loginBy(ctx context.Context, q querier, col, v string) (*hotdesk.Login, error) {
	return queryOne(ctx, db, q, "find login", func() error { return notFound("No login for %s.", v) },
		scanLogin, `SELECT `+loginCols+` FROM logins WHERE `+col+` = $1`, v)
}

// TouchLogin records activity on the device's login; no-op if none.
func (db *DB) TouchLogin(ctx context.Context, device string, at time.Time) error {
	_, err := db.w.ExecContext(ctx, `UPDATE logins SET last_activity = $1 WHERE device = $2`, ts(at), device)
	return db.wrap(err, "touch login")
}

// CreateLogin returns ECONFLICT if the user or the device already has a
// login (the schema's unique keys decide, so concurrent transactions cannot
// both win) and ENOTFOUND if the user or device does not exist.
func (tx *Tx) CreateLogin(ctx context.Context, l *hotdesk.Login) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO logins (`+loginCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		l.Extension, l.Device, ts(l.Since), l.Via, tsPtr(l.EndsAt), l.Policy, ts(l.LastActivity))
	return tx.db.conflict(err, "create login", "User %s or device %s is already logged in.", l.Extension, l.Device)
}

// UpdateLogin rewrites the device's login; ENOTFOUND if none.
func (tx *Tx) UpdateLogin(ctx context.Context, l *hotdesk.Login) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE logins SET extension = $1, since = $3, via = $4, ends_at = $5,
		policy = $6, last_activity = $7 WHERE device = $2`,
		l.Extension, l.Device, ts(l.Since), l.Via, tsPtr(l.EndsAt), l.Policy, ts(l.LastActivity))
	if err != nil {
		return tx.db.conflict(err, "update login", "User %s is already logged in.", l.Extension)
	}
	return affected(res, func() error { return notFound("No login on device %s.", l.Device) })
}

// DeleteLogin ends the device's login; ENOTFOUND if none.
func (tx *Tx) DeleteLogin(ctx context.Context, device string) error {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM logins WHERE device = $1`, device)
	if err != nil {
		return tx.db.wrap(err, "delete login")
	}
	return affected(res, func() error { return notFound("No login on device %s.", device) })
}

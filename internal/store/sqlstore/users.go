package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
)

const userCols = `extension, name, email, hotdesk, pin_hash, caller_id, dids, outbound,
	blf, speed_dials, voicemail, ring_timeout, locked_until, created_at, updated_at`

// scanUser reads one row of userCols.
func scanUser(row rowScanner) (*hotdesk.User, error) {
	var u hotdesk.User
	var dids, blf, sd string
	var locked sql.NullInt64
	var created, updated int64
	err := row.Scan(&u.Extension, &u.Name, &u.Email, &u.Hotdesk, &u.PINHash, &u.CallerID, &dids,
		&u.Outbound, &blf, &sd, &u.Voicemail, &u.RingTimeout, &locked, &created, &updated)
	if err != nil {
		return nil, err
	}
	u.HasPIN = u.PINHash != ""
	u.LockedUntil = fromTSPtr(locked)
	u.CreatedAt, u.UpdatedAt = fromTS(created), fromTS(updated)
	if err := errors.Join(fromJSON(dids, &u.DIDs), fromJSON(blf, &u.BLF), fromJSON(sd, &u.SpeedDials)); err != nil {
		return nil, err
	}
	return &u, nil
}

// FindUser returns ENOTFOUND if the extension does not exist.
func (db *DB) FindUser(ctx context.Context, ext string) (*hotdesk.User, error) {
	return db.findUser(ctx, db.rs, ext)
}

func (db *DB) findUser(ctx context.Context, q querier, ext string) (*hotdesk.User, error) {
	return queryOne(ctx, db, q, "find user", func() error { return notFound("User %s not found.", ext) },
		scanUser, `SELECT `+userCols+` FROM users WHERE extension = $1`, ext)
}

// FindUsers returns matching users in extension order (numeric for digit
// strings: shorter first) and the total number of matches.
func (db *DB) FindUsers(ctx context.Context, f hotdesk.UserFilter) ([]*hotdesk.User, int, error) {
	var w where
	if f.Extension != "" {
		w.add(`extension = ?`, f.Extension)
	}
	if f.DID != "" {
		w.add(`extension IN (SELECT extension FROM user_dids WHERE did = ?)`, f.DID)
	}
	if f.Search != "" {
		p := contains(f.Search)
		w.add(`(LOWER(extension) LIKE ? ESCAPE '\' OR LOWER(name) LIKE ? ESCAPE '\' OR LOWER(email) LIKE ? ESCAPE '\')`, p, p, p)
	}
	var total int
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`+w.sql(), w.args...).Scan(&total); err != nil {
		return nil, 0, db.wrap(err, "count users")
	}
	q := `SELECT ` + userCols + ` FROM users` + w.sql() + ` ORDER BY LENGTH(extension), extension` + w.page(f.Limit, f.Offset)
	out, err := queryAll(ctx, db, db.r, "find users", scanUser, q, w.args...)
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// CreateUser returns ECONFLICT if the extension or one of its DIDs exists.
func (db *DB) CreateUser(ctx context.Context, u *hotdesk.User) error {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now()
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	u.HasPIN = u.PINHash != ""
	return db.inTx(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO users (`+userCols+`)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)`, userArgs(u)...)
		if err != nil {
			return db.conflict(err, "create user", "Extension %s already exists.", u.Extension)
		}
		return db.putDIDs(ctx, q, u.Extension, u.DIDs)
	})
}

// userArgs are u's values in userCols order.
func userArgs(u *hotdesk.User) []any {
	sd, _ := jsonText(u.SpeedDials) // a struct slice always encodes
	return []any{u.Extension, u.Name, u.Email, u.Hotdesk, u.PINHash, u.CallerID, strList(u.DIDs),
		u.Outbound, strList(u.BLF), sd, u.Voicemail, u.RingTimeout, tsPtr(u.LockedUntil),
		ts(u.CreatedAt), ts(u.UpdatedAt)}
}

// putDIDs replaces the user's rows in user_dids.
func (db *DB) putDIDs(ctx context.Context, q querier, ext string, dids []string) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM user_dids WHERE extension = $1`, ext); err != nil {
		return db.wrap(err, "delete dids")
	}
	for _, d := range dids {
		_, err := q.ExecContext(ctx, `INSERT INTO user_dids (did, extension) VALUES ($1, $2)`, d, ext)
		if err != nil {
			return db.conflict(err, "insert did", "Number %s already belongs to a user.", d)
		}
	}
	return nil
}

// UpdateUser returns ENOTFOUND or ECONFLICT (DID taken).
func (db *DB) UpdateUser(ctx context.Context, ext string, upd hotdesk.UserUpdate) (*hotdesk.User, error) {
	var u *hotdesk.User
	err := db.inTx(ctx, func(q querier) error {
		var err error
		u, err = db.updateUser(ctx, q, ext, upd)
		return err
	})
	return u, err
}

// UpdateUser is the transactional form of DB.UpdateUser.
func (tx *Tx) UpdateUser(ctx context.Context, ext string, upd hotdesk.UserUpdate) (*hotdesk.User, error) {
	return tx.db.updateUser(ctx, tx.q, ext, upd)
}

// FindUser reads the user inside the transaction.
func (tx *Tx) FindUser(ctx context.Context, ext string) (*hotdesk.User, error) {
	return tx.db.findUser(ctx, tx.q, ext)
}

func (db *DB) updateUser(ctx context.Context, q querier, ext string, upd hotdesk.UserUpdate) (*hotdesk.User, error) {
	u, err := db.findUser(ctx, q, ext)
	if err != nil {
		return nil, err
	}
	u.Apply(upd)
	u.UpdatedAt = now()
	_, err = q.ExecContext(ctx, `UPDATE users SET name = $2, email = $3, hotdesk = $4, pin_hash = $5,
		caller_id = $6, dids = $7, outbound = $8, blf = $9, speed_dials = $10, voicemail = $11,
		ring_timeout = $12, locked_until = $13, updated_at = $14 WHERE extension = $1`,
		removeCreated(userArgs(u))...)
	if err != nil {
		return nil, db.wrap(err, "update user")
	}
	if upd.DIDs != nil {
		if err := db.putDIDs(ctx, q, ext, u.DIDs); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// removeCreated drops created_at (second to last) from userArgs so the
// remaining placeholders stay numbered in column order.
func removeCreated(args []any) []any {
	n := len(args)
	return append(append([]any{}, args[:n-2]...), args[n-1])
}

// DeleteUser deletes the user and its PIN failures; the schema cascades to
// the login and DIDs. A user who owns personal phones is not deleted
// (ECONFLICT naming them): the phones would be left with an owner that no
// longer exists.
func (db *DB) DeleteUser(ctx context.Context, ext string) error {
	return db.inTx(ctx, func(q querier) error {
		_, err := db.deleteUser(ctx, q, ext, false)
		return err
	})
}

// DeleteUserFreeingPhones turns the user's personal phones into hot desk
// phones and deletes the user, in one transaction, and returns the ids of
// the phones it changed.
func (db *DB) DeleteUserFreeingPhones(ctx context.Context, ext string) (freed []string, err error) {
	err = db.inTx(ctx, func(q querier) error {
		freed, err = db.deleteUser(ctx, q, ext, true)
		return err
	})
	return freed, err
}

func (db *DB) deleteUser(ctx context.Context, q querier, ext string, free bool) ([]string, error) {
	phones, err := queryAll(ctx, db, q, "find owned phones", scanString,
		`SELECT id FROM devices WHERE owner = $1 AND mode = 'personal' ORDER BY id`, ext)
	if err != nil {
		return nil, err
	}
	if len(phones) > 0 && !free {
		return nil, &hotdesk.Error{Code: hotdesk.ECONFLICT, Field: "phones", Message: fmt.Sprintf(
			"User %s owns the personal phones %s: make them hot desk phones or delete them first.", ext, strings.Join(phones, ", "))}
	}
	if len(phones) > 0 {
		if _, err := q.ExecContext(ctx, `UPDATE devices SET mode = 'hotdesk', owner = '', updated_at = $2
			WHERE owner = $1 AND mode = 'personal'`, ext, ts(now())); err != nil {
			return nil, db.wrap(err, "free phones")
		}
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM pin_failures WHERE scope = 'user' AND subject = $1`, ext); err != nil {
		return nil, db.wrap(err, "delete pin failures")
	}
	res, err := q.ExecContext(ctx, `DELETE FROM users WHERE extension = $1`, ext)
	if err != nil {
		return nil, db.wrap(err, "delete user")
	}
	return phones, affected(res, func() error { return notFound("User %s not found.", ext) })
}

package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/hotdesk-pbx/hotdesk"
)

// The reads of a hot desk login (desk.Service.Login) take only the columns
// its rules check. FindUser and FindDevice read whole rows: 15 and 16
// columns through the driver, and the JSON columns decoded (DIDs, BLF keys,
// speed dials; location, auto-logout). Inside the login transaction that
// was the one SQLite writer's time, and the PIN prejudge read the user
// once more on the read pool (issue 18).

// LoginUser returns what a login checks of user ext: Extension, Hotdesk,
// PINHash (and HasPIN) and LockedUntil; the other fields are zero.
// ENOTFOUND if the extension does not exist.
//
// On SQLite it reads through the store's reader (reader.go): logins that
// queue up read their users in one read transaction.
func (db *DB) LoginUser(ctx context.Context, ext string) (*hotdesk.User, error) {
	if db.rd == nil {
		return db.loginUser(ctx, db.rs, ext)
	}
	var u *hotdesk.User
	err := db.rd.read(ctx, func(row rowScanner) (err error) {
		u, err = scanLoginUser(row)
		return err
	}, loginUserSQL, ext)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("User %s not found.", ext)
	}
	return u, db.wrap(err, "find user")
}

// LoginUser is DB.LoginUser inside the transaction.
func (tx *Tx) LoginUser(ctx context.Context, ext string) (*hotdesk.User, error) {
	return tx.db.loginUser(ctx, tx.q, ext)
}

func (db *DB) loginUser(ctx context.Context, q querier, ext string) (*hotdesk.User, error) {
	return queryOne(ctx, db, q, "find user", func() error { return notFound("User %s not found.", ext) },
		scanLoginUser, loginUserSQL, ext)
}

const loginUserSQL = `SELECT extension, hotdesk, pin_hash, locked_until FROM users WHERE extension = $1`

func scanLoginUser(row rowScanner) (*hotdesk.User, error) {
	var u hotdesk.User
	var locked sql.NullInt64
	if err := row.Scan(&u.Extension, &u.Hotdesk, &u.PINHash, &locked); err != nil {
		return nil, err
	}
	u.HasPIN = u.PINHash != ""
	u.LockedUntil = fromTSPtr(locked)
	return &u, nil
}

// LoginDevice returns what a login checks of device id inside the
// transaction: ID, Mode, LockedUntil and AutoLogout; the other fields are
// zero. ENOTFOUND if the device does not exist.
func (tx *Tx) LoginDevice(ctx context.Context, id string) (*hotdesk.Device, error) {
	return queryOne(ctx, tx.db, tx.q, "find device", func() error { return notFound("Device %s not found.", id) },
		scanLoginDevice, `SELECT id, mode, locked_until, auto_logout FROM devices WHERE id = $1`, id)
}

func scanLoginDevice(row rowScanner) (*hotdesk.Device, error) {
	var d hotdesk.Device
	var auto sql.NullString
	var locked sql.NullInt64
	if err := row.Scan(&d.ID, &d.Mode, &locked, &auto); err != nil {
		return nil, err
	}
	d.LockedUntil = fromTSPtr(locked)
	var err error
	if d.AutoLogout, err = autoLogoutOf(auto); err != nil {
		return nil, err
	}
	return &d, nil
}

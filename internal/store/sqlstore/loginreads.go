package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

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

// DeviceSecret returns what the registrar checks a device's digest with:
// ID and SIPPassword; the other fields are zero. ENOTFOUND if the device
// does not exist. A REGISTER whose credentials are not cached read the
// whole row (FindDevice: 16 columns, the JSON ones decoded), half of the
// lookup's CPU in 10,000 first registrations (issue 18).
func (db *DB) DeviceSecret(ctx context.Context, id string) (*hotdesk.Device, error) {
	return queryOne(ctx, db, db.rs, "find device", func() error { return notFound("Device %s not found.", id) },
		scanDeviceSecret, `SELECT id, sip_password FROM devices WHERE id = $1`, id)
}

func scanDeviceSecret(row rowScanner) (*hotdesk.Device, error) {
	var d hotdesk.Device
	if err := row.Scan(&d.ID, &d.SIPPassword); err != nil {
		return nil, err
	}
	return &d, nil
}

// secretsChunk is how many ids one DeviceSecrets query asks for at
// most; a shorter list is padded with its last id to the next of
// secretsSizes, so there are a few query texts, each prepared once.
const secretsChunk = 32

var secretsSizes = []int{4, 8, 16, secretsChunk}

// deviceSecretsQuery is the query text for n ids.
var deviceSecretsQuery = func() map[int]string {
	m := map[int]string{}
	for _, n := range secretsSizes {
		var b strings.Builder
		b.WriteString(`SELECT id, sip_password FROM devices WHERE id IN (`)
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("$" + strconv.Itoa(i+1))
		}
		b.WriteString(")")
		m[n] = b.String()
	}
	return m
}()

// DeviceSecrets is DeviceSecret of many ids at once: the devices found
// (ID and SIPPassword), in no order; an id that does not exist is left
// out. The registrar asks for the devices of the first REGISTERs queued
// together (a burst of first registrations), one query per 32 ids
// rather than one each (issue 18).
func (db *DB) DeviceSecrets(ctx context.Context, ids []string) ([]*hotdesk.Device, error) {
	var out []*hotdesk.Device
	for len(ids) > 0 {
		n := min(len(ids), secretsChunk)
		size := secretsChunk
		for _, sz := range secretsSizes {
			if n <= sz {
				size = sz
				break
			}
		}
		args := make([]any, size)
		for i := range args {
			args[i] = ids[min(i, n-1)]
		}
		ds, err := queryAll(ctx, db, db.rs, "find devices", scanDeviceSecret, deviceSecretsQuery[size], args...)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
		ids = ids[n:]
	}
	return out, nil
}

// LoginDeviceNow is LoginDevice and the device's login (nil when the
// phone is neutral) in one statement: a login read the phone, then its
// login, two statements inside the one SQLite writer's critical section
// (issue 18). ENOTFOUND if the device does not exist.
func (tx *Tx) LoginDeviceNow(ctx context.Context, id string) (*hotdesk.Device, *hotdesk.Login, error) {
	var l *hotdesk.Login
	d, err := queryOne(ctx, tx.db, tx.q, "find device", func() error { return notFound("Device %s not found.", id) },
		func(row rowScanner) (*hotdesk.Device, error) {
			var d hotdesk.Device
			var auto sql.NullString
			var locked sql.NullInt64
			var ln nullLogin
			if err := row.Scan(append([]any{&d.ID, &d.Mode, &locked, &auto}, ln.dest()...)...); err != nil {
				return nil, err
			}
			d.LockedUntil = fromTSPtr(locked)
			var err error
			if d.AutoLogout, err = autoLogoutOf(auto); err != nil {
				return nil, err
			}
			l = ln.login()
			return &d, nil
		}, `SELECT d.id, d.mode, d.locked_until, d.auto_logout, `+nullLoginCols+`
			FROM devices d LEFT JOIN logins l ON l.device = d.id WHERE d.id = $1`, id)
	return d, l, err
}

// nullLoginCols are loginCols of a LEFT JOIN's logins l, NULL when none.
const nullLoginCols = `l.extension, l.device, l.since, l.via, l.ends_at, l.policy, l.last_activity`

// nullLogin scans nullLoginCols.
type nullLogin struct {
	ext, device, via, policy sql.NullString
	since, ends, last        sql.NullInt64
}

func (n *nullLogin) dest() []any {
	return []any{&n.ext, &n.device, &n.since, &n.via, &n.ends, &n.policy, &n.last}
}

// login is the row's login, nil when the join found none.
func (n *nullLogin) login() *hotdesk.Login {
	if !n.device.Valid {
		return nil
	}
	return &hotdesk.Login{Extension: n.ext.String, Device: n.device.String, Since: fromTS(n.since.Int64),
		Via: n.via.String, EndsAt: fromTSPtr(n.ends), Policy: n.policy.String, LastActivity: fromTS(n.last.Int64)}
}

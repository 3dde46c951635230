package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hotdesk-pbx/hotdesk"
)

const deviceCols = `id, label, mac, model, mode, owner, location, emergency_callback,
	sip_password, provision_token, auto_logout, created_at, updated_at, locked_until,
	sip_transport, srtp`

// insertDevice inserts one row of deviceCols (deviceArgs); CreateDevice
// and the CSV import both use it, so a new column is added in one place.
const insertDevice = `INSERT INTO devices (` + deviceCols + `)
	VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)`

// scanDevice reads one row of deviceCols.
func scanDevice(row rowScanner) (*hotdesk.Device, error) {
	var d hotdesk.Device
	var loc string
	var auto sql.NullString
	var created, updated int64
	var locked sql.NullInt64
	err := row.Scan(&d.ID, &d.Label, &d.MAC, &d.Model, &d.Mode, &d.Owner, &loc, &d.EmergencyCallback,
		&d.SIPPassword, &d.ProvisionToken, &auto, &created, &updated, &locked,
		&d.SIPTransport, &d.SRTP)
	if err != nil {
		return nil, err
	}
	d.LockedUntil = fromTSPtr(locked)
	d.CreatedAt, d.UpdatedAt = fromTS(created), fromTS(updated)
	if err := fromJSON(loc, &d.Location); err != nil {
		return nil, err
	}
	if d.AutoLogout, err = autoLogoutOf(auto); err != nil {
		return nil, err
	}
	return &d, nil
}

// autoLogoutOf decodes a device's auto_logout column (NULL: none).
func autoLogoutOf(auto sql.NullString) (*hotdesk.AutoLogout, error) {
	if !auto.Valid {
		return nil, nil
	}
	var p hotdesk.AutoLogout
	if err := fromJSON(auto.String, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// deviceArgs are d's values in deviceCols order.
func deviceArgs(d *hotdesk.Device) []any {
	loc, _ := jsonText(d.Location) // plain strings always encode
	var auto sql.NullString
	if d.AutoLogout != nil {
		auto.String, _ = jsonText(d.AutoLogout)
		auto.Valid = true
	}
	return []any{d.ID, d.Label, d.MAC, d.Model, d.Mode, d.Owner, loc, d.EmergencyCallback,
		d.SIPPassword, d.ProvisionToken, auto, ts(d.CreatedAt), ts(d.UpdatedAt), tsPtr(d.LockedUntil),
		d.SIPTransport, d.SRTP}
}

// FindDevice returns ENOTFOUND if the id does not exist.
func (db *DB) FindDevice(ctx context.Context, id string) (*hotdesk.Device, error) {
	return db.findDevice(ctx, db.rs, id)
}

// FindDevice reads the device inside the transaction.
func (tx *Tx) FindDevice(ctx context.Context, id string) (*hotdesk.Device, error) {
	return tx.db.findDevice(ctx, tx.q, id)
}

func (db *DB) findDevice(ctx context.Context, q querier, id string) (*hotdesk.Device, error) {
	return queryOne(ctx, db, q, "find device", func() error { return notFound("Device %s not found.", id) },
		scanDevice, `SELECT `+deviceCols+` FROM devices WHERE id = $1`, id)
}

// FindDevices returns matching devices ordered by id, and the total count.
func (db *DB) FindDevices(ctx context.Context, f hotdesk.DeviceFilter) ([]*hotdesk.Device, int, error) {
	var w where
	if f.ID != "" {
		w.add(`id = ?`, f.ID)
	}
	if f.MAC != "" {
		w.add(`mac = ?`, f.MAC)
	}
	if f.Mode != "" {
		w.add(`mode = ?`, f.Mode)
	}
	if f.Owner != "" {
		w.add(`owner = ?`, f.Owner)
	}
	if f.Search != "" {
		p := contains(f.Search)
		w.add(`(LOWER(id) LIKE ? ESCAPE '\' OR LOWER(label) LIKE ? ESCAPE '\' OR LOWER(location) LIKE ? ESCAPE '\')`, p, p, p)
	}
	var total int
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM devices`+w.sql(), w.args...).Scan(&total); err != nil {
		return nil, 0, db.wrap(err, "count devices")
	}
	out, err := queryAll(ctx, db, db.r, "find devices", scanDevice,
		`SELECT `+deviceCols+` FROM devices`+w.sql()+` ORDER BY id`+w.page(f.Limit, f.Offset), w.args...)
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// CreateDevice assigns the next free HD00001-style id when d.ID is empty and
// d.Mode is hotdesk. The counter row is updated in the same transaction, so
// concurrent creators queue on it and ids are never handed out twice or
// reused after a delete. Returns ECONFLICT if the id or MAC exists.
func (db *DB) CreateDevice(ctx context.Context, d *hotdesk.Device) error {
	assigned := false
	err := db.inTx(ctx, func(q querier) error {
		if err := db.newDevice(ctx, q, d, &assigned); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, insertDevice, deviceArgs(d)...)
		return err
	})
	err = db.deviceConflict(ctx, err, d, "create device")
	if err != nil && assigned {
		d.ID = ""
	}
	return err
}

// newDevice checks d for a create and fills in what it leaves out: the
// times and, for a hot desk phone without an id, the next HD id (setting
// *assigned). In a retried transaction an id it assigned before was
// rolled back with the counter, so it takes one afresh.
func (db *DB) newDevice(ctx context.Context, q querier, d *hotdesk.Device, assigned *bool) error {
	if *assigned {
		d.ID, *assigned = "", false
	}
	if d.ID == "" && d.Mode != hotdesk.ModeHotdesk {
		return hotdesk.Invalidf("id", "A personal device needs an id.")
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = now()
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = d.CreatedAt
	}
	if d.ID == "" {
		id, err := db.nextHDID(ctx, q)
		if err != nil {
			return err
		}
		d.ID, *assigned = id, true
	}
	return nil
}

// deviceConflict explains a unique violation on devices (id or MAC). Call it
// after the transaction has rolled back: it looks the MAC up outside it.
func (db *DB) deviceConflict(ctx context.Context, err error, d *hotdesk.Device, op string) error {
	if err == nil || db.classify(err) != ClassUnique {
		return db.wrap(err, op)
	}
	if d.MAC != "" {
		var id string
		e := db.r.QueryRowContext(ctx, `SELECT id FROM devices WHERE mac = $1 AND id <> $2`, d.MAC, d.ID).Scan(&id)
		if e == nil {
			return hotdesk.Errorf(hotdesk.ECONFLICT, "MAC %s is already used by device %s.", d.MAC, id)
		}
	}
	var id string
	if e := db.r.QueryRowContext(ctx, `SELECT id FROM devices WHERE lower(id) = lower($1)`, d.ID).Scan(&id); e == nil && id != d.ID {
		return hotdesk.Errorf(hotdesk.ECONFLICT, "Device %s already exists (ids are the same regardless of case).", id)
	}
	return hotdesk.Errorf(hotdesk.ECONFLICT, "Device %s already exists.", d.ID)
}

// nextHDID advances the hot desk counter past ids already taken.
func (db *DB) nextHDID(ctx context.Context, q querier) (string, error) {
	for range 100000 {
		var n int64
		err := q.QueryRowContext(ctx, `UPDATE sequences SET value = value + 1 WHERE name = 'hotdesk_device' RETURNING value`).Scan(&n)
		if err != nil {
			return "", db.wrap(err, "next device id")
		}
		id := fmt.Sprintf("HD%05d", n)
		var one int
		err = q.QueryRowContext(ctx, `SELECT 1 FROM devices WHERE lower(id) = lower($1)`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return id, nil
		} else if err != nil {
			return "", db.wrap(err, "next device id")
		}
	}
	return "", fmt.Errorf("next device id: no free id")
}

// UpdateDevice changes the non-nil fields. Returns ENOTFOUND or ECONFLICT (MAC).
func (db *DB) UpdateDevice(ctx context.Context, id string, upd hotdesk.DeviceUpdate) (*hotdesk.Device, error) {
	var d *hotdesk.Device
	err := db.inTx(ctx, func(q querier) error {
		var err error
		d, err = db.updateDevice(ctx, q, id, upd)
		return err
	})
	if err = db.deviceConflict(ctx, err, d, "update device"); err != nil {
		return nil, err
	}
	return d, nil
}

// UpdateDevice is the transactional form of DB.UpdateDevice.
func (tx *Tx) UpdateDevice(ctx context.Context, id string, upd hotdesk.DeviceUpdate) (*hotdesk.Device, error) {
	d, err := tx.db.updateDevice(ctx, tx.q, id, upd)
	if err != nil && tx.db.classify(err) == ClassUnique {
		return nil, hotdesk.Errorf(hotdesk.ECONFLICT, "MAC %s is already used by another device.", d.MAC)
	}
	return d, tx.db.wrap(err, "update device")
}

func (db *DB) updateDevice(ctx context.Context, q querier, id string, upd hotdesk.DeviceUpdate) (*hotdesk.Device, error) {
	d, err := db.findDevice(ctx, q, id)
	if err != nil {
		return nil, err
	}
	d.Apply(upd)
	d.UpdatedAt = now()
	a := deviceArgs(d)
	_, err = q.ExecContext(ctx, `UPDATE devices SET label = $2, mac = $3, model = $4, mode = $5,
		owner = $6, location = $7, emergency_callback = $8, sip_password = $9,
		provision_token = $10, auto_logout = $11, updated_at = $12, locked_until = $13,
		sip_transport = $14, srtp = $15 WHERE id = $1`,
		append(a[:11:11], a[12], a[13], a[14], a[15])...)
	return d, err
}

// DeleteDevice deletes the device, its bindings and (by cascade) its login.
func (db *DB) DeleteDevice(ctx context.Context, id string) error {
	return db.inTx(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `DELETE FROM bindings WHERE device = $1`, id); err != nil {
			return db.wrap(err, "delete bindings")
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM pin_failures WHERE scope = 'device' AND subject = $1`, id); err != nil {
			return db.wrap(err, "delete pin failures")
		}
		res, err := q.ExecContext(ctx, `DELETE FROM devices WHERE id = $1`, id)
		if err != nil {
			return db.wrap(err, "delete device")
		}
		return affected(res, func() error { return notFound("Device %s not found.", id) })
	})
}

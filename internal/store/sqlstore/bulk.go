package sqlstore

import (
	"context"

	"github.com/hotdesk-pbx/hotdesk"
)

var _ hotdesk.BulkStore = (*DB)(nil)

// ApplyBulk applies b in one transaction: creates users, creates devices,
// then updates users and devices. Any error rolls everything back.
func (db *DB) ApplyBulk(ctx context.Context, b hotdesk.Bulk) error {
	assigned := make([]bool, len(b.CreateDevices))
	err := db.inTx(ctx, func(q querier) error {
		for _, u := range b.CreateUsers {
			if err := db.insertUser(ctx, q, u); err != nil {
				return err
			}
		}
		for i, d := range b.CreateDevices {
			if err := db.insertDevice(ctx, q, d, &assigned[i]); err != nil {
				return err
			}
		}
		for _, u := range b.UpdateUsers {
			if _, err := db.updateUser(ctx, q, u.Extension, u.Update); err != nil {
				return err
			}
		}
		for _, d := range b.UpdateDevices {
			if _, err := db.updateDevice(ctx, q, d.ID, d.Update); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for i, d := range b.CreateDevices { // a retry or the caller sees them unassigned
			if assigned[i] {
				d.ID = ""
			}
		}
	}
	return err
}

func (db *DB) insertUser(ctx context.Context, q querier, u *hotdesk.User) error {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now()
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	u.HasPIN = u.PINHash != ""
	_, err := q.ExecContext(ctx, `INSERT INTO users (`+userCols+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)`, userArgs(u)...)
	if err != nil {
		return db.conflict(err, "create user", "Extension %s already exists.", u.Extension)
	}
	return db.putDIDs(ctx, q, u.Extension, u.DIDs)
}

func (db *DB) insertDevice(ctx context.Context, q querier, d *hotdesk.Device, assigned *bool) error {
	if err := db.newDevice(ctx, q, d, assigned); err != nil {
		return err
	}
	if _, err := q.ExecContext(ctx, insertDevice, deviceArgs(d)...); err != nil {
		return db.conflict(err, "create device", "Device %s or its MAC address already exists.", d.ID)
	}
	return nil
}

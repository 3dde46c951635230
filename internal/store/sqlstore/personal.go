package sqlstore

import (
	"context"

	"github.com/hotdesk-pbx/hotdesk"
)

// PersonalDevices returns the ids of the personal phones owner owns, in id
// order: what FindDevices with Mode personal and Owner gives, without the
// count and the other columns, through the owner index (a call to a user
// rings their personal phones, so every call asks).
func (db *DB) PersonalDevices(ctx context.Context, owner string) ([]string, error) {
	if owner == "" {
		return nil, nil
	}
	return queryAll(ctx, db, db.rs, "personal devices", scanString,
		`SELECT id FROM devices WHERE owner = $1 AND owner <> '' AND mode = $2 ORDER BY id`, owner, hotdesk.ModePersonal)
}

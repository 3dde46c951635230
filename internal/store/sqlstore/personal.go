package sqlstore

import (
	"context"

	"github.com/hotdesk-pbx/hotdesk"
)

// PersonalDevices returns the ids of the personal phones owner owns, in id
// order: what FindDevices with Mode personal and Owner gives, without the
// count and the other columns, through the owner index (a call to a user
// rings their personal phones, so every call asks). It does not go through
// queryAll: there the arguments would escape to the heap (its querier is
// an interface), one allocation more on every call.
func (db *DB) PersonalDevices(ctx context.Context, owner string) ([]string, error) {
	if owner == "" {
		return nil, nil
	}
	rows, err := db.rs.QueryContext(ctx, `SELECT id FROM devices WHERE owner = $1 AND owner <> '' AND mode = $2 ORDER BY id`,
		owner, hotdesk.ModePersonal)
	if err != nil {
		return nil, db.wrap(err, "personal devices")
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, db.wrap(err, "personal devices")
		}
		ids = append(ids, id)
	}
	return ids, db.wrap(rows.Err(), "personal devices")
}

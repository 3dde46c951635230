package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/hotdesk-pbx/hotdesk"
)

// inviteSQL reads a hotdesk.InviteParties in one statement: one round trip to the
// database and one read snapshot instead of five lookups (the caller's
// login and user, the callee's user, login and personal phones), each of
// which waited for a read connection under call load (issue 18). Rows are
// tagged: 1 the caller ($1 the hot desk phone, $2 the personal phone's
// owner), 2 the callee ($3) with the device it is logged in on, 3 one of
// the callee's personal phones (the user columns are placeholders).
const inviteSQL = `SELECT 1 AS kind, ` + userCols + `, '' AS extra FROM users WHERE extension = $2 AND $2 <> ''
UNION ALL
SELECT 1, ` + inviteUserCols + `, '' FROM logins l JOIN users u ON u.extension = l.extension WHERE l.device = $1 AND $1 <> ''
UNION ALL
SELECT 2, ` + userCols + `, COALESCE((SELECT device FROM logins WHERE extension = $3), '') FROM users WHERE extension = $3 AND $3 <> ''
UNION ALL
SELECT 3, '', '', '', FALSE, '', '', '', '', '', '', FALSE, 0, NULL, 0, 0, id FROM devices
	WHERE owner = $3 AND owner <> '' AND $3 <> '' AND mode = $4`

// inviteUserCols are userCols of the users table aliased u.
const inviteUserCols = `u.extension, u.name, u.email, u.hotdesk, u.pin_hash, u.caller_id, u.dids, u.outbound,
	u.blf, u.speed_dials, u.voicemail, u.ring_timeout, u.locked_until, u.created_at, u.updated_at`

// InviteLookup reads, in one statement, the user of the calling phone
// (callerDevice's login when owner is "", else the user owner) and, when
// callee is not "", the user with that extension, the device they are
// logged in on and their personal phones. A party not found is left nil
// or empty; only a database failure is an error.
func (db *DB) InviteLookup(ctx context.Context, callerDevice, owner, callee string) (hotdesk.InviteParties, error) {
	if owner != "" {
		callerDevice = ""
	}
	var inv hotdesk.InviteParties
	rows, err := db.rs.QueryContext(ctx, inviteSQL, callerDevice, owner, callee, hotdesk.ModePersonal)
	if err != nil {
		return inv, db.wrap(err, "invite lookup")
	}
	defer rows.Close()
	for rows.Next() {
		kind, u, extra, err := scanInviteRow(rows)
		if err != nil {
			return hotdesk.InviteParties{}, db.wrap(err, "invite lookup")
		}
		switch kind {
		case 1:
			inv.Caller = u
		case 2:
			inv.Callee, inv.CalleeAt = u, extra
		case 3:
			inv.CalleePersonal = append(inv.CalleePersonal, extra)
		}
	}
	if err := rows.Err(); err != nil {
		return hotdesk.InviteParties{}, db.wrap(err, "invite lookup")
	}
	slices.Sort(inv.CalleePersonal)
	return inv, nil
}

// scanInviteRow reads one row of inviteSQL: its kind, the user (as
// scanUser reads it; nil for a personal phone's row) and the extra column.
// The lists most users have empty are not run through the JSON decoder.
func scanInviteRow(row rowScanner) (int, *hotdesk.User, string, error) {
	var kind int
	var extra string
	var u hotdesk.User
	var dids, blf, sd string
	var locked sql.NullInt64
	var created, updated int64
	err := row.Scan(&kind, &u.Extension, &u.Name, &u.Email, &u.Hotdesk, &u.PINHash, &u.CallerID, &dids,
		&u.Outbound, &blf, &sd, &u.Voicemail, &u.RingTimeout, &locked, &created, &updated, &extra)
	if err != nil || kind == 3 {
		return kind, nil, extra, err
	}
	u.HasPIN = u.PINHash != ""
	u.LockedUntil = fromTSPtr(locked)
	u.CreatedAt, u.UpdatedAt = fromTS(created), fromTS(updated)
	if err := errors.Join(jsonList(dids, &u.DIDs), jsonList(blf, &u.BLF), jsonList(sd, &u.SpeedDials)); err != nil {
		return kind, nil, extra, err
	}
	return kind, &u, extra, nil
}

// jsonList is fromJSON for a list, without the decoder for an empty one
// (the same result: nil for "" and null, empty for []).
func jsonList[T any](s string, v *[]T) error {
	switch s {
	case "", "null":
		return nil
	case "[]":
		*v = []T{}
		return nil
	}
	return fromJSON(s, v)
}

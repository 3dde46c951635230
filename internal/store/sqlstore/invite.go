package sqlstore

import (
	"context"
	"slices"

	"github.com/hotdesk-pbx/hotdesk"
)

// Invite is what routing a call from a phone to an extension reads: who
// the call belongs to, who is called, and which phones ring.
type Invite struct {
	// Caller is the user the calling phone's calls belong to: the user
	// logged in on it (a hot desk phone) or its owner (a personal phone);
	// nil when there is none (a neutral phone, an owner deleted).
	Caller *hotdesk.User
	// Callee is the user with the dialled extension; nil when there is
	// none or no callee was asked for.
	Callee *hotdesk.User
	// CalleeAt is the device the callee is logged in on; "" when none.
	CalleeAt string
	// CalleePersonal are the ids of the callee's personal phones, in id
	// order (PersonalDevices).
	CalleePersonal []string
}

// inviteSQL reads an Invite in one statement: one round trip to the
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
func (db *DB) InviteLookup(ctx context.Context, callerDevice, owner, callee string) (Invite, error) {
	if owner != "" {
		callerDevice = ""
	}
	var inv Invite
	rows, err := db.rs.QueryContext(ctx, inviteSQL, callerDevice, owner, callee, hotdesk.ModePersonal)
	if err != nil {
		return inv, db.wrap(err, "invite lookup")
	}
	defer rows.Close()
	for rows.Next() {
		var kind int
		var extra string
		u, err := scanUser(taggedRow{rows: rows, kind: &kind, extra: &extra})
		if err != nil {
			return Invite{}, db.wrap(err, "invite lookup")
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
		return Invite{}, db.wrap(err, "invite lookup")
	}
	slices.Sort(inv.CalleePersonal)
	return inv, nil
}

// taggedRow scans a row of inviteSQL: its kind, the user columns (for
// scanUser) and the extra column.
type taggedRow struct {
	rows  interface{ Scan(...any) error }
	kind  *int
	extra *string
}

func (r taggedRow) Scan(dest ...any) error {
	all := make([]any, 0, len(dest)+2)
	all = append(all, r.kind)
	all = append(all, dest...)
	return r.rows.Scan(append(all, r.extra)...)
}

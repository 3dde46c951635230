package sqlstore

import "context"

// deviceMailboxSQL is DeviceMailbox's query.
const deviceMailboxSQL = `SELECT w.ext,
		(SELECT COUNT(*) FROM voicemail WHERE extension = w.ext AND is_new),
		(SELECT COUNT(*) FROM voicemail WHERE extension = w.ext AND NOT is_new)
		FROM (SELECT COALESCE(
			(SELECT extension FROM logins WHERE device = $1),
			(SELECT owner FROM devices WHERE id = $1 AND mode = 'personal'),
			'') AS ext) w`

// DeviceMailbox reads in one query what a phone's message lamp shows
// (internal/mwi): the extension whose mailbox it is — the user logged in
// on it, else the owner of a personal phone, else "" — and that mailbox's
// new and saved message counts. The lamp is read after every login and
// logout; as LoginByDevice, FindDevice and VoicemailCounts it was up to
// three read transactions (issue 18). An unknown device is "", 0, 0.
func (db *DB) DeviceMailbox(ctx context.Context, device string) (ext string, newCount, oldCount int, err error) {
	err = db.rs.QueryRowContext(ctx, deviceMailboxSQL, device).Scan(&ext, &newCount, &oldCount)
	return ext, newCount, oldCount, db.wrap(err, "device mailbox")
}

// DeviceMailboxes is DeviceMailbox for each of devices, each called with
// the answer for devices[i]. On SQLite (one writer, group commit) they are
// read in one read transaction: a query of its own starts one, which costs
// more than the query (the WAL's index header read afresh, the pager's
// cache checked against the last commit). PostgreSQL runs them one by one.
func (db *DB) DeviceMailboxes(ctx context.Context, devices []string, each func(i int, ext string, newCount, oldCount int)) error {
	if db.group != nil && len(devices) > 1 {
		stmt, err := db.rs.stmt(deviceMailboxSQL)
		if err != nil {
			return db.wrap(err, "device mailboxes")
		}
		tx, err := db.r.BeginTx(ctx, nil)
		if err != nil {
			return db.wrap(err, "device mailboxes")
		}
		defer tx.Rollback() //nolint:errcheck // read only: nothing to undo
		st := tx.StmtContext(ctx, stmt)
		for i, d := range devices {
			var ext string
			var nw, old int
			if err := st.QueryRowContext(ctx, d).Scan(&ext, &nw, &old); err != nil {
				return db.wrap(err, "device mailboxes")
			}
			each(i, ext, nw, old)
		}
		return db.wrap(tx.Commit(), "device mailboxes")
	}
	for i, d := range devices {
		var ext string
		var nw, old int
		if err := db.rs.QueryRowContext(ctx, deviceMailboxSQL, d).Scan(&ext, &nw, &old); err != nil {
			return db.wrap(err, "device mailboxes")
		}
		each(i, ext, nw, old)
	}
	return nil
}

package sqlstore

import "context"

// DeviceMailbox reads in one query what a phone's message lamp shows
// (internal/mwi): the extension whose mailbox it is — the user logged in
// on it, else the owner of a personal phone, else "" — and that mailbox's
// new and saved message counts. The lamp is read after every login and
// logout; as LoginByDevice, FindDevice and VoicemailCounts it was up to
// three read transactions (issue 18). An unknown device is "", 0, 0.
func (db *DB) DeviceMailbox(ctx context.Context, device string) (ext string, newCount, oldCount int, err error) {
	err = db.rs.QueryRowContext(ctx, `SELECT w.ext,
		(SELECT COUNT(*) FROM voicemail WHERE extension = w.ext AND is_new),
		(SELECT COUNT(*) FROM voicemail WHERE extension = w.ext AND NOT is_new)
		FROM (SELECT COALESCE(
			(SELECT extension FROM logins WHERE device = $1),
			(SELECT owner FROM devices WHERE id = $1 AND mode = 'personal'),
			'') AS ext) w`, device).Scan(&ext, &newCount, &oldCount)
	return ext, newCount, oldCount, db.wrap(err, "device mailbox")
}

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
//
// On SQLite it reads through the store's reader (reader.go), as LoginUser
// does: the lamps and the PIN prejudges of logins that queue up are read
// in one read transaction, on the reader's goroutine.
func (db *DB) DeviceMailbox(ctx context.Context, device string) (ext string, newCount, oldCount int, err error) {
	scan := func(row rowScanner) error { return row.Scan(&ext, &newCount, &oldCount) }
	if db.rd == nil {
		err = scan(db.rs.QueryRowContext(ctx, deviceMailboxSQL, device))
	} else {
		err = db.rd.read(ctx, scan, deviceMailboxSQL, device)
	}
	return ext, newCount, oldCount, db.wrap(err, "device mailbox")
}

// litDevicesSQL is LitDevices' query: the phones DeviceMailbox would show
// new messages on (a login's user, else a personal phone's owner).
const litDevicesSQL = `SELECT l.device FROM logins l
	WHERE EXISTS (SELECT 1 FROM voicemail v WHERE v.extension = l.extension AND v.is_new)
	UNION
	SELECT d.id FROM devices d
	WHERE d.mode = 'personal' AND d.owner <> ''
	AND NOT EXISTS (SELECT 1 FROM logins WHERE device = d.id)
	AND EXISTS (SELECT 1 FROM voicemail v WHERE v.extension = d.owner AND v.is_new)
	ORDER BY 1`

// LitDevices returns, in id order, the phones whose message lamp is lit:
// those DeviceMailbox shows new messages on. internal/mwi reads it when it
// may have missed events (a registration flood overran its queue) to light
// again the lamps of phones that came up meanwhile. One query, however many
// phones: its size is the lit lamps, not the phones.
func (db *DB) LitDevices(ctx context.Context) ([]string, error) {
	return queryAll(ctx, db, db.rs, "lit devices", scanString, litDevicesSQL)
}

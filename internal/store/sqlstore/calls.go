package sqlstore

import (
	"context"
	"database/sql"

	"github.com/hotdesk-pbx/hotdesk"
)

// CreateCall stores c and assigns c.ID.
func (db *DB) CreateCall(ctx context.Context, c *hotdesk.CallRecord) error {
	err := db.w.QueryRowContext(ctx, `INSERT INTO calls (call_id, extension, direction, peer, device,
		start_at, answer_at, end_at, result, emergency) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id`,
		c.CallID, c.Extension, c.Direction, c.Peer, c.Device, ts(c.Start), tsPtr(c.Answer), tsPtr(c.End),
		c.Result, c.Emergency).Scan(&c.ID)
	return db.wrap(err, "create call")
}

// UpdateCall rewrites Answer, End and Result by ID; ENOTFOUND if none.
func (db *DB) UpdateCall(ctx context.Context, c *hotdesk.CallRecord) error {
	res, err := db.w.ExecContext(ctx, `UPDATE calls SET answer_at = $1, end_at = $2, result = $3 WHERE id = $4`,
		tsPtr(c.Answer), tsPtr(c.End), c.Result, c.ID)
	if err != nil {
		return db.wrap(err, "update call")
	}
	return affected(res, func() error { return notFound("Call %d not found.", c.ID) })
}

// FindCalls returns the user's calls, newest first; limit <= 0 means 100.
func (db *DB) FindCalls(ctx context.Context, ext string, limit int) ([]*hotdesk.CallRecord, error) {
	if limit <= 0 {
		limit = 100
	}
	return db.queryCalls(ctx, "find calls", `SELECT `+callCols+` FROM calls WHERE extension = $1
		ORDER BY start_at DESC, id DESC LIMIT $2`, ext, limit)
}

// callCols are the columns queryCalls reads.
const callCols = `id, call_id, extension, direction, peer, device, start_at, answer_at, end_at, result, emergency`

// queryCalls runs query, which selects callCols, and reads the records.
func (db *DB) queryCalls(ctx context.Context, op, query string, args ...any) ([]*hotdesk.CallRecord, error) {
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, db.wrap(err, op)
	}
	defer rows.Close()
	var out []*hotdesk.CallRecord
	for rows.Next() {
		var c hotdesk.CallRecord
		var start int64
		var answer, end sql.NullInt64
		err := rows.Scan(&c.ID, &c.CallID, &c.Extension, &c.Direction, &c.Peer, &c.Device, &start,
			&answer, &end, &c.Result, &c.Emergency)
		if err != nil {
			return nil, db.wrap(err, "scan call")
		}
		c.Start, c.Answer, c.End = fromTS(start), fromTSPtr(answer), fromTSPtr(end)
		out = append(out, &c)
	}
	return out, db.wrap(rows.Err(), op)
}

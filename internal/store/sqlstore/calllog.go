package sqlstore

import (
	"context"

	"github.com/hotdesk-pbx/hotdesk"
)

var _ hotdesk.CallLogStore = (*DB)(nil)

// FindCallLog returns the matching call records of every user, newest
// first, and the number of matches.
func (db *DB) FindCallLog(ctx context.Context, f hotdesk.CallFilter) ([]*hotdesk.CallRecord, int, error) {
	var w where
	if f.Extension != "" {
		w.add(`extension = ?`, f.Extension)
	}
	if f.Device != "" {
		w.add(`LOWER(device) = LOWER(?)`, f.Device)
	}
	if f.Result != "" {
		w.add(`result = ?`, f.Result)
	}
	if !f.Since.IsZero() {
		w.add(`start_at >= ?`, ts(f.Since))
	}
	if !f.Until.IsZero() {
		w.add(`start_at < ?`, ts(f.Until))
	}
	var total int
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM calls`+w.sql(), w.args...).Scan(&total); err != nil {
		return nil, 0, db.wrap(err, "count calls")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	out, err := db.queryCalls(ctx, "find call log", `SELECT `+callCols+` FROM calls`+w.sql()+
		` ORDER BY start_at DESC, id DESC`+w.page(limit, f.Offset), w.args...)
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// PINFailures returns the wrong-PIN times counted against (scope, key),
// oldest first.
func (tx *Tx) PINFailures(ctx context.Context, scope, key string) ([]time.Time, error) {
	var text string
	err := tx.q.QueryRowContext(ctx, `SELECT times FROM pin_failures WHERE scope = $1 AND subject = $2`,
		scope, key).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, tx.db.wrap(err, "pin failures")
	}
	var ns []int64
	if err := fromJSON(text, &ns); err != nil {
		return nil, tx.db.wrap(err, "pin failures")
	}
	out := make([]time.Time, len(ns))
	for i, n := range ns {
		out[i] = fromTS(n)
	}
	return out, nil
}

// PutPINFailures replaces the failure times of (scope, key); an empty list
// deletes the row.
func (tx *Tx) PutPINFailures(ctx context.Context, scope, key string, times []time.Time) error {
	if len(times) == 0 {
		_, err := tx.q.ExecContext(ctx, `DELETE FROM pin_failures WHERE scope = $1 AND subject = $2`, scope, key)
		return tx.db.wrap(err, "put pin failures")
	}
	ns := make([]int64, len(times))
	for i, t := range times {
		ns[i] = ts(t)
	}
	text, err := jsonText(ns)
	if err != nil {
		return err
	}
	_, err = tx.q.ExecContext(ctx, `INSERT INTO pin_failures (scope, subject, times) VALUES ($1, $2, $3)
		ON CONFLICT (scope, subject) DO UPDATE SET times = excluded.times`, scope, key, text)
	return tx.db.wrap(err, "put pin failures")
}

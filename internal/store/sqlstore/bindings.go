package sqlstore

import (
	"context"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

const bindingCols = `device, contact, expires, call_id, cseq, user_agent, source, transport, node, updated`

// PutBindings upserts bindings keyed by (device, contact) in one transaction,
// so a registrar batch costs one durable commit.
func (db *DB) PutBindings(ctx context.Context, bs []hotdesk.Binding) error {
	if len(bs) == 0 {
		return nil
	}
	return db.inTx(ctx, func(q querier) error {
		st, err := q.PrepareContext(ctx, `INSERT INTO bindings (`+bindingCols+`)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
			ON CONFLICT (device, contact) DO UPDATE SET expires = excluded.expires,
			call_id = excluded.call_id, cseq = excluded.cseq, user_agent = excluded.user_agent,
			source = excluded.source, transport = excluded.transport, node = excluded.node,
			updated = excluded.updated`)
		if err != nil {
			return db.wrap(err, "prepare put binding")
		}
		defer st.Close()
		for _, b := range bs {
			_, err := st.ExecContext(ctx, b.Device, b.Contact, ts(b.Expires), b.CallID, int64(b.CSeq),
				b.UserAgent, b.Source, b.Transport, b.Node, ts(b.Updated))
			if err != nil {
				return db.wrap(err, "put binding")
			}
		}
		return nil
	})
}

// DeleteBindings removes the (device, contact) pairs given.
func (db *DB) DeleteBindings(ctx context.Context, bs []hotdesk.Binding) error {
	if len(bs) == 0 {
		return nil
	}
	return db.inTx(ctx, func(q querier) error {
		st, err := q.PrepareContext(ctx, `DELETE FROM bindings WHERE device = $1 AND contact = $2`)
		if err != nil {
			return db.wrap(err, "prepare delete binding")
		}
		defer st.Close()
		for _, b := range bs {
			if _, err := st.ExecContext(ctx, b.Device, b.Contact); err != nil {
				return db.wrap(err, "delete binding")
			}
		}
		return nil
	})
}

// ListBindings returns all bindings unexpired at now, by device and contact.
func (db *DB) ListBindings(ctx context.Context, now time.Time) ([]hotdesk.Binding, error) {
	return db.bindings(ctx, `SELECT `+bindingCols+` FROM bindings WHERE expires > $1 ORDER BY device, contact`, ts(now))
}

// DeviceBindings returns the device's unexpired bindings.
func (db *DB) DeviceBindings(ctx context.Context, device string, now time.Time) ([]hotdesk.Binding, error) {
	return db.bindings(ctx, `SELECT `+bindingCols+` FROM bindings WHERE device = $1 AND expires > $2 ORDER BY contact`, device, ts(now))
}

func (db *DB) bindings(ctx context.Context, query string, args ...any) ([]hotdesk.Binding, error) {
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, db.wrap(err, "list bindings")
	}
	defer rows.Close()
	var out []hotdesk.Binding
	for rows.Next() {
		var b hotdesk.Binding
		var exp, upd, cseq int64
		err := rows.Scan(&b.Device, &b.Contact, &exp, &b.CallID, &cseq, &b.UserAgent, &b.Source, &b.Transport, &b.Node, &upd)
		if err != nil {
			return nil, db.wrap(err, "scan binding")
		}
		b.Expires, b.Updated, b.CSeq = fromTS(exp), fromTS(upd), uint32(cseq)
		out = append(out, b)
	}
	return out, db.wrap(rows.Err(), "list bindings")
}

// DeleteExpiredBindings removes bindings that expired at or before now.
func (db *DB) DeleteExpiredBindings(ctx context.Context, now time.Time) (int, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM bindings WHERE expires <= $1`, ts(now))
	if err != nil {
		return 0, db.wrap(err, "delete expired bindings")
	}
	n, err := res.RowsAffected()
	return int(n), db.wrap(err, "delete expired bindings")
}

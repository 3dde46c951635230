package sqlstore

import (
	"context"

	"github.com/hotdesk-pbx/hotdesk"
)

const auditCols = `id, time, kind, extension, device, reason, source, detail`

const auditInsertSQL = `INSERT INTO audit (time, kind, extension, device, reason, source, detail)
		VALUES ($1,$2,$3,$4,$5,$6,$7)`

// AppendAudit is the non-transactional form of Tx.AppendAudit.
func (db *DB) AppendAudit(ctx context.Context, e *hotdesk.AuditEvent) error {
	return db.inTx(ctx, func(q querier) error { return db.appendAudit(ctx, q, e) })
}

// AppendAudit stores e, assigning e.ID and e.Time (if zero), and writes a
// pending outbox row for every enabled webhook whose kinds match, due at the
// event's time (so an injected clock governs the first attempt too).
func (tx *Tx) AppendAudit(ctx context.Context, e *hotdesk.AuditEvent) error {
	return tx.db.appendAudit(ctx, tx.q, e)
}

func (db *DB) appendAudit(ctx context.Context, q querier, e *hotdesk.AuditEvent) error {
	if e.Time.IsZero() {
		e.Time = now()
	}
	auditInserts.Add(1)
	var err error
	e.ID, err = db.newID(ctx, bound{q, db.withID(auditInsertSQL)},
		ts(e.Time), e.Kind, e.Extension, e.Device, e.Reason, e.Source, e.Detail)
	if err != nil {
		return db.wrap(err, "append audit")
	}
	if db.eventLog {
		// pg_current_xact_id() first: the reader's gap rule needs the
		// transaction's id to exist before its seq is drawn.
		_, err = q.ExecContext(ctx, `INSERT INTO events (xid, seq, time, node, kind, extension, device, reason, source, detail)
			VALUES (pg_current_xact_id(), nextval('events_seq_seq'), $1, $2, $3, $4, $5, $6, $7, $8)`,
			ts(e.Time), db.Node(), e.Kind, e.Extension, e.Device, e.Reason, e.Source, e.Detail)
		if err != nil {
			return db.wrap(err, "append event")
		}
	}
	if d, ok := q.(detached); ok {
		// A group-commit member knows whether any webhook is enabled.
		if on, err := d.g.webhooksEnabled(ctx); err != nil {
			return db.wrap(err, "append outbox")
		} else if !on {
			return nil
		}
	}
	// kinds is a JSON array of strings: a kind matches as its quoted form.
	_, err = q.ExecContext(ctx, `INSERT INTO deliveries (webhook, audit_id, status, attempts, next_attempt, last_error, created_at)
		SELECT id, $1, 'pending', 0, $2, '', $2 FROM webhooks
		WHERE enabled AND (kinds = '[]' OR kinds LIKE $3 ESCAPE '\')`,
		e.ID, ts(e.Time), `%"`+likeEscaper.Replace(e.Kind)+`"%`)
	return db.wrap(err, "append outbox")
}

// auditWhere renders f's conditions (without paging).
func auditWhere(f hotdesk.AuditFilter, paged bool) *where {
	var w where
	if f.Extension != "" {
		w.add(`extension = ?`, f.Extension)
	}
	if f.Device != "" {
		w.add(`device <> '' AND lower(device) = lower(?)`, f.Device) // ids are unique regardless of case
	}
	if len(f.Kinds) > 0 {
		cond := `kind IN (`
		for i := range f.Kinds {
			if i > 0 {
				cond += `, `
			}
			cond += `?`
		}
		args := make([]any, len(f.Kinds))
		for i, k := range f.Kinds {
			args[i] = k
		}
		w.add(cond+`)`, args...)
	}
	if !f.Since.IsZero() {
		w.add(`time >= ?`, ts(f.Since))
	}
	if !f.Until.IsZero() {
		w.add(`time < ?`, ts(f.Until))
	}
	if paged && f.BeforeID > 0 {
		w.add(`id < ?`, f.BeforeID)
	}
	return &w
}

// FindAudit returns matching events, newest (highest ID) first.
func (db *DB) FindAudit(ctx context.Context, f hotdesk.AuditFilter) ([]*hotdesk.AuditEvent, error) {
	w := auditWhere(f, true)
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	return queryAll(ctx, db, db.r, "find audit", scanAudit,
		`SELECT `+auditCols+` FROM audit`+w.sql()+` ORDER BY id DESC`+w.page(limit, 0), w.args...)
}

func scanAudit(row rowScanner) (*hotdesk.AuditEvent, error) {
	var e hotdesk.AuditEvent
	var t int64
	if err := row.Scan(&e.ID, &t, &e.Kind, &e.Extension, &e.Device, &e.Reason, &e.Source, &e.Detail); err != nil {
		return nil, err
	}
	e.Time = fromTS(t)
	return &e, nil
}

// CountAudit counts matching events (ignores BeforeID and Limit).
func (db *DB) CountAudit(ctx context.Context, f hotdesk.AuditFilter) (int, error) {
	w := auditWhere(f, false)
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit`+w.sql(), w.args...).Scan(&n)
	return n, db.wrap(err, "count audit")
}

// FindAuditEvent returns one event by ID or ENOTFOUND.
func (db *DB) FindAuditEvent(ctx context.Context, id int64) (*hotdesk.AuditEvent, error) {
	return queryOne(ctx, db, db.r, "find audit event", func() error { return notFound("Audit event %d not found.", id) },
		scanAudit, `SELECT `+auditCols+` FROM audit WHERE id = $1`, id)
}

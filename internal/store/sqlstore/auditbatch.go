package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/hotdesk-pbx/hotdesk"
)

// auditChunk is how many audit rows one batched INSERT writes (7
// parameters each, far below both databases' limits). A fixed size keeps
// one statement text, prepared once by the group commit (writeStmts).
const auditChunk = 32

// insertAuditChunk inserts auditChunk audit rows.
var insertAuditChunk = func() string {
	var b strings.Builder
	b.WriteString(`INSERT INTO audit (time, kind, extension, device, reason, source, detail) VALUES `)
	for i := range auditChunk {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("(")
		for j := range 7 {
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString("$" + strconv.Itoa(7*i+j+1))
		}
		b.WriteString(")")
	}
	return b.String()
}()

// auditInserts counts the INSERT statements that wrote audit rows (tests).
var auditInserts atomic.Int64

// AppendAudits stores es in order, as AppendAudit each (ids ascending in
// that order). In a group commit on SQLite with no webhook enabled and
// no event log it writes them auditChunk rows per INSERT: the registrar
// appends one audit row per first registration, and one INSERT per row
// (each a statement with a statement journal, truncated at its end, in
// a savepoint holding the whole group commit) was a quarter of the CPU
// of 10,000 first registrations over 1,000 TCP connections (issue 18).
// Otherwise it appends them one by one.
func (tx *Tx) AppendAudits(ctx context.Context, es []*hotdesk.AuditEvent) error {
	return tx.db.appendAudits(ctx, tx.q, es)
}

func (db *DB) appendAudits(ctx context.Context, q querier, es []*hotdesk.AuditEvent) error {
	batch := false
	if d, ok := q.(detached); ok && !db.eventLog && len(es) >= auditChunk {
		on, err := d.g.webhooksEnabled(ctx)
		if err != nil {
			return db.wrap(err, "append outbox")
		}
		batch = !on // the outbox rows need each event's id at once
	}
	for batch && len(es) >= auditChunk {
		if err := db.insertAuditChunk(ctx, q, es[:auditChunk]); err != nil {
			return err
		}
		es = es[auditChunk:]
	}
	for _, e := range es {
		if err := db.appendAudit(ctx, q, e); err != nil {
			return err
		}
	}
	return nil
}

// insertAuditChunk inserts auditChunk events with one statement. SQLite
// gives the rows of one INSERT consecutive ids (AUTOINCREMENT, one
// writer): the last is LastInsertId.
func (db *DB) insertAuditChunk(ctx context.Context, q querier, es []*hotdesk.AuditEvent) error {
	args := make([]any, 0, 7*len(es))
	for _, e := range es {
		if e.Time.IsZero() {
			e.Time = now()
		}
		args = append(args, ts(e.Time), e.Kind, e.Extension, e.Device, e.Reason, e.Source, e.Detail)
	}
	auditInserts.Add(1)
	res, err := q.ExecContext(ctx, insertAuditChunk, args...)
	if err != nil {
		return db.wrap(err, "append audit")
	}
	last, err := res.LastInsertId()
	if err != nil {
		return db.wrap(err, "append audit")
	}
	for i, e := range es {
		e.ID = last - int64(len(es)-1-i)
	}
	return nil
}

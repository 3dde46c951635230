package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/hotdesk-pbx/hotdesk"
)

// auditRows inserts n audit rows (7 parameters each, far below both
// databases' limits). Batches are cut as the bindings' (chunk): a few
// fixed texts, each prepared once by the group commit (writeStmts).
func auditRows(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO audit (time, kind, extension, device, reason, source, detail) VALUES `)
	for i := range n {
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
}

var auditTexts = newBatchTexts(auditRows)

// auditInserts counts the INSERT statements that wrote audit rows (tests).
var auditInserts atomic.Int64

// AppendAudits stores es in order, as AppendAudit each (ids ascending in
// that order). In a group commit on SQLite with no webhook enabled and
// no event log it writes them in chunks of 32, 16, 8 and 4 rows per
// INSERT (chunk; the last one to three one by one): the registrar
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
	if d, ok := q.(detached); ok && !db.eventLog && chunk(len(es)) > 1 {
		on, err := d.g.webhooksEnabled(ctx)
		if err != nil {
			return db.wrap(err, "append outbox")
		}
		batch = !on // the outbox rows need each event's id at once
	}
	for n := chunk(len(es)); batch && n > 1; n = chunk(len(es)) {
		if err := db.insertAuditChunk(ctx, q, es[:n]); err != nil {
			return err
		}
		es = es[n:]
	}
	for _, e := range es {
		if err := db.appendAudit(ctx, q, e); err != nil {
			return err
		}
	}
	return nil
}

// insertAuditChunk inserts es (a chunk's size) with one statement. SQLite
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
	res, err := q.ExecContext(ctx, auditTexts.text(db.embedded, len(es)), args...)
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

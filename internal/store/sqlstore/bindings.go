package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

var (
	_ hotdesk.BindingTx      = (*Tx)(nil)
	_ hotdesk.BindingTxStore = (*DB)(nil)
)

// TxWritesBindings is true: every Tx is a hotdesk.BindingTx.
func (db *DB) TxWritesBindings() bool { return true }

const bindingCols = `device, contact, expires, call_id, cseq, user_agent, source, transport, node, updated, stale, nat, instance, reg_id`

// PutBindings upserts bindings keyed by (device, contact, node) in one
// transaction, so a registrar batch costs one durable commit. Writing a
// stale row again makes it live.
func (db *DB) PutBindings(ctx context.Context, bs []hotdesk.Binding) error {
	return db.writeBindings(ctx, nil, bs, db.putBindings)
}

// PutBindings is PutBindings in the transaction (hotdesk.BindingTx): the
// registrar writes a group commit's bindings, deletions and audit events
// in one.
func (tx *Tx) PutBindings(ctx context.Context, bs []hotdesk.Binding) error {
	return tx.db.writeBindings(ctx, tx.q, bs, tx.db.putBindings)
}

// writeBindings runs write on bs in q (a caller's transaction) or, for
// a nil q, in a transaction of its own; for no binding it does nothing.
// It is the one check for an empty list of the four binding writes.
func (db *DB) writeBindings(ctx context.Context, q querier, bs []hotdesk.Binding, write func(context.Context, querier, []hotdesk.Binding) error) error {
	if len(bs) == 0 {
		return nil
	}
	if q != nil {
		return write(ctx, q, bs)
	}
	return db.inTx(ctx, func(q querier) error { return write(ctx, q, bs) })
}

// putBindingsUpsert ends the upsert of bindings (putBindingRows).
const putBindingsUpsert = `
		ON CONFLICT (device, contact, node) DO UPDATE SET expires = excluded.expires,
		call_id = excluded.call_id, cseq = excluded.cseq, user_agent = excluded.user_agent,
		source = excluded.source, transport = excluded.transport,
		updated = excluded.updated, stale = 0, nat = excluded.nat,
		instance = excluded.instance, reg_id = excluded.reg_id`

// chunkSizes are the sizes of the batched statements, largest first
// (13 parameters a binding): a group commit of thousands of first
// registrations, or of the deferred refreshes, wrote one statement per
// row, each with database/sql's and the driver's cost per statement
// (issue 18). A batch is cut into chunks of 32, 16, 8 and 4 rows (the
// rest one per statement): a few fixed texts, each prepared once by the
// group commit, and a group commit of 20 first bindings takes two
// statements, not 20.
var chunkSizes = [...]int{32, 16, 8, 4}

// putBindingRows upserts n bindings.
func putBindingRows(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO bindings (` + bindingCols + `) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		p := 13 * i
		b.WriteString("(")
		for j := range 13 {
			if j > 0 {
				b.WriteString(",")
			}
			if j == 10 {
				b.WriteString("0,") // stale
			}
			b.WriteString("$" + strconv.Itoa(p+j+1))
		}
		b.WriteString(")")
	}
	b.WriteString(putBindingsUpsert)
	return b.String()
}

// batchTexts are a batched statement's texts by rows (1 and chunkSizes),
// with $N placeholders (PostgreSQL) and with anonymous ones (SQLite, see
// anonymous).
type batchTexts struct{ numbered, anon map[int]string }

func newBatchTexts(rows func(n int) string) batchTexts {
	t := batchTexts{numbered: map[int]string{}, anon: map[int]string{}}
	for _, n := range append([]int{1}, chunkSizes[:]...) {
		t.numbered[n] = rows(n)
		t.anon[n] = anonymous(t.numbered[n])
	}
	return t
}

// text is the statement of n rows for the database: anonymous
// placeholders on the embedded one (SQLite).
func (t batchTexts) text(embedded bool, n int) string {
	if embedded {
		return t.anon[n]
	}
	return t.numbered[n]
}

// anonymous replaces the placeholders $1, $2, … of q, each used once and
// in order, by SQLite's anonymous ?. modernc's driver asks SQLite for
// every parameter's name as it binds it (sqlite3_bind_parameter_name),
// which for a named parameter ($N or ?N) scans the statement's list of
// names from its start and copies the name into a Go string: a 32-row
// upsert's 416 parameters cost ~87,000 steps of that scan and 416
// allocations per statement, more than half the statement's CPU, 4% of
// the server's for 10,000 first registrations over 1,000 TCP connections
// (issue 18). An anonymous parameter has no name, and the scan has no
// list to walk. It panics when the placeholders are not 1…n in order.
func anonymous(q string) string {
	var b strings.Builder
	want := 1
	for i := 0; i < len(q); i++ {
		if q[i] != '$' {
			b.WriteByte(q[i])
			continue
		}
		j := i + 1
		for j < len(q) && q[j] >= '0' && q[j] <= '9' {
			j++
		}
		if n, err := strconv.Atoi(q[i+1 : j]); err != nil || n != want {
			panic("sqlstore: placeholders not in order: " + q)
		}
		want++
		b.WriteByte('?')
		i = j - 1
	}
	return b.String()
}

var putBindingTexts = newBatchTexts(putBindingRows)

// bindingWrites counts the statements that upserted bindings (tests).
var bindingWrites atomic.Int64

// chunk is how many of left rows the next batched statement writes: the
// largest of chunkSizes not above left, else 1.
func chunk(left int) int {
	for _, n := range chunkSizes {
		if left >= n {
			return n
		}
	}
	return 1
}

// putBindings upserts bs in chunks (chunk) where a chunk holds no key
// twice (PostgreSQL refuses to update one row twice in one statement),
// else one row per statement, in order.
func (db *DB) putBindings(ctx context.Context, q querier, bs []hotdesk.Binding) error {
	for len(bs) > 0 {
		n := chunk(len(bs))
		if n > 1 && !distinctBindings(bs[:n]) {
			n = 1
		}
		text := putBindingTexts.text(db.embedded, n)
		args := make([]any, 0, 13*n)
		for _, b := range bs[:n] {
			args = append(args, b.Device, b.Contact, ts(b.Expires), b.CallID, int64(b.CSeq),
				b.UserAgent, b.Source, b.Transport, b.Node, ts(b.Updated), boolInt(b.NAT), b.Instance, b.RegID)
		}
		bindingWrites.Add(1)
		if _, err := q.ExecContext(ctx, text, args...); err != nil {
			return db.wrap(err, "put binding")
		}
		bs = bs[n:]
	}
	return nil
}

// distinctBindings reports whether no two of bs have one key (device,
// contact, node).
func distinctBindings(bs []hotdesk.Binding) bool {
	type key struct{ device, contact, node string }
	seen := make(map[key]struct{}, len(bs))
	for _, b := range bs {
		k := key{b.Device, b.Contact, b.Node}
		if _, dup := seen[k]; dup {
			return false
		}
		seen[k] = struct{}{}
	}
	return true
}

// DeleteBindings removes the (device, contact, node) rows given: a node's
// expiry never touches another node's binding of the same contact.
func (db *DB) DeleteBindings(ctx context.Context, bs []hotdesk.Binding) error {
	return db.writeBindings(ctx, nil, bs, db.deleteBindings)
}

// DeleteBindings is DeleteBindings in the transaction (hotdesk.BindingTx).
func (tx *Tx) DeleteBindings(ctx context.Context, bs []hotdesk.Binding) error {
	return tx.db.writeBindings(ctx, tx.q, bs, tx.db.deleteBindings)
}

func (db *DB) deleteBindings(ctx context.Context, q querier, bs []hotdesk.Binding) error {
	st, err := q.PrepareContext(ctx, `DELETE FROM bindings WHERE device = $1 AND contact = $2 AND node = $3`)
	if err != nil {
		return db.wrap(err, "prepare delete binding")
	}
	defer st.Close()
	for _, b := range bs {
		if _, err := st.ExecContext(ctx, b.Device, b.Contact, b.Node); err != nil {
			return db.wrap(err, "delete binding")
		}
	}
	return nil
}

// ListBindings returns every node's live bindings at now, by device, contact
// and node.
func (db *DB) ListBindings(ctx context.Context, now time.Time) ([]hotdesk.Binding, error) {
	return db.bindings(ctx, db.r, `SELECT `+bindingCols+` FROM bindings WHERE expires > $1 AND stale = 0
		ORDER BY device, contact, node`, ts(now))
}

// DeviceBindings returns the device's live bindings on every node.
func (db *DB) DeviceBindings(ctx context.Context, device string, now time.Time) ([]hotdesk.Binding, error) {
	return db.bindings(ctx, db.r, `SELECT `+bindingCols+` FROM bindings WHERE device = $1 AND expires > $2 AND stale = 0
		ORDER BY contact, node`, device, ts(now))
}

func (db *DB) bindings(ctx context.Context, q querier, query string, args ...any) ([]hotdesk.Binding, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, db.wrap(err, "list bindings")
	}
	defer rows.Close()
	var out []hotdesk.Binding
	for rows.Next() {
		var b hotdesk.Binding
		var exp, upd, cseq, stale, nat int64
		err := rows.Scan(&b.Device, &b.Contact, &exp, &b.CallID, &cseq, &b.UserAgent, &b.Source, &b.Transport, &b.Node, &upd, &stale,
			&nat, &b.Instance, &b.RegID)
		if err != nil {
			return nil, db.wrap(err, "scan binding")
		}
		b.Expires, b.Updated, b.CSeq, b.Stale, b.NAT = fromTS(exp), fromTS(upd), uint32(cseq), stale != 0, nat != 0
		out = append(out, b)
	}
	return out, db.wrap(rows.Err(), "list bindings")
}

// DeleteExpiredBindings removes the node's bindings ("" = all nodes') that
// expired at or before now and returns them.
func (db *DB) DeleteExpiredBindings(ctx context.Context, node string, now time.Time) ([]hotdesk.Binding, error) {
	var out []hotdesk.Binding
	err := db.inTx(ctx, func(q querier) error {
		var err error
		out, err = db.bindings(ctx, q, `DELETE FROM bindings WHERE expires <= $1 AND ($2 = '' OR node = $2)
			RETURNING `+bindingCols, ts(now), node)
		return err
	})
	return out, err
}

// MarkNodeStale marks the node's live bindings stale and, in the same
// transaction, audits each device left with no live binding on any node (a
// phone that already registered with another node is not unregistered). A
// concurrent second caller (another surviving node) finds nothing to mark.
// It returns the marked bindings of the devices it audited.
func (db *DB) MarkNodeStale(ctx context.Context, node string, audit hotdesk.AuditEvent) ([]hotdesk.Binding, error) {
	var out []hotdesk.Binding
	err := db.inTx(ctx, func(q querier) error {
		out = nil
		marked, err := db.bindings(ctx, q, `UPDATE bindings SET stale = 1 WHERE node = $1 AND stale = 0
			RETURNING `+bindingCols, node)
		if err != nil {
			return err
		}
		gone := map[string]bool{}
		for _, b := range marked {
			left, seen := gone[b.Device]
			if !seen {
				var n int
				err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM bindings WHERE device = $1 AND stale = 0 AND expires > $2`,
					b.Device, ts(audit.Time)).Scan(&n)
				if err != nil {
					return db.wrap(err, "count bindings")
				}
				left = n == 0
				gone[b.Device] = left
				if left {
					e := audit
					e.Device, e.Source = b.Device, b.Source
					if err := db.appendAudit(ctx, q, &e); err != nil {
						return err
					}
				}
			}
			if left {
				out = append(out, b)
			}
		}
		return nil
	})
	return out, err
}

// boolInt stores a flag as the 0/1 INTEGER both backends' binding columns use.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CountStaleBindings is how many of the node's unexpired bindings are
// marked stale (another node declared it lost): a node that finds some of
// its own while alive revives them.
func (db *DB) CountStaleBindings(ctx context.Context, node string, now time.Time) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM bindings WHERE node = $1 AND stale <> 0 AND expires > $2`, node, ts(now)).Scan(&n)
	return n, db.wrap(err, "count stale bindings")
}

// ReviveNodeBindings makes the node's stale bindings live again, or deletes
// those of phones registered with another node meanwhile (hotdesk.NodeStore).
func (db *DB) ReviveNodeBindings(ctx context.Context, node string, keep func(hotdesk.Binding) bool, audit hotdesk.AuditEvent) (live, gone []hotdesk.Binding, err error) {
	err = db.inTx(ctx, func(q querier) error {
		live, gone = nil, nil
		stale, err := db.bindings(ctx, q, `SELECT `+bindingCols+` FROM bindings WHERE node = $1 AND stale <> 0 AND expires > $2
			ORDER BY device, contact`, node, ts(audit.Time))
		if err != nil {
			return err
		}
		elsewhere := map[string]bool{}
		for _, b := range stale {
			moved, seen := elsewhere[b.Device]
			if !seen {
				var n int
				err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM bindings WHERE device = $1 AND node <> $2 AND stale = 0 AND expires > $3`,
					b.Device, node, ts(audit.Time)).Scan(&n)
				if err != nil {
					return db.wrap(err, "count bindings")
				}
				moved = n > 0
				elsewhere[b.Device] = moved
			}
			if moved || (keep != nil && !keep(b)) {
				if _, err := q.ExecContext(ctx, `DELETE FROM bindings WHERE device = $1 AND contact = $2 AND node = $3`, b.Device, b.Contact, node); err != nil {
					return db.wrap(err, "delete binding")
				}
				gone = append(gone, b)
				continue
			}
			if _, err := q.ExecContext(ctx, `UPDATE bindings SET stale = 0 WHERE device = $1 AND contact = $2 AND node = $3`, b.Device, b.Contact, node); err != nil {
				return db.wrap(err, "revive binding")
			}
			if len(live) == 0 || live[len(live)-1].Device != b.Device {
				e := audit
				e.Device, e.Source = b.Device, b.Source
				if err := db.appendAudit(ctx, q, &e); err != nil {
					return err
				}
			}
			b.Stale = false
			live = append(live, b)
		}
		return nil
	})
	return live, gone, err
}

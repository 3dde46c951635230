package sqlstore

import (
	"context"
	"database/sql"

	"github.com/hotdesk-pbx/hotdesk"
)

// WriteCalls writes several call records in one transaction, so a PBX
// busy with calls pays one commit (one fsync on SQLite) per batch instead
// of one per record: a record whose ID is 0 is inserted and gets its ID,
// any other is updated as UpdateCall does (Answer, End, Result). All or
// nothing: on an error, including an update of a record that does not
// exist (ENOTFOUND), nothing is written and the IDs assigned are zero again.
// The records are independent rows, so the transaction takes no write
// lock beyond the database's own.
func (db *DB) WriteCalls(ctx context.Context, recs []*hotdesk.CallRecord) (err error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.wrap(err, "begin")
	}
	created := make([]*hotdesk.CallRecord, 0, len(recs))
	var ins, upd *sql.Stmt // prepared once per batch
	defer func() {
		for _, s := range []*sql.Stmt{ins, upd} {
			if s != nil {
				s.Close()
			}
		}
		if err != nil {
			_ = tx.Rollback()
			for _, c := range created {
				c.ID = 0
			}
		}
	}()
	sctx := ctx
	if db.embedded {
		// The transaction holds the database's lock from BEGIN: its
		// statements wait on nobody, and a context they could watch
		// costs a watcher goroutine each (Options.Embedded).
		sctx = context.WithoutCancel(ctx)
	}
	for _, c := range recs {
		if c.ID == 0 {
			if ins == nil {
				if ins, err = tx.PrepareContext(ctx, db.callTexts().insert); err != nil {
					return db.wrap(err, "create call")
				}
			}
			if c.ID, err = db.newID(sctx, ins, c.CallID, c.Extension, c.Direction, c.Peer, c.Device, ts(c.Start),
				tsPtr(c.Answer), tsPtr(c.End), c.Result, c.Emergency); err != nil {
				return db.wrap(err, "create call")
			}
			created = append(created, c)
			continue
		}
		if upd == nil {
			if upd, err = tx.PrepareContext(ctx, db.callTexts().update); err != nil {
				return db.wrap(err, "update call")
			}
		}
		res, err := upd.ExecContext(sctx, tsPtr(c.Answer), tsPtr(c.End), c.Result, c.ID)
		if err != nil {
			return db.wrap(err, "update call")
		}
		id := c.ID
		if err := affected(res, func() error { return notFound("Call %d not found.", id) }); err != nil {
			return err
		}
	}
	return db.wrap(tx.Commit(), "commit")
}

// insertCallSQL inserts a call record, updateCallSQL ends one (WriteCalls
// prepares them through callTexts).
const (
	insertCallSQL = `INSERT INTO calls (call_id, extension, direction, peer, device,
	start_at, answer_at, end_at, result, emergency) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`
	updateCallSQL = `UPDATE calls SET answer_at = $1, end_at = $2, result = $3 WHERE id = $4`
)

// The same with anonymous placeholders, for SQLite: modernc's driver asks
// for each named parameter's name at every execution (anonymous), and a
// call's four record writes bind 28 parameters (issue 18).
var (
	insertCallAnon = anonymous(insertCallSQL)
	updateCallAnon = anonymous(updateCallSQL)
)

// callTexts are WriteCalls' statements for the database: anonymous
// placeholders on the embedded one (SQLite; an INSERT's id from
// LastInsertId), else $N and RETURNING id (withID).
func (db *DB) callTexts() struct{ insert, update string } {
	if db.embedded {
		return struct{ insert, update string }{insertCallAnon, updateCallAnon}
	}
	return struct{ insert, update string }{db.withID(insertCallSQL), updateCallSQL}
}

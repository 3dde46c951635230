package sqlstore

import (
	"context"
	"database/sql"
)

// withID is insert (an INSERT without RETURNING) as the store runs it to
// learn the new row's id: with RETURNING id, except on an embedded
// database (Options.Embedded), whose driver's LastInsertId gives the id
// without a result set that database/sql reads through a Rows, a Scan and
// a Close (and that SQLite fills a temporary table for; issue 18).
func (db *DB) withID(insert string) string {
	if db.embedded {
		return insert
	}
	return insert + ` RETURNING id`
}

// idRunner runs a statement made by withID: a prepared *sql.Stmt, or a
// querier bound to the statement's text.
type idRunner interface {
	ExecContext(ctx context.Context, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, args ...any) *sql.Row
}

// newID runs s, a statement made by withID, and returns the new row's id.
func (db *DB) newID(ctx context.Context, s idRunner, args ...any) (int64, error) {
	if !db.embedded {
		var id int64
		err := s.QueryRowContext(ctx, args...).Scan(&id)
		return id, err
	}
	res, err := s.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// bound is a querier with a statement's text, run as an idRunner.
type bound struct {
	q     querier
	query string
}

func (b bound) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return b.q.ExecContext(ctx, b.query, args...)
}

func (b bound) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	return b.q.QueryRowContext(ctx, b.query, args...)
}

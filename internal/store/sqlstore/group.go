package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// maxGroup caps how many transactions share one commit, bounding latency.
const maxGroup = 128

// grouper is group commit for a single-writer database. Callers take turns
// (mu) running their function inside SAVEPOINT … RELEASE of one open
// transaction; a function that fails is rolled back to its savepoint and its
// caller gets the error at once. The caller that finds nobody else queued
// commits, and every caller whose function succeeded returns only after that
// commit, with its result. So each caller still sees all-or-nothing,
// serialised and durable transactions, while N concurrent callers pay for
// one fsync instead of N.
type grouper struct {
	db      *DB
	mu      sync.Mutex
	waiting atomic.Int32 // callers blocked on mu
	tx      *sql.Tx      // the open transaction, nil between batches
	cur     *batch
	members int   // functions that succeeded in cur
	broken  error // a savepoint statement failed: cur cannot commit
	// stmts are the write connection's prepared statements made
	// tx-specific for tx, shared by the members of its batch.
	stmts map[string]*sql.Stmt
	hooks hookState // see hookcache.go
}

// batch is one shared commit.
type batch struct {
	done chan struct{}
	err  error
}

var errPanicked = errors.New("transaction function panicked")

// run executes fn as one member of the current batch.
func (g *grouper) run(ctx context.Context, fn func(q querier) error) error {
	g.waiting.Add(1)
	g.mu.Lock()
	g.waiting.Add(-1)
	if g.tx == nil {
		// The write connection is free of our transactions now: prepare
		// what the last batches ran often (writeStmts).
		g.db.ws.prepareDue()
		// Not the caller's ctx: its cancellation would roll back the
		// transaction of every member of the batch.
		tx, err := g.db.w.BeginTx(context.Background(), nil)
		if err != nil {
			g.mu.Unlock()
			return g.db.wrap(err, "begin")
		}
		g.tx, g.cur, g.members, g.broken = tx, &batch{done: make(chan struct{})}, 0, nil
		clear(g.stmts)
		g.beginBatch()
	}
	b := g.cur
	err, p := g.member(fn)
	if err == nil {
		g.members++
	}
	if g.waiting.Load() == 0 || g.members >= maxGroup {
		g.commit()
	}
	g.mu.Unlock()
	if p != nil {
		panic(p)
	}
	if err != nil {
		return err
	}
	<-b.done
	return b.err
}

// member runs fn between SAVEPOINT and RELEASE, rolling back to the
// savepoint when fn fails or panics (the panic value is returned for the
// caller to re-raise once the lock is released).
func (g *grouper) member(fn func(q querier) error) (err error, p any) {
	if g.broken != nil {
		return g.broken, nil
	}
	q := detached{g}
	if _, err := q.ExecContext(context.Background(), `SAVEPOINT member`); err != nil {
		g.broken = g.db.wrap(err, "savepoint")
		return g.broken, nil
	}
	defer func() {
		if r := recover(); r != nil {
			p, err = r, errPanicked
		}
		if err != nil {
			g.hooks.known = false // it may have been read after changes undone now
			if _, e := q.ExecContext(context.Background(), `ROLLBACK TO member`); e != nil {
				g.broken = g.db.wrap(e, "rollback to savepoint")
			}
		}
		if _, e := q.ExecContext(context.Background(), `RELEASE member`); e != nil && g.broken == nil {
			g.broken = g.db.wrap(e, "release savepoint")
			if err == nil {
				err = g.broken
			}
		}
	}()
	return fn(q), nil
}

// commit ends the current batch and wakes its members.
func (g *grouper) commit() {
	b := g.cur
	if g.broken != nil {
		_ = g.tx.Rollback()
		b.err = fmt.Errorf("group commit: %w", g.broken)
	} else if err := g.tx.Commit(); err != nil {
		b.err = g.db.wrap(err, "commit")
	}
	if b.err != nil {
		g.hooks.known = false
	}
	g.tx, g.cur = nil, nil
	close(b.done)
}

// stmt returns the batch's form of the prepared statement for query, or nil
// when query is not prepared (yet). Members call it holding g.mu.
func (g *grouper) stmt(ctx context.Context, query string) *sql.Stmt {
	if s := g.stmts[query]; s != nil {
		return s
	}
	ps := g.db.ws.get(query)
	if ps == nil {
		return nil
	}
	s := g.tx.StmtContext(ctx, ps)
	if g.stmts == nil {
		g.stmts = map[string]*sql.Stmt{}
	}
	g.stmts[query] = s
	return s
}

// detached runs a member's statements in the batch's transaction, without
// the caller's cancellation: SQLite answers an interrupted write by rolling
// back the whole transaction, which here holds other callers' work too.
// Statements are short, so this only delays a cancelled caller until its
// current statement is done. Statements the batches run often are run
// prepared (writeStmts).
type detached struct{ g *grouper }

func (d detached) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = context.WithoutCancel(ctx)
	if s := d.g.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return d.g.tx.ExecContext(ctx, query, args...)
}

func (d detached) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = context.WithoutCancel(ctx)
	if s := d.g.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return d.g.tx.QueryContext(ctx, query, args...)
}

func (d detached) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	if s := d.g.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return d.g.tx.QueryRowContext(ctx, query, args...)
}

func (d detached) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return d.g.tx.PrepareContext(context.WithoutCancel(ctx), query)
}

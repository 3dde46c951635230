// Package sqlstore is the SQL shared by the SQLite and PostgreSQL stores. Both
// backends run the same statements (with $N placeholders, which modernc's
// SQLite driver binds by position too) against schemas that differ only in
// column types; a backend supplies its connections and a classifier that
// maps its driver errors to constraint classes.
//
// Times are stored as BIGINT Unix nanoseconds (UTC, exact round trip, 0 for
// the zero time) so ordering and comparison are plain integer operations on
// both databases. Lists (BLF, speed dials, webhook kinds) are JSON text; DIDs
// are also kept in user_dids, whose primary key gives each DID one owner and
// indexes DID lookup.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// Class is what a backend says a driver error means.
type Class int

// Error classes a backend's classifier reports.
const (
	ClassOther      Class = iota // anything else: EINTERNAL (or EUNAVAILABLE for connection errors)
	ClassUnique                  // unique or primary key violation: ECONFLICT
	ClassForeignKey              // referenced row missing: ENOTFOUND
	ClassRetry                   // serialisation failure, deadlock, busy: ECONFLICT so callers retry
)

// Options configures a DB.
type Options struct {
	// Write runs transactions and every write. SQLite gives it one connection
	// so writers queue in Go instead of failing with SQLITE_BUSY.
	Write *sql.DB
	// Read serves reads outside transactions; nil means Write.
	Read *sql.DB
	// Classify maps driver errors to a Class.
	Classify func(error) Class
	// OnClose runs after both pools are closed (e.g. to drop a test schema).
	OnClose func() error
	// GroupCommit runs concurrent transactions as savepoints of one
	// database transaction with one commit (see group.go). For databases
	// with a single writer, where each commit costs an fsync.
	GroupCommit bool
	// LockSQL, if set, takes the database's write lock exclusively (not in
	// GroupCommit mode); a write transaction runs it just before its first
	// statement, unless that is Tx.LockLogin (SharedLockSQL). PostgreSQL
	// takes a transaction-scoped advisory lock with it, so such writes
	// queue one after another as on SQLite: each starts after the previous
	// one committed and, at READ COMMITTED, sees its result. Serialisable
	// isolation would instead abort many unrelated concurrent logins (its
	// predicate locks cover whole index pages), more often than callers
	// retry.
	LockSQL string
	// SharedLockSQL, with LockSQL, is the shared form of that lock. A
	// write transaction takes one of the two at its first statement: a
	// login transaction that starts with Tx.LockLogin takes the shared
	// lock and then row locks on the users and devices it touches, so
	// logins run side by side (on one node or many); any other write
	// transaction takes LockSQL, the exclusive form, and runs alone as
	// before. Rare admin changes thus keep their simple serialised
	// reasoning while the hot path scales.
	SharedLockSQL string
	// EventLog writes every audit row into the events table as well (same
	// transaction), tagged with the node set by SetNode: the log other
	// nodes read (internal/cluster). PostgreSQL only.
	EventLog bool
	// Retries is how many times a transaction the store runs for itself
	// (CreateDevice, UpdateUser, …: the function is the store's own and
	// safe to run again) is retried after a ClassRetry failure such as a
	// deadlock. InTx is never retried: its caller owns the function and
	// gets ECONFLICT.
	Retries int
	// Embedded says the database runs in this process and a write
	// transaction holds its write lock from BEGIN (SQLite, whose writer
	// begins IMMEDIATE). An insert that needs the new row's id (withID,
	// newID: audit rows, call records) then runs with Exec and takes the
	// id from LastInsertId rather than INSERT … RETURNING through a query
	// (on SQLite, RETURNING fills a temporary table per statement, and a
	// query brings a Rows). WriteCalls, the B2BUA's batch of call
	// records, runs its statements without the context's deadline: inside such a
	// transaction a statement waits on nobody, and each statement given a
	// context that can end starts a goroutine to watch it (the driver's,
	// and database/sql's for a query). BEGIN still waits under the
	// deadline. Half a record's CPU (BenchmarkWriteCalls, issue 18).
	// PostgreSQL's driver has no LastInsertId, and its statements cross
	// a network.
	Embedded bool
}

// DB implements hotdesk.Store on database/sql.
type DB struct {
	w, r     *sql.DB
	rs       *readStmts  // r with the hot lookups prepared once
	ws       *writeStmts // w's statements prepared once (group commit only)
	rd       *reader     // point reads batched on one goroutine (group commit only)
	classify func(error) Class
	onClose  func() error
	group    *grouper
	lockSQL  string
	shared   string
	eventLog bool
	node     atomic.Value // string: this node's name, for the events table
	retries  int
	embedded bool
}

var _ hotdesk.Store = (*DB)(nil)

// New wraps the given pools. The schema must already be migrated.
func New(o Options) *DB {
	db := &DB{w: o.Write, r: o.Read, classify: o.Classify, onClose: o.OnClose, lockSQL: o.LockSQL,
		shared: o.SharedLockSQL, eventLog: o.EventLog, retries: o.Retries, embedded: o.Embedded}
	db.node.Store("")
	if db.r == nil {
		db.r = db.w
	}
	db.rs = &readStmts{db: db.r}
	if o.GroupCommit {
		db.group = &grouper{db: db}
		db.ws = &writeStmts{db: db.w}
		db.rd = newReader(db)
	}
	if db.classify == nil {
		db.classify = func(error) Class { return ClassOther }
	}
	return db
}

// SetNode names this node in the events it logs (Options.EventLog). Call
// it before the store is used.
func (db *DB) SetNode(name string) { db.node.Store(name) }

// Node is the name given to SetNode.
func (db *DB) Node() string { return db.node.Load().(string) }

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// rowScanner is what *sql.Row and *sql.Rows have in common, so one scanX
// function reads a row of either.
type rowScanner = interface{ Scan(...any) error }

// queryAll runs query on q and returns what scan makes of each row, in
// order (nil for none); op names the read in its errors.
func queryAll[T any](ctx context.Context, db *DB, q querier, op string, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, db.wrap(err, op)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, db.wrap(err, op)
		}
		out = append(out, v)
	}
	return out, db.wrap(rows.Err(), op)
}

// Ping reports whether the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.w.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return hotdesk.Errorf(hotdesk.EUNAVAILABLE, "Database unavailable: %v", err)
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	if db.rd != nil {
		db.rd.close()
	}
	errs := []error{db.rs.close()}
	if db.ws != nil {
		errs = append(errs, db.ws.close())
	}
	if db.r != db.w {
		errs = append(errs, db.r.Close())
	}
	errs = append(errs, db.w.Close())
	if db.onClose != nil {
		errs = append(errs, db.onClose())
	}
	return errors.Join(errs...)
}

// InTx runs fn in one write transaction, rolling back when fn fails or
// panics. Inside fn use only tx: on SQLite the write pool has one connection,
// so a non-transactional write through the DB would wait for fn forever.
func (db *DB) InTx(ctx context.Context, fn func(tx hotdesk.Tx) error) error {
	return db.runTx(ctx, func(q querier) error { return fn(&Tx{db: db, q: q}) })
}

// inTx is InTx on the raw transaction, for the store's own multi-statement
// writes. fn must be safe to run again: it is retried (Options.Retries) when
// the database reports a serialisation failure or deadlock.
func (db *DB) inTx(ctx context.Context, fn func(q querier) error) error {
	for attempt := 0; ; attempt++ {
		err := db.runTx(ctx, fn)
		if err == nil || attempt >= db.retries || db.classify(err) != ClassRetry {
			return err
		}
		// Back off a little, more each time, so the writers that collided
		// do not collide again at once.
		d := time.Duration(attempt+1) * time.Duration(1+rand.IntN(1000)) * time.Microsecond
		select {
		case <-ctx.Done():
			return err
		case <-time.After(d):
		}
	}
}

// runTx runs fn in one transaction (or one group-commit member).
func (db *DB) runTx(ctx context.Context, fn func(q querier) error) (err error) {
	if db.group != nil {
		return db.group.run(ctx, fn)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return db.wrap(err, "begin")
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var q querier = tx
	if db.lockSQL != "" {
		// The lock is taken by the first statement: shared if that is
		// Tx.LockLogin, exclusive otherwise (see Options.SharedLockSQL).
		q = &lazyLock{db: db, tx: tx}
	}
	if err = fn(q); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return db.wrap(err, "commit")
	}
	return nil
}

// wrap turns a driver error into a hotdesk error where the class is known,
// and otherwise wraps it with the operation name.
func (db *DB) wrap(err error, op string) error {
	if err == nil {
		return nil
	}
	var he *hotdesk.Error
	if errors.As(err, &he) {
		return err
	}
	switch db.classify(err) {
	case ClassUnique:
		return &hotdesk.Error{Code: hotdesk.ECONFLICT, Message: "Already exists."}
	case ClassForeignKey:
		return &hotdesk.Error{Code: hotdesk.ENOTFOUND, Message: "Referenced user or device not found."}
	case ClassRetry:
		// Keep the driver error in the chain: inTx classifies it to retry.
		return fmt.Errorf("%w: %s: %w", &hotdesk.Error{Code: hotdesk.ECONFLICT, Message: "Concurrent change, try again."}, op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// conflict maps a unique violation to ECONFLICT with msg, other errors as wrap.
func (db *DB) conflict(err error, op, format string, args ...any) error {
	if err != nil && db.classify(err) == ClassUnique {
		return hotdesk.Errorf(hotdesk.ECONFLICT, format, args...)
	}
	return db.wrap(err, op)
}

func notFound(format string, args ...any) error {
	return hotdesk.Errorf(hotdesk.ENOTFOUND, format, args...)
}

// affected returns ENOTFOUND (from nf) when res changed no row.
func affected(res sql.Result, nf func() error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return nf()
	}
	return nil
}

// Tx is one write transaction; it implements hotdesk.Tx.
type Tx struct {
	db *DB
	q  querier
}

var _ hotdesk.Tx = (*Tx)(nil)

// queryOne runs query on q for one row and returns what scan makes of it:
// missing's error when there is none; op names the read in other errors.
func queryOne[T any](ctx context.Context, db *DB, q querier, op string, missing func() error, scan func(rowScanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(q.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		var zero T
		return zero, missing()
	}
	return v, db.wrap(err, op)
}

// scanString reads a one-column row of text.
func scanString(row rowScanner) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}

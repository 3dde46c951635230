// Package postgres is the PostgreSQL store of Hotdesk PBX, for larger sites
// and for several nodes sharing one database. It runs the same SQL as the
// SQLite store (internal/store/sqlstore) through database/sql and pgx.
//
// Write transactions run at READ COMMITTED and take one of two forms of a
// transaction-scoped advisory lock per schema at their first statement. A
// login (desk, through hotdesk.LoginLocker) takes it shared and then row
// locks on the users and devices it touches, in a fixed order, so logins of
// different users on different phones run side by side on every node; any
// other write takes it exclusive and runs alone, seeing every transaction
// committed before it. Deadlocks and serialisation failures are retried a
// bounded number of times; the unique keys of the schema (one login per
// user and per device) stay the guard. SERIALIZABLE isolation was measured
// instead and dropped: with 8 concurrent callers 1.3 of every login was
// retried (its predicate locks cover whole index pages). Every audit row is
// also written to the events table in its transaction: the log the cluster
// bridge reads (internal/cluster).
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a PostgreSQL-backed hotdesk.Store.
type DB struct {
	*sqlstore.DB
	raw *sql.DB
}

var _ hotdesk.Store = (*DB)(nil)

const (
	// connectTimeout bounds each connection attempt unless the URL sets
	// connect_timeout, so an unreachable server fails Open quickly.
	connectTimeout = 10 * time.Second
	// retries is how often the store reruns its own transactions after a
	// deadlock or serialisation failure (rare: writers queue on the lock;
	// single statements outside transactions can still deadlock with them).
	retries = 5
)

// Open connects to the database at url (postgres://… or any connection
// string pgx accepts, e.g. with search_path=SCHEMA to use another schema)
// and migrates it. Several nodes may open the same database at once: the
// migration runs under an advisory lock.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx redacts the password in its parse errors.
		return nil, fmt.Errorf("postgres open: database URL: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	// A snapshot taken before the write lock would hide the previous
	// writer's commit: every statement needs its own.
	cfg.RuntimeParams["default_transaction_isolation"] = "read committed"
	// A node cut off from the database in the middle of a transaction
	// holds its row locks (and a seq of the event log) until the server
	// notices; a transaction idle this long is ended by the server instead,
	// so the other nodes' logins of those users and their event readers
	// go on. The store's transactions never wait on anything but the
	// database.
	cfg.RuntimeParams["idle_in_transaction_session_timeout"] = "10s"
	db := stdlib.OpenDB(*cfg)
	n := max(16, 2*runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		// pgx names the user, database and address it tried.
		return nil, fmt.Errorf("postgres open: %w", err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	var key int64
	if err := db.QueryRowContext(ctx, `SELECT `+lockKey("write")).Scan(&key); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres open: %w", err)
	}
	return &DB{DB: sqlstore.New(sqlstore.Options{
		Write:         db,
		Classify:      classify,
		LockSQL:       fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, key),
		SharedLockSQL: fmt.Sprintf(`SELECT pg_advisory_xact_lock_shared(%d)`, key),
		EventLog:      true,
		Retries:       retries,
	}), raw: db}, nil
}

// Exclusive runs fn while holding a session advisory lock named purpose in
// this schema, so nodes that start together on one database run their
// first-boot work (first admin, demo office, settings) one after the other:
// the loser waits and then finds the winner's rows. fn uses the store as
// usual; the lock lives on a connection of its own.
func (db *DB) Exclusive(ctx context.Context, purpose string, fn func(context.Context) error) error {
	return withSessionLock(ctx, db.raw, purpose, fn)
}

// withSessionLock holds pg_advisory_lock(lockKey(purpose)) on a dedicated
// connection while fn runs.
func withSessionLock(ctx context.Context, db *sql.DB, purpose string, fn func(context.Context) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: lock: %w", purpose, err)
	}
	defer conn.Close()
	key := lockKey(purpose)
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
		return fmt.Errorf("%s: lock: %w", purpose, err)
	}
	defer func() {
		var ok bool
		e := conn.QueryRowContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`).Scan(&ok)
		if e != nil || !ok {
			// Never hand a connection that may still hold the lock back
			// to the pool: the server drops the lock with the session.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return fn(ctx)
}

// tokenPrefix marks the row of the sequences table that holds the API
// admin token shared by every node (see SharedToken).
const tokenPrefix = "api_admin_token:"

// SharedToken returns the API admin token every node of this database
// uses. When none is stored yet it stores propose (insert-if-absent, so of
// several nodes proposing at once exactly one wins) and reports stored=true
// to the node whose proposal won. Call it inside Exclusive: the
// insert-if-absent is only atomic among callers that hold that lock.
//
// The schema has no table for secrets yet and only one owner may add
// migrations, so the token is kept as the name of a row in the sequences
// table (value unused) — never shown by the API or console. Like the
// devices' SIP passwords it is readable by whoever can read the database.
func (db *DB) SharedToken(ctx context.Context, propose string) (token string, stored bool, err error) {
	res, err := db.raw.ExecContext(ctx, `INSERT INTO sequences (name, value)
		SELECT $1, 0 WHERE NOT EXISTS (SELECT 1 FROM sequences WHERE name LIKE 'api\_admin\_token:%')`, tokenPrefix+propose)
	if err != nil {
		return "", false, fmt.Errorf("admin token: %w", err)
	}
	n, _ := res.RowsAffected()
	var name string
	if err := db.raw.QueryRowContext(ctx, `SELECT name FROM sequences WHERE name LIKE 'api\_admin\_token:%' ORDER BY name LIMIT 1`).Scan(&name); err != nil {
		return "", false, fmt.Errorf("admin token: %w", err)
	}
	return strings.TrimPrefix(name, tokenPrefix), n == 1 && name == tokenPrefix+propose, nil
}

// lockKey is an SQL expression for the advisory lock key of purpose in the
// current schema, so stores in different schemas of one database (tests)
// do not wait for each other.
func lockKey(purpose string) string {
	return `hashtext('hotdesk ` + purpose + ` ' || COALESCE(current_schema(), ''))::bigint`
}

// migrate applies the embedded goose migrations. A session advisory lock
// keyed by the schema serialises nodes that start together; goose itself
// would poll for its lock only once a second.
func migrate(ctx context.Context, db *sql.DB) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return withSessionLock(ctx, db, "migrate", func(ctx context.Context) error {
		p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithDisableGlobalRegistry(true))
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		return nil
	})
}

// PostgreSQL error codes (SQLSTATE, appendix A of the manual) the store
// gives a meaning to.
const (
	codeUnique        = "23505" // unique_violation
	codeForeignKey    = "23503" // foreign_key_violation
	codeSerialization = "40001" // serialization_failure
	codeDeadlock      = "40P01" // deadlock_detected
	codeLockBusy      = "55P03" // lock_not_available (NOWAIT)
)

// classify maps PostgreSQL errors to store classes.
func classify(err error) sqlstore.Class {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return sqlstore.ClassOther
	}
	switch e.Code {
	case codeUnique:
		return sqlstore.ClassUnique
	case codeForeignKey:
		return sqlstore.ClassForeignKey
	case codeSerialization, codeDeadlock, codeLockBusy:
		return sqlstore.ClassRetry
	}
	return sqlstore.ClassOther
}

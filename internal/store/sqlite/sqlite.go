// Package sqlite is the embedded SQLite store of Hotdesk PBX (modernc.org/sqlite,
// no cgo). The database runs in WAL mode with synchronous=FULL, so every
// committed login survives a power cut. Writers share one connection and
// begin with BEGIN IMMEDIATE, so concurrent transactions queue in Go instead
// of failing with SQLITE_BUSY; reads use a separate pool of read-only
// connections that WAL lets run next to the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an SQLite-backed hotdesk.Store.
type DB struct {
	*sqlstore.DB
	ckpt *checkpointer
}

var _ hotdesk.Store = (*DB)(nil)

// Open opens (creating if needed) the database at dsn and migrates it. dsn is
// a file path, a "file:" URL (its query parameters are kept), or ":memory:".
//
// ":memory:" is a throwaway database in a private temporary directory,
// removed on Close, with synchronous=OFF. It is a real WAL file rather than
// SQLite's in-memory database so that it behaves exactly like the durable
// store (readers never wait for the writer), which tests rely on.
func Open(ctx context.Context, dsn string) (*DB, error) {
	var cleanup func() error
	sync := "FULL"
	if dsn == ":memory:" || dsn == "file::memory:" {
		dir, err := os.MkdirTemp("", "hotdesk-sqlite-")
		if err != nil {
			return nil, fmt.Errorf("sqlite open: %w", err)
		}
		dsn, sync = filepath.Join(dir, "hotdesk.db"), "OFF"
		cleanup = func() error { return os.RemoveAll(dir) }
	}
	db, err := open(ctx, dsn, sync, cleanup)
	if err != nil && cleanup != nil {
		_ = cleanup()
	}
	return db, err
}

func open(ctx context.Context, dsn, sync string, cleanup func() error) (*DB, error) {
	base, err := baseDSN(dsn)
	if err != nil {
		return nil, err
	}
	common := commonParams(sync)
	w, err := sql.Open("sqlite", base+writerParams(sync))
	if err != nil {
		return nil, fmt.Errorf("sqlite open: %w", err)
	}
	// One writer, kept open.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", base+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite open: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	ckpt, err := startCheckpointer(base, sync, w)
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite open: %w", err)
	}
	onClose := func() error {
		err := ckpt.close() // after the pools: its connection is the last
		if cleanup != nil {
			err = errors.Join(err, cleanup())
		}
		return err
	}
	return &DB{DB: sqlstore.New(sqlstore.Options{Write: w, Read: r, Classify: classify, OnClose: onClose, GroupCommit: true,
		Embedded: true}),
		ckpt: ckpt}, nil
}

// commonParams are the connection parameters of the writer and the readers.
func commonParams(sync string) string {
	return "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(" + sync + ")"
}

// writerParams are the writer's: transactions begin IMMEDIATE, no
// checkpoint runs inside a commit (checkpointer does them), and
// temporary files stay in memory. Each member of a group commit is a
// savepoint, whose statement sub-journal holds a copy of every page it
// changes; on disk that was a write() per page inside the writer's
// critical section (subjournalPage, 3.6% of a login's CPU). A sub-journal
// is at most the pages one batch changes, freed at its commit.
func writerParams(sync string) string {
	return commonParams(sync) + "&_pragma=wal_autocheckpoint(0)&_pragma=temp_store(2)&_txlock=immediate"
}

// baseDSN returns the driver DSN up to and including the "?" or "&" that the
// connection parameters follow.
func baseDSN(dsn string) (string, error) {
	switch {
	case dsn == "":
		return "", fmt.Errorf("sqlite open: empty database path")
	case strings.HasPrefix(dsn, "file:"):
		if strings.Contains(dsn, "?") {
			return dsn + "&", nil
		}
		return dsn + "?", nil
	}
	if dir := filepath.Dir(dsn); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return "", fmt.Errorf("sqlite open: %w", err)
		}
	}
	return "file:" + dsn + "?", nil
}

// migrate applies the embedded goose migrations.
func migrate(ctx context.Context, db *sql.DB) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// classify maps SQLite result codes (extended codes are on) to store classes.
func classify(err error) sqlstore.Class {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return sqlstore.ClassOther
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return sqlstore.ClassUnique
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return sqlstore.ClassForeignKey
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return sqlstore.ClassRetry
	}
	return sqlstore.ClassOther
}

// Snapshot writes a consistent copy of the database at path to dest (which
// must not exist) with VACUUM INTO, while other processes keep reading and
// writing it: the copy is one read transaction's view, compacted, with no
// WAL file of its own. It never creates or migrates the source.
func Snapshot(ctx context.Context, path, dest string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		return fmt.Errorf("snapshot %s: %w", path, err)
	}
	return nil
}

// Check opens the SQLite file at path read-only and runs quick_check, so a
// restore never puts a damaged or foreign file in place. It returns the
// schema's migration version.
func Check(ctx context.Context, path string) (version int64, err error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return 0, fmt.Errorf("check: %w", err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&res); err != nil {
		return 0, fmt.Errorf("check %s: not an SQLite database: %w", path, err)
	}
	if res != "ok" {
		return 0, fmt.Errorf("check %s: damaged: %s", path, res)
	}
	if err := db.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&version); err != nil {
		return 0, fmt.Errorf("check %s: not a Hotdesk PBX database: %w", path, err)
	}
	return version, nil
}

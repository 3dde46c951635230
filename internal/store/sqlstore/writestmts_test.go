package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "modernc.org/sqlite"
)

// openGroup opens a group-commit DB on a fresh SQLite file with one table,
// as internal/store/sqlite does (one write connection).
func openGroup(t *testing.T) *DB {
	t.Helper()
	w, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "g.db")+"?_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	if _, err := w.Exec(`CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	db := New(Options{Write: w, GroupCommit: true})
	t.Cleanup(func() { db.Close() })
	return db
}

const (
	insKV = `INSERT INTO kv (k, v) VALUES ($1, $2)`
	getKV = `SELECT v FROM kv WHERE k = $1`
)

func (db *DB) prepared(q string) bool {
	db.ws.mu.Lock()
	defer db.ws.mu.Unlock()
	return db.ws.m[q] != nil
}

func put(ctx context.Context, db *DB, k string, v int) error {
	return db.inTx(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, insKV, k, v)
		return err
	})
}

// A statement group-commit transactions run again and again is prepared
// once on the write connection, between batches, and runs prepared after.
func TestGroupPreparesRepeatedStatements(t *testing.T) {
	ctx := context.Background()
	db := openGroup(t)
	for i := range writeStmtSeen {
		if err := put(ctx, db, fmt.Sprint("a", i), i); err != nil {
			t.Fatal(err)
		}
		if db.prepared(insKV) {
			t.Fatalf("prepared after %d uses, before the next batch began", i+1)
		}
	}
	if err := put(ctx, db, "b", 7); err != nil {
		t.Fatal(err)
	}
	if !db.prepared(insKV) {
		t.Fatalf("not prepared after %d uses", writeStmtSeen+1)
	}
	if !db.prepared(`SAVEPOINT member`) || !db.prepared(`RELEASE member`) {
		t.Fatal("the savepoint statements of the members are not prepared")
	}
	// Prepared: a member that fails rolls back alone, its batch commits.
	var v int
	err := db.inTx(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, insKV, "c", 1); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, insKV, "b", 8) // duplicate key
		return err
	})
	if err == nil {
		t.Fatal("duplicate insert succeeded")
	}
	for range writeStmtSeen + 1 {
		err = db.inTx(ctx, func(q querier) error { return q.QueryRowContext(ctx, getKV, "b").Scan(&v) })
		if err != nil || v != 7 {
			t.Fatalf("read b in a transaction: %d, %v", v, err)
		}
	}
	if !db.prepared(getKV) {
		t.Fatal("read not prepared")
	}
	err = db.inTx(ctx, func(q querier) error { return q.QueryRowContext(ctx, getKV, "c").Scan(&v) })
	if !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("c of the failed member: %v", err)
	}
}

// Concurrent members share batches and the prepared statements: every
// write that returned nil is there, with its value.
func TestGroupPreparedConcurrent(t *testing.T) {
	ctx := context.Background()
	db := openGroup(t)
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				k := fmt.Sprint(g, "-", i)
				if err := put(ctx, db, k, g*100+i); err != nil {
					errs <- err
				}
				if i%5 == 4 { // a duplicate: fails alone
					if err := put(ctx, db, k, 0); err == nil {
						errs <- fmt.Errorf("duplicate %s accepted", k)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if !db.prepared(insKV) {
		t.Error("insert not prepared")
	}
	rows, err := db.w.Query(`SELECT k, v FROM kv`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var k string
		var v, g, i int
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		if _, err := fmt.Sscanf(k, "%d-%d", &g, &i); err != nil || v != g*100+i {
			t.Errorf("%s = %d", k, v)
		}
		n++
	}
	if n != 400 {
		t.Errorf("%d rows, want 400", n)
	}
}

// Long texts (bulk statements) and texts that fail to prepare are never
// prepared, and keep working unprepared.
func TestGroupLeavesSomeStatementsUnprepared(t *testing.T) {
	ctx := context.Background()
	db := openGroup(t)
	long := insKV + " /*" + strings.Repeat("x", maxWriteStmtLen) + "*/"
	bad := `INSERT INTO nosuchtable (k) VALUES ($1)`
	for i := range writeStmtSeen + 2 {
		err := db.inTx(ctx, func(q querier) error {
			_, err := q.ExecContext(ctx, long, fmt.Sprint("l", i), i)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		err = db.inTx(ctx, func(q querier) error {
			_, err := q.ExecContext(ctx, bad, "x")
			return err
		})
		if err == nil {
			t.Fatal("insert into a missing table succeeded")
		}
	}
	if db.prepared(long) || db.prepared(bad) {
		t.Fatal("long or failing text prepared")
	}
	db.ws.mu.Lock()
	n := db.ws.seen[bad]
	db.ws.mu.Unlock()
	if n != -1 {
		t.Fatalf("failing text counted %d, want -1 (not tried again)", n)
	}
}

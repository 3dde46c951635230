package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// On an embedded database WriteCalls inserts without RETURNING and runs
// its statements without a context watcher each (Options.Embedded): the
// same batch on the same SQLite file allocates fewer objects per record
// than through INSERT … RETURNING with the deadline on every statement,
// and assigns the rows' IDs all the same.
func TestWriteCallsEmbedded(t *testing.T) {
	w, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "c.db")+"?_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	w.SetMaxOpenConns(1)
	if _, err := w.Exec(`CREATE TABLE calls (id INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT NULL,
		extension TEXT NOT NULL, direction TEXT NOT NULL, peer TEXT NOT NULL, device TEXT NOT NULL,
		start_at INTEGER NOT NULL, answer_at INTEGER, end_at INTEGER, result TEXT NOT NULL, emergency INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const n = 20 // records inserted and updated per batch
	allocs := func(db *DB) float64 {
		at := time.Unix(1700000000, 0)
		fresh := make([]*hotdesk.CallRecord, n)
		for i := range fresh {
			fresh[i] = &hotdesk.CallRecord{CallID: "c@h", Extension: "201", Direction: hotdesk.DirectionOutbound,
				Peer: "202", Start: at, Result: hotdesk.ResultFailed}
		}
		old := make([]*hotdesk.CallRecord, n)
		for i := range old {
			c := *fresh[i]
			old[i] = &c
		}
		mustWrite(t, db, old)
		last := old[n-1].ID
		batch := append(append([]*hotdesk.CallRecord{}, fresh...), old...)
		a := testing.AllocsPerRun(10, func() {
			for _, c := range fresh {
				c.ID = 0
			}
			for _, c := range old {
				c.End = &at
			}
			mustWrite(t, db, batch)
			for i, c := range fresh {
				if c.ID != last+int64(i)+1 {
					t.Fatalf("new record %d got ID %d after %d", i, c.ID, last)
				}
			}
			last += n
		})
		var rows int64
		if err := w.QueryRow(`SELECT max(id) FROM calls`).Scan(&rows); err != nil || rows != last {
			t.Fatalf("last row %d (%v), last ID assigned %d", rows, err, last)
		}
		return a / (2 * n)
	}
	returning := allocs(New(Options{Write: w}))
	embedded := allocs(New(Options{Write: w, Embedded: true}))
	t.Logf("allocations per record: %.1f with RETURNING, %.1f embedded", returning, embedded)
	if embedded > returning-8 {
		t.Errorf("embedded: %.1f allocations per record, RETURNING %.1f: want at least 8 fewer", embedded, returning)
	}
}

// mustWrite runs WriteCalls with a deadline, as the B2BUA's recorder does.
func mustWrite(t *testing.T, db *DB, recs []*hotdesk.CallRecord) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := db.WriteCalls(ctx, recs); err != nil {
		t.Fatal(err)
	}
}

// On SQLite a batch of call records binds anonymous placeholders:
// modernc's driver copies a named parameter's name into a Go string each
// time it binds it ($1…$10 of every INSERT, $1…$4 of every UPDATE), an
// allocation per parameter per record (issue 18). A batch of inserts and
// ends: at most 20 allocations per record (17 here, 24 with $N).
func TestWriteCallsAnonymousPlaceholders(t *testing.T) {
	w, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "c.db")+"?_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	w.SetMaxOpenConns(1)
	if _, err := w.Exec(`CREATE TABLE calls (id INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT NULL,
		extension TEXT NOT NULL, direction TEXT NOT NULL, peer TEXT NOT NULL, device TEXT NOT NULL,
		start_at INTEGER NOT NULL, answer_at INTEGER, end_at INTEGER, result TEXT NOT NULL, emergency INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	db := New(Options{Write: w, Embedded: true})
	const n = 20
	at := time.Unix(1700000000, 0)
	var prev []*hotdesk.CallRecord
	a := testing.AllocsPerRun(10, func() {
		fresh := make([]*hotdesk.CallRecord, n)
		for i := range fresh {
			fresh[i] = &hotdesk.CallRecord{CallID: "c@h", Extension: "201", Direction: hotdesk.DirectionOutbound,
				Peer: "202", Device: "HD1", Start: at, Answer: &at, Result: hotdesk.ResultAnswered}
		}
		for _, c := range prev {
			c.End = &at
		}
		mustWrite(t, db, append(fresh, prev...))
		prev = fresh
	}) / (2 * n)
	t.Logf("%.1f allocations per record", a)
	if a > 20 {
		t.Errorf("%.1f allocations per record, want at most 20", a)
	}
	var ends int
	if err := w.QueryRow(`SELECT count(*) FROM calls WHERE end_at = ?`, at.UnixNano()).Scan(&ends); err != nil || ends == 0 {
		t.Errorf("%d records ended (%v)", ends, err)
	}
}

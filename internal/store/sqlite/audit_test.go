package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// A group-commit member's audit row takes its id from the connection
// (LastInsertId), not from RETURNING read through a Rows: every login and
// logout writes one inside the one writer's critical section. The id is
// still the row's, and the transaction allocates less.
func TestAuditRowIDWithoutReturning(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, filepath.Join(t.TempDir(), "audit.db"))
	appendOne := func(e *hotdesk.AuditEvent) {
		if err := db.InTx(ctx, func(tx hotdesk.Tx) error { return tx.AppendAudit(ctx, e) }); err != nil {
			t.Fatal(err)
		}
	}
	var last int64
	for i := range 3 {
		e := &hotdesk.AuditEvent{Kind: hotdesk.KindLogin, Extension: "201", Device: "HD00001", Detail: string(rune('a' + i))}
		appendOne(e)
		got, err := db.FindAuditEvent(ctx, e.ID)
		if err != nil || e.ID <= last || got.Detail != e.Detail {
			t.Fatalf("audit row %d: %+v %v, want detail %q after id %d", e.ID, got, err, e.Detail, last)
		}
		last = e.ID
	}

	// A transaction of one audit row: 93 allocations with RETURNING, 74
	// without (go1.26, modernc sqlite); the bound leaves room for either
	// to move a little.
	n := testing.AllocsPerRun(200, func() { appendOne(&hotdesk.AuditEvent{Kind: hotdesk.KindLogin, Extension: "201"}) })
	if n > 84 {
		t.Fatalf("a group-commit transaction of one audit row: %.0f allocations, want at most 84 (93 with RETURNING id)", n)
	}
}

// Issue 18: an audit row (one per first registration) is written into
// the indexes that serve the trail's searches and no other: the
// case-sensitive audit_device, which no query used (FindAudit searches
// by lower(device)), is gone (00013). A search by device still reads
// through audit_device_lower.
func TestAuditIndexes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "audit.db")
	db := MustOpen(t, path)
	if err := db.AppendAudit(ctx, &hotdesk.AuditEvent{Kind: hotdesk.KindRegistered, Device: "HD00001"}); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var names []string
	rows, err := raw.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit' AND sql IS NOT NULL ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	if got, want := strings.Join(names, " "), "audit_device_lower audit_extension audit_kind audit_time"; got != want {
		t.Errorf("audit indexes %q, want %q", got, want)
	}
	var plan strings.Builder
	rows, err = raw.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT id FROM audit WHERE device <> '' AND lower(device) = lower(?) ORDER BY id DESC LIMIT 50`, "hd00001")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(detail + "; ")
	}
	rows.Close()
	if !strings.Contains(plan.String(), "audit_device_lower") {
		t.Errorf("a search by device: plan %q, want it through audit_device_lower", plan.String())
	}
	es, err := db.FindAudit(ctx, hotdesk.AuditFilter{Device: "hd00001"})
	if err != nil || len(es) != 1 {
		t.Fatalf("FindAudit by device: %d events, %v; want 1", len(es), err)
	}
}

package sqlstore

import (
	"context"
	"errors"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// openHooks is openGroup with the audit, webhooks and deliveries tables
// (the columns appendAudit writes) and one enabled webhook.
func openHooks(t *testing.T) *DB {
	t.Helper()
	db := openGroup(t)
	for _, q := range []string{
		`CREATE TABLE audit (id INTEGER PRIMARY KEY, time INTEGER, kind TEXT, extension TEXT, device TEXT,
			reason TEXT, source TEXT, detail TEXT)`,
		`CREATE TABLE webhooks (id INTEGER PRIMARY KEY, kinds TEXT NOT NULL, enabled BOOLEAN NOT NULL)`,
		`CREATE TABLE deliveries (id INTEGER PRIMARY KEY, webhook INTEGER, audit_id INTEGER, status TEXT,
			attempts INTEGER, next_attempt INTEGER, last_error TEXT, created_at INTEGER)`,
		`INSERT INTO webhooks (id, kinds, enabled) VALUES (1, '[]', 1)`,
	} {
		if _, err := db.w.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func deliveries(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.w.QueryRow(`SELECT COUNT(*) FROM deliveries`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A member that changed the webhooks, read "none enabled" and was then
// rolled back leaves no such belief behind: the change is undone, so the
// next audit row has its outbox row again.
func TestGroupForgetsWebhooksOfRolledBackMember(t *testing.T) {
	ctx := context.Background()
	db := openHooks(t)
	e := func() *hotdesk.AuditEvent { return &hotdesk.AuditEvent{Kind: hotdesk.KindLogin, Extension: "201"} }
	if err := db.AppendAudit(ctx, e()); err != nil {
		t.Fatal(err)
	}
	if n := deliveries(t, db); n != 1 {
		t.Fatalf("%d deliveries, want 1", n)
	}
	fail := errors.New("give up")
	err := db.writeWebhooks(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `UPDATE webhooks SET enabled = 0`); err != nil {
			return err
		}
		if err := db.appendAudit(ctx, q, e()); err != nil { // none enabled now
			return err
		}
		return fail
	})
	if !errors.Is(err, fail) {
		t.Fatalf("member: %v", err)
	}
	if err := db.AppendAudit(ctx, e()); err != nil {
		t.Fatal(err)
	}
	if n := deliveries(t, db); n != 2 {
		t.Fatalf("%d deliveries after the rolled-back change, want 2", n)
	}
}

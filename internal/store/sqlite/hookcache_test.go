package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// The store remembers that no webhook is enabled; a webhook another
// connection (another process) adds to the file is still seen by the next
// audit row.
func TestOutboxSeesWebhookOfOtherConnection(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hotdesk.db")
	db := MustOpen(t, path)
	for range 3 {
		if err := db.AppendAudit(ctx, &hotdesk.AuditEvent{Kind: hotdesk.KindLogin, Extension: "201"}); err != nil {
			t.Fatal(err)
		}
	}
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var id int64
	err = other.QueryRow(`INSERT INTO webhooks (url, secret, kinds, enabled, created_at)
		VALUES ('https://a.example/h', 'k', '[]', 1, 0) RETURNING id`).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	e := &hotdesk.AuditEvent{Kind: hotdesk.KindLogin, Extension: "201"}
	if err := db.InTx(ctx, func(tx hotdesk.Tx) error { return tx.AppendAudit(ctx, e) }); err != nil {
		t.Fatal(err)
	}
	ds, err := db.FindDeliveries(ctx, id, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].AuditID != e.ID {
		t.Fatalf("deliveries %+v, want one for event %d", ds, e.ID)
	}
}

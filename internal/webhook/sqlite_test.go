package webhook

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite/sqlitetest"
)

// appendEvents writes audit events through the store, which puts them in
// the outbox of every matching webhook in the same transaction.
func appendEvents(tb testing.TB, db *sqlite.DB, at time.Time, kinds ...string) {
	tb.Helper()
	for _, k := range kinds {
		err := db.InTx(context.Background(), func(tx hotdesk.Tx) error {
			return tx.AppendAudit(context.Background(), &hotdesk.AuditEvent{Time: at, Kind: k, Extension: "201", Device: "HD00001"})
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

func TestSQLiteOutboxOrderRetryRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hotdesk.db")
	c := siptest.NewClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	r := newReceiver(t, 2, c.Now)
	db := sqlitetest.MustOpenFile(t, path)
	w := &hotdesk.Webhook{URL: r.srv.URL, Secret: secret, Enabled: true, Kinds: []string{hotdesk.KindLogin, hotdesk.KindLogout}}
	if err := db.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, db, c.Now(), hotdesk.KindLogin, hotdesk.KindRegistered, hotdesk.KindLogout)

	d := New(Options{Store: db, Now: c.Now, Logger: slog.New(slog.DiscardHandler)})
	next, err := d.Tick(ctx)
	if err != nil || next.Sub(c.Now()) != 5*time.Second {
		t.Fatalf("first tick: next %v, %v", next, err)
	}
	ds, err := db.FindDeliveries(ctx, w.ID, hotdesk.DeliveryPending, 10)
	if err != nil || len(ds) != 2 || ds[0].Attempts != 1 || ds[0].LastError != "HTTP 503" {
		t.Fatalf("pending after a failure: %+v, %v", ds, err)
	}
	db.Close()

	// Restart while a retry is pending; another event arrives meanwhile.
	db = sqlitetest.MustOpenFile(t, path)
	defer db.Close()
	c.Set(next)
	appendEvents(t, db, c.Now(), hotdesk.KindLogin)
	d = New(Options{Store: db, Now: c.Now, Logger: slog.New(slog.DiscardHandler)})
	for i := 0; i < 5; i++ {
		next, err := d.Tick(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if next.IsZero() {
			break
		}
		c.Set(next)
	}
	var kinds []string
	for _, b := range r.got {
		kinds = append(kinds, b.Kind)
	}
	if want := []string{"login", "login", "login", "logout", "login"}; !slices.Equal(kinds, want) {
		t.Fatalf("received %q, want %q", kinds, want)
	}
	ids := r.delivered()
	if len(ids) != 3 || !slices.IsSorted(ids) {
		t.Fatalf("delivered ids %v", ids)
	}
	if ds, _ := db.FindDeliveries(ctx, w.ID, hotdesk.DeliveryDelivered, 10); len(ds) != 3 {
		t.Fatalf("delivered rows %+v", ds)
	}
}

package sqlstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// Issue 18: in a group commit with no webhook enabled, AppendAudits
// writes chunks of 32, 16, 8 and 4 rows per INSERT (70 events: 2
// INSERTs of 32, one of 4 and 2 of one: 5, not 70, and 8 when only
// chunks of 32 were batched), in order, with ascending consecutive ids as each row
// got; with a webhook enabled, one by one, each with its outbox row.
func TestAppendAuditsBatched(t *testing.T) {
	ctx := context.Background()
	for _, hooks := range []bool{false, true} {
		t.Run(fmt.Sprint("webhooks=", hooks), func(t *testing.T) {
			db := openHooks(t)
			db.embedded = true // SQLite's texts (anonymous placeholders)
			if _, err := db.w.Exec(`DROP TABLE audit`); err != nil {
				t.Fatal(err)
			}
			if _, err := db.w.Exec(`CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER, kind TEXT,
				extension TEXT, device TEXT, reason TEXT, source TEXT, detail TEXT)`); err != nil {
				t.Fatal(err)
			}
			if !hooks {
				if _, err := db.w.Exec(`UPDATE webhooks SET enabled = 0`); err != nil {
					t.Fatal(err)
				}
			}
			// One row first: the batch's ids go on from it.
			if err := db.AppendAudit(ctx, &hotdesk.AuditEvent{Kind: hotdesk.KindRegistered, Device: "HD00000"}); err != nil {
				t.Fatal(err)
			}
			es := make([]*hotdesk.AuditEvent, 70)
			for i := range es {
				es[i] = &hotdesk.AuditEvent{Kind: hotdesk.KindRegistered, Device: fmt.Sprintf("HD%05d", i+1), Detail: fmt.Sprint(i)}
			}
			before := auditInserts.Load()
			err := db.InTx(ctx, func(tx hotdesk.Tx) error { return tx.(*Tx).AppendAudits(ctx, es) })
			if err != nil {
				t.Fatal(err)
			}
			want := int64(2 + 1 + 2)
			if hooks {
				want = 70
			}
			if n := auditInserts.Load() - before; n != want {
				t.Errorf("%d audit INSERTs for 70 events, want %d", n, want)
			}
			rows, err := db.w.Query(`SELECT id, device FROM audit WHERE id > 1 ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			i := 0
			for ; rows.Next(); i++ {
				var id int64
				var dev string
				if err := rows.Scan(&id, &dev); err != nil {
					t.Fatal(err)
				}
				if i < len(es) && (es[i].ID != id || es[i].Device != dev || id != int64(i+2)) {
					t.Errorf("row %d: id %d device %s; event %d %s", i, id, dev, es[i].ID, es[i].Device)
				}
			}
			if i != len(es) {
				t.Errorf("%d rows, want %d", i, len(es))
			}
			if n, want := deliveries(t, db), map[bool]int{false: 0, true: 71}[hooks]; n != want {
				t.Errorf("%d outbox rows, want %d", n, want)
			}
		})
	}
}

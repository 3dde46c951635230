package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

func TestAnonymous(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`INSERT INTO t (a, b) VALUES ($1, $2)`, `INSERT INTO t (a, b) VALUES (?, ?)`},
		{`VALUES ($1,0,$2),($3,0,$4) ON CONFLICT (a) DO UPDATE SET b = excluded.b`, `VALUES (?,0,?),(?,0,?) ON CONFLICT (a) DO UPDATE SET b = excluded.b`},
		{putBindingRows(1), strings.NewReplacer("$10", "?", "$11", "?", "$12", "?", "$13", "?", "$1", "?", "$2", "?", "$3", "?",
			"$4", "?", "$5", "?", "$6", "?", "$7", "?", "$8", "?", "$9", "?").Replace(putBindingRows(1))},
	} {
		if got := anonymous(tc.in); got != tc.want {
			t.Errorf("anonymous(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{`VALUES ($2, $1)`, `WHERE a = $1 OR b = $1`} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("anonymous(%q) did not panic", bad)
				}
			}()
			anonymous(bad)
		}()
	}
	for n, q := range putBindingTexts.anon {
		if strings.Contains(q, "$") || strings.Count(q, "?") != 13*n {
			t.Errorf("%d rows: %d placeholders in %q", n, strings.Count(q, "?"), q)
		}
	}
}

// Issue 18: on SQLite (embedded) a batched upsert binds anonymous
// placeholders: modernc's driver allocated a Go string for each named
// one's name ($N), 416 per 32-row upsert, and scanned the statement's
// names from the start for each. Counted as allocations of a 32-row
// PutBindings, the same on the two texts but for that.
func TestPutBindingsBindsAnonymously(t *testing.T) {
	ctx := context.Background()
	at := time.Unix(1_800_000_000, 0)
	bs := make([]hotdesk.Binding, 32)
	for i := range bs {
		d := fmt.Sprintf("HD%05d", i)
		bs[i] = hotdesk.Binding{Device: d, Contact: "sip:" + d + "@192.0.2.1:5060", Expires: at.Add(time.Hour),
			CallID: "c-" + d, Node: "n1", Updated: at, Transport: "tcp"}
	}
	allocs := map[bool]float64{}
	for _, embedded := range []bool{false, true} {
		db := openGroup(t)
		db.embedded = embedded
		if _, err := db.w.Exec(`CREATE TABLE bindings (device TEXT NOT NULL, contact TEXT NOT NULL, expires INTEGER NOT NULL,
			call_id TEXT, cseq INTEGER, user_agent TEXT, source TEXT, transport TEXT, node TEXT NOT NULL, updated INTEGER,
			stale INTEGER, nat INTEGER, instance TEXT, reg_id INTEGER, PRIMARY KEY (device, contact, node))`); err != nil {
			t.Fatal(err)
		}
		put := func() {
			if err := db.InTx(ctx, func(tx hotdesk.Tx) error { return tx.(*Tx).PutBindings(ctx, bs) }); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 { // the group commit prepares the text after its second use
			put()
		}
		allocs[embedded] = testing.AllocsPerRun(20, put)
	}
	t.Logf("allocations of a 32-row PutBindings: %.0f with $N, %.0f anonymous", allocs[false], allocs[true])
	if allocs[true] > allocs[false]-300 {
		t.Errorf("a 32-row PutBindings on SQLite made %.0f allocations, with $N %.0f: want at least 300 fewer (416 parameter names)",
			allocs[true], allocs[false])
	}
}

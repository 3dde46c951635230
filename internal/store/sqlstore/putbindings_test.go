package sqlstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// Issue 18: PutBindings writes chunks of 32, 16, 8 and 4 rows per
// statement (70 bindings: 2 statements of 32, one of 4 and 2 of one: 5,
// not 70, and 8 when only chunks of 32 were batched), with $N
// placeholders and with SQLite's anonymous ones, and a row whose key
// comes again within its chunk alone (PostgreSQL refuses to update a row twice
// in one statement; the later row wins, as before).
func TestPutBindingsBatched(t *testing.T) {
	for _, embedded := range []bool{false, true} {
		t.Run(fmt.Sprint("embedded=", embedded), func(t *testing.T) { testPutBindingsBatched(t, embedded) })
	}
}

func testPutBindingsBatched(t *testing.T, embedded bool) {
	ctx := context.Background()
	db := openGroup(t)
	db.embedded = embedded
	if _, err := db.w.Exec(`CREATE TABLE bindings (device TEXT NOT NULL, contact TEXT NOT NULL, expires INTEGER NOT NULL,
		call_id TEXT, cseq INTEGER, user_agent TEXT, source TEXT, transport TEXT, node TEXT NOT NULL, updated INTEGER,
		stale INTEGER, nat INTEGER, instance TEXT, reg_id INTEGER, PRIMARY KEY (device, contact, node))`); err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_800_000_000, 0)
	mk := func(n int, at time.Time) []hotdesk.Binding {
		bs := make([]hotdesk.Binding, n)
		for i := range bs {
			d := fmt.Sprintf("HD%05d", i)
			bs[i] = hotdesk.Binding{Device: d, Contact: "sip:" + d + "@192.0.2.1:5060", Expires: at.Add(time.Hour),
				CallID: "c-" + d, CSeq: uint32(i), Node: "n1", Updated: at, Transport: "tcp"}
		}
		return bs
	}
	count := func() (n int, latest int64) {
		t.Helper()
		if err := db.w.QueryRow(`SELECT COUNT(*), MAX(expires) FROM bindings`).Scan(&n, &latest); err != nil {
			t.Fatal(err)
		}
		return n, latest
	}
	before := bindingWrites.Load()
	bs := mk(70, t0)
	if err := db.InTx(ctx, func(tx hotdesk.Tx) error { return tx.(*Tx).PutBindings(ctx, bs) }); err != nil {
		t.Fatal(err)
	}
	if n := bindingWrites.Load() - before; n != 5 {
		t.Errorf("%d statements for 70 bindings, want 5", n)
	}
	if n, _ := count(); n != 70 {
		t.Fatalf("%d rows, want 70", n)
	}
	// A refresh of all of them, the first one twice in the first chunk.
	later := mk(70, t0.Add(time.Minute))
	dup := later[0]
	dup.Expires = t0.Add(2 * time.Hour)
	later = append([]hotdesk.Binding{later[0]}, later...)
	later[1] = dup
	before = bindingWrites.Load()
	if err := db.PutBindings(ctx, later); err != nil {
		t.Fatal(err)
	}
	// The first alone (its key is twice in the first 32), then the 70
	// others in 5.
	if n := bindingWrites.Load() - before; n != 1+5 {
		t.Errorf("%d statements for 71 bindings with a key twice in the first 32, want 6", n)
	}
	n, latest := count()
	if n != 70 || latest != ts(dup.Expires) {
		t.Fatalf("%d rows, latest expiry %d; want 70, %d (the later row of a key wins)", n, latest, ts(dup.Expires))
	}
}

package app

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite/sqlitetest"
)

// TestRegistrationsOfAllNodes: the API and console see this node's live
// bindings from the registrar and the other nodes' from the database, each
// with its node; this node's rows in the database (written behind) are not
// listed twice.
func TestRegistrationsOfAllNodes(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.MustOpen(t)
	now := time.Unix(1_800_000_000, 0)
	exp := now.Add(time.Hour)
	err := db.PutBindings(ctx, []hotdesk.Binding{
		{Device: "HD00001", Contact: "sip:HD00001@127.0.0.1:7001", Node: "a", Expires: exp},
		{Device: "HD00001", Contact: "sip:HD00001@127.0.0.1:7002", Node: "b", Expires: exp},
		{Device: "HD00002", Contact: "sip:HD00002@127.0.0.1:7003", Node: "c", Expires: exp},
	})
	if err != nil {
		t.Fatal(err)
	}
	local := func(device string) []hotdesk.Binding {
		if device == "HD00001" {
			return []hotdesk.Binding{{Device: "HD00001", Contact: "sip:HD00001@127.0.0.1:7001", Expires: exp}}
		}
		return nil
	}
	clk := now
	regs := &allNodes{local: local, store: db, self: "a", now: func() time.Time { return clk }}
	nodes := func(device string) []string {
		var out []string
		for _, b := range regs.Contacts(device) {
			out = append(out, b.Node)
		}
		slices.Sort(out)
		return out
	}
	if got := nodes("HD00001"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("HD00001 registered at %v, want a (live table) and b (database)", got)
	}
	if got := nodes("HD00002"); !slices.Equal(got, []string{"c"}) {
		t.Errorf("HD00002 registered at %v, want c", got)
	}
	// Node c went silent and its bindings were marked stale: gone once the
	// cached read is older than othersTTL.
	if _, err := db.MarkNodeStale(ctx, "c", hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindUnregistered}); err != nil {
		t.Fatal(err)
	}
	clk = clk.Add(othersTTL)
	if got := nodes("HD00002"); len(got) != 0 {
		t.Errorf("HD00002 after node c was declared lost: registered at %v", got)
	}
}

package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// testNodeRevive: a node declared lost that comes back gets its stale
// bindings live again (one registered audit per device), except those of
// phones registered with another node meanwhile and those keep rejects,
// which are deleted; expired and other nodes' rows are left alone.
func testNodeRevive(t *testing.T, s hotdesk.Store) {
	ns := nodeStore(t, s)
	ctx := context.Background()
	now := t0
	tcp := nodeBinding("HD00004", "sip:f@192.0.2.1;transport=tcp", "back", now.Add(time.Hour))
	tcp.Transport = "tcp"
	must(t, s.PutBindings(ctx, []hotdesk.Binding{
		nodeBinding("HD00001", "sip:a@192.0.2.1", "back", now.Add(time.Hour)),
		nodeBinding("HD00001", "sip:b@192.0.2.1", "back", now.Add(time.Hour)),
		nodeBinding("HD00002", "sip:c@192.0.2.1", "back", now.Add(time.Hour)),
		nodeBinding("HD00003", "sip:d@192.0.2.1", "back", now.Add(time.Minute)), // expires before it is back
		tcp,
	}))
	_, err := ns.MarkNodeStale(ctx, "back", hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindUnregistered, Reason: "node_lost"})
	must(t, err)
	// Meanwhile HD00002 registered with node other.
	must(t, s.PutBindings(ctx, []hotdesk.Binding{nodeBinding("HD00002", "sip:c@192.0.2.1", "other", now.Add(time.Hour))}))

	back := now.Add(2 * time.Minute)
	live, gone, err := ns.ReviveNodeBindings(ctx, "back", func(b hotdesk.Binding) bool { return b.Transport == "udp" },
		hotdesk.AuditEvent{Time: back, Kind: hotdesk.KindRegistered, Reason: "node_back", Detail: "node back came back"})
	must(t, err)
	if n := nodesOf(live); !slices.Equal(n, []string{"HD00001@back", "HD00001@back"}) {
		t.Fatalf("made live %v", n)
	}
	if n := nodesOf(gone); !slices.Equal(n, []string{"HD00002@back", "HD00004@back"}) {
		t.Fatalf("deleted %v", n)
	}
	all, _ := s.ListBindings(ctx, back)
	if n := nodesOf(all); !slices.Equal(n, []string{"HD00001@back", "HD00001@back", "HD00002@other"}) {
		t.Fatalf("listed after revive: %v", n)
	}
	for _, b := range all {
		if b.Stale {
			t.Fatalf("listed stale: %+v", b)
		}
	}
	if devs := audited(t, s, hotdesk.KindRegistered, "node_back"); !slices.Equal(devs, []string{"HD00001"}) {
		t.Fatalf("node_back audit for %v, want HD00001 once", devs)
	}
	// Nothing stale is left to revive; the expired row goes with the expiry.
	live, gone, err = ns.ReviveNodeBindings(ctx, "back", nil, hotdesk.AuditEvent{Time: back, Kind: hotdesk.KindRegistered})
	must(t, err)
	if len(live)+len(gone) != 0 {
		t.Fatalf("second revive: live %v gone %v", live, gone)
	}
	expired, err := s.DeleteExpiredBindings(ctx, "back", back)
	must(t, err)
	if n := nodesOf(expired); !slices.Equal(n, []string{"HD00003@back"}) {
		t.Fatalf("expired %v", n)
	}
}

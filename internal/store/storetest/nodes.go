package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

func nodeBinding(dev, contact, node string, exp time.Time) hotdesk.Binding {
	return hotdesk.Binding{Device: dev, Contact: contact, Expires: exp, CallID: "c", CSeq: 1,
		Source: "192.0.2.1:5060", Transport: "udp", Node: node, Updated: t0}
}

func nodesOf(bs []hotdesk.Binding) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Device+"@"+b.Node)
	}
	slices.Sort(out)
	return out
}

// nodeStore is s as a hotdesk.NodeStore; the test fails when it is not one.
func nodeStore(t *testing.T, s hotdesk.Store) hotdesk.NodeStore {
	t.Helper()
	ns, ok := s.(hotdesk.NodeStore)
	if !ok {
		t.Fatal("store does not implement hotdesk.NodeStore")
	}
	return ns
}

// audited is the devices of the (at most 10) audit events of kind with
// reason, sorted.
func audited(t *testing.T, s hotdesk.Store, kind, reason string) []string {
	t.Helper()
	evs, err := s.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{kind}, Limit: 10})
	must(t, err)
	var devs []string
	for _, e := range evs {
		if e.Reason == reason {
			devs = append(devs, e.Device)
		}
	}
	slices.Sort(devs)
	return devs
}

// testBindingOwnership: a phone that moved from node a to node b with the
// same contact has one row per node; a's expiry and delete never remove b's.
func testBindingOwnership(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	now := t0
	onA := nodeBinding("HD00001", "sip:HD00001@192.0.2.7:5060", "a", now.Add(30*time.Second))
	onB := nodeBinding("HD00001", "sip:HD00001@192.0.2.7:5060", "b", now.Add(time.Hour))
	must(t, s.PutBindings(ctx, []hotdesk.Binding{onA}))
	must(t, s.PutBindings(ctx, []hotdesk.Binding{onB}))
	got, err := s.DeviceBindings(ctx, "HD00001", now)
	must(t, err)
	if n := nodesOf(got); !slices.Equal(n, []string{"HD00001@a", "HD00001@b"}) {
		t.Fatalf("both nodes' bindings: %v", n)
	}
	// a's in-memory expiry deletes a's row only.
	must(t, s.DeleteBindings(ctx, []hotdesk.Binding{onA}))
	got, _ = s.DeviceBindings(ctx, "HD00001", now)
	if n := nodesOf(got); !slices.Equal(n, []string{"HD00001@b"}) {
		t.Fatalf("after a's delete: %v", n)
	}
	// a's restart deletes only a's expired rows, and says which.
	must(t, s.PutBindings(ctx, []hotdesk.Binding{onA, nodeBinding("HD00002", "sip:x@192.0.2.8", "b", now.Add(time.Second))}))
	gone, err := s.DeleteExpiredBindings(ctx, "a", now.Add(time.Minute))
	must(t, err)
	if n := nodesOf(gone); !slices.Equal(n, []string{"HD00001@a"}) {
		t.Fatalf("a's expired rows deleted: %v", n)
	}
	all, _ := s.ListBindings(ctx, now)
	if n := nodesOf(all); !slices.Equal(n, []string{"HD00001@b", "HD00002@b"}) {
		t.Fatalf("left: %v", n)
	}
}

// testNodeStale: a silent node's bindings are marked stale once (one audit
// per device), hidden from listings, and live again when written again.
func testNodeStale(t *testing.T, s hotdesk.Store) {
	ns := nodeStore(t, s)
	ctx := context.Background()
	now := t0
	must(t, s.PutBindings(ctx, []hotdesk.Binding{
		nodeBinding("HD00001", "sip:a@192.0.2.1", "dead", now.Add(time.Hour)),
		nodeBinding("HD00001", "sip:b@192.0.2.1", "dead", now.Add(time.Hour)),
		nodeBinding("HD00002", "sip:c@192.0.2.1", "dead", now.Add(time.Hour)),
		nodeBinding("HD00003", "sip:d@192.0.2.1", "alive", now.Add(time.Hour)),
		// HD00004 failed over to node alive already: not unregistered.
		nodeBinding("HD00004", "sip:e@192.0.2.1", "dead", now.Add(time.Hour)),
		nodeBinding("HD00004", "sip:e@192.0.2.1", "alive", now.Add(time.Hour)),
	}))
	tmpl := hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindUnregistered, Reason: "node_lost", Detail: "node dead silent"}
	marked, err := ns.MarkNodeStale(ctx, "dead", tmpl)
	must(t, err)
	if len(marked) != 3 {
		t.Fatalf("marked %+v, want 3", marked)
	}
	again, err := ns.MarkNodeStale(ctx, "dead", tmpl)
	must(t, err)
	if len(again) != 0 {
		t.Fatalf("second MarkNodeStale marked %+v", again)
	}
	all, _ := s.ListBindings(ctx, now)
	if n := nodesOf(all); !slices.Equal(n, []string{"HD00003@alive", "HD00004@alive"}) {
		t.Fatalf("listed after stale: %v", n)
	}
	if devs := audited(t, s, hotdesk.KindUnregistered, "node_lost"); !slices.Equal(devs, []string{"HD00001", "HD00002"}) {
		t.Fatalf("node_lost audit for %v, want one per device", devs)
	}
	// The phone registers again through the same node (it came back).
	must(t, s.PutBindings(ctx, []hotdesk.Binding{nodeBinding("HD00002", "sip:c@192.0.2.1", "dead", now.Add(time.Hour))}))
	got, _ := s.DeviceBindings(ctx, "HD00002", now)
	if len(got) != 1 || got[0].Stale {
		t.Fatalf("re-registered binding: %+v", got)
	}
	// Stale rows are removed by the expiry like others.
	gone, err := s.DeleteExpiredBindings(ctx, "", now.Add(2*time.Hour))
	must(t, err)
	if len(gone) != 6 {
		t.Fatalf("expired %d rows, want 6", len(gone))
	}
}

// testNodes: one live process per node name; a restart (same instance) or a
// node silent past the limit may take the name over.
func testNodes(t *testing.T, s hotdesk.Store) {
	ns := nodeStore(t, s)
	ctx := context.Background()
	now := t0
	a := hotdesk.Node{Name: "pbx1", Address: "127.0.0.1:5060", Instance: "i1", Started: now, Heartbeat: now}
	must(t, ns.ClaimNode(ctx, a, now.Add(-30*time.Second)))
	must(t, ns.ClaimNode(ctx, a, now.Add(-30*time.Second))) // same process again
	dup := hotdesk.Node{Name: "pbx1", Address: "127.0.0.2:5060", Instance: "i2", Started: now.Add(time.Second), Heartbeat: now.Add(time.Second)}
	err := ns.ClaimNode(ctx, dup, now.Add(-29*time.Second))
	if hotdesk.ErrorCode(err) != hotdesk.ECONFLICT {
		t.Fatalf("second process with a live name: %v, want ECONFLICT", err)
	}
	must(t, ns.NodeHeartbeat(ctx, "pbx1", "i1", now.Add(10*time.Second)))
	if err := ns.NodeHeartbeat(ctx, "pbx1", "i2", now.Add(10*time.Second)); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("heartbeat of a process that does not hold the name: %v", err)
	}
	// Silent for longer than the limit: the name may be taken.
	later := now.Add(time.Minute)
	dup.Heartbeat = later
	must(t, ns.ClaimNode(ctx, dup, later.Add(-30*time.Second)))
	must(t, ns.ClaimNode(ctx, hotdesk.Node{Name: "pbx2", Address: "127.0.0.3:5060", Instance: "i3", Started: now, Heartbeat: now}, now))
	nodes, err := ns.ListNodes(ctx)
	must(t, err)
	if len(nodes) != 2 || nodes[0].Name != "pbx1" || nodes[0].Address != "127.0.0.2:5060" || nodes[0].Instance != "i2" || !nodes[0].Heartbeat.Equal(later) {
		t.Fatalf("nodes = %+v", nodes)
	}
	if err := ns.NodeHeartbeat(ctx, "pbx1", "i1", later); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("heartbeat of the process whose name was taken over: %v", err)
	}
	// A clean stop gives the name up at once; only its holder can.
	must(t, ns.ReleaseNode(ctx, "pbx1", "i1")) // not the holder: no-op
	if err := ns.ClaimNode(ctx, hotdesk.Node{Name: "pbx1", Instance: "i4", Heartbeat: later}, later.Add(-30*time.Second)); hotdesk.ErrorCode(err) != hotdesk.ECONFLICT {
		t.Fatalf("claim after a release by a non-holder: %v, want ECONFLICT", err)
	}
	must(t, ns.ReleaseNode(ctx, "pbx1", "i2"))
	must(t, ns.ClaimNode(ctx, hotdesk.Node{Name: "pbx1", Address: "127.0.0.4:5060", Instance: "i4", Heartbeat: later}, later.Add(-30*time.Second)))
	sec, err := ns.NodeSecret(ctx, "first")
	must(t, err)
	sec2, err := ns.NodeSecret(ctx, "second")
	must(t, err)
	if sec != "first" || sec2 != "first" {
		t.Fatalf("node secret %q then %q, want the first proposal both times", sec, sec2)
	}
}

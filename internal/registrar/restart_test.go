package registrar

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// TestRestartAuditsRegistrationsExpiredMeanwhile: at start the node deletes
// its own bindings that expired while it was down, audits and publishes
// each device left unregistered, and leaves other nodes' rows alone.
func TestRestartAuditsRegistrationsExpiredMeanwhile(t *testing.T) {
	store := newFakeStore()
	clock := siptest.NewClock(time.Unix(1_800_000_000, 0))
	past, future := clock.Now().Add(-time.Minute), clock.Now().Add(time.Hour)
	store.PutBindings(context.Background(), []hotdesk.Binding{
		{Device: "HD00001", Contact: "sip:HD00001@127.0.0.1:7001", Node: "n1", Expires: past, Source: "127.0.0.1:7001"},
		{Device: "HD00002", Contact: "sip:HD00002@127.0.0.1:7002", Node: "n2", Expires: past},
		{Device: "HD00003", Contact: "sip:HD00003@127.0.0.1:7003", Node: "n1", Expires: future},
		{Device: "HD00003", Contact: "sip:HD00003@127.0.0.1:7004", Node: "n1", Expires: past},
	})
	var evs <-chan events.Event
	h := mustStart(t, store, clock, func(o *Options) { evs, _ = o.Bus.Subscribe(16) })
	defer h.stop()
	select {
	case e := <-evs:
		if e.Kind != hotdesk.KindUnregistered || e.Device != "HD00001" || e.Reason != "expired" {
			t.Fatalf("event %+v, want HD00001 unregistered (expired)", e)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no unregistered event for HD00001")
	}
	deadline := time.Now().Add(3 * time.Second)
	for len(store.auditKinds()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	es, _ := store.audits.FindAudit(context.Background(), hotdesk.AuditFilter{Limit: 1000})
	var audited []string
	for _, e := range es {
		audited = append(audited, e.Kind+" "+e.Device+" "+e.Reason)
	}
	if !slices.Equal(audited, []string{"unregistered HD00001 expired"}) {
		t.Fatalf("audit %q, want only HD00001's expiry (HD00002 is another node's, HD00003 still has a binding)", audited)
	}
	if bs := store.storedBindings("HD00002"); len(bs) != 1 {
		t.Fatalf("another node's expired row deleted at this node's start: %+v", bs)
	}
	if cs := h.reg.Contacts("HD00003"); len(cs) != 1 {
		t.Fatalf("HD00003 contacts after restart: %+v", cs)
	}
}

// TestRewriteStoresLiveBindingsAgain: after the other nodes marked this
// node's bindings stale (it was cut off), Rewrite writes every live one
// again, which makes the rows live.
func TestRewriteStoresLiveBindingsAgain(t *testing.T) {
	store := newFakeStore()
	clock := siptest.NewClock(time.Unix(1_800_000_000, 0))
	store.PutBindings(context.Background(), []hotdesk.Binding{
		{Device: "HD00001", Contact: "sip:HD00001@127.0.0.1:7001", Node: "n1", Expires: clock.Now().Add(time.Hour)},
	})
	h := mustStart(t, store, clock, nil)
	defer h.stop()
	// Another node marked it stale (the fake drops it, like a listing would).
	store.mu.Lock()
	clear(store.bindings)
	before := store.puts
	store.mu.Unlock()
	h.reg.Rewrite()
	deadline := time.Now().Add(3 * time.Second)
	for len(store.storedBindings("HD00001")) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	bs := store.storedBindings("HD00001")
	if len(bs) != 1 || bs[0].Node != "n1" {
		t.Fatalf("after Rewrite the store has %+v", bs)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if store.puts != before+1 {
		t.Errorf("Rewrite took %d writes, want one batch", store.puts-before)
	}
}

package nodes

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite/sqlitetest"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

// pausingStore pauses "the process" (moves the clock on) right after the
// roster has been read, as a node stopped (SIGSTOP), swapped out or cut off
// between reading the other nodes' heartbeats and judging them would be.
type pausingStore struct {
	Store
	clk      *clock
	pause    time.Duration
	instance string // b's
	lists    atomic.Int32
}

func (p *pausingStore) ListNodes(ctx context.Context) ([]hotdesk.Node, error) {
	// The other node is alive: it heartbeats right before every read.
	if err := p.Store.NodeHeartbeat(ctx, "b", p.instance, p.clk.now()); err != nil {
		return nil, err
	}
	ns, err := p.Store.ListNodes(ctx)
	p.clk.add(p.pause)
	p.lists.Add(1)
	return ns, err
}

// TestPausedNodeDoesNotJudgeByWhatItReadBefore: a node that was paused
// between reading the roster and judging it must not declare a live node
// lost (its phones' bindings marked stale): heartbeats are judged by the
// time before the roster was read.
func TestPausedNodeDoesNotJudgeByWhatItReadBefore(t *testing.T) {
	db := sqlitetest.MustOpen(t)
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	b := mustRoster(t, db, "b", "127.0.0.2:5060", clk, nil)
	ps := &pausingStore{Store: db, clk: clk, pause: 5 * time.Second, instance: b.instance}
	a := mustRoster(t, ps, "a", "127.0.0.1:5060", clk, nil)
	ctx := context.Background()
	if err := db.PutBindings(ctx, []hotdesk.Binding{
		{Device: "HD00002", Contact: "sip:HD00002@127.0.0.1:7001", Node: "b", Expires: clk.now().Add(24 * time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	stop := testrun.Go(t, a.Run)
	deadline := time.Now().Add(10 * time.Second)
	for ps.lists.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if ps.lists.Load() < 3 {
		t.Fatalf("the roster was read %d times in 10 s", ps.lists.Load())
	}
	if bs, _ := db.DeviceBindings(ctx, "HD00002", clk.now()); len(bs) != 1 {
		t.Fatalf("a paused node declared the live node b lost: HD00002's bindings %+v", bs)
	}
}

// TestStoppedBeforeTheFirstBeatRevives: a node stopped after its claim but
// before its first heartbeat (the others declared it lost meanwhile) sees
// the gap from the claim at its first beat and revives its bindings.
func TestStoppedBeforeTheFirstBeatRevives(t *testing.T) {
	db := sqlitetest.MustOpen(t)
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	revived, onRevive := reviveSignal()
	r, err := New(context.Background(), Options{Store: db, Name: "b", Address: "127.0.0.2:5060", Timeout: 3 * time.Second, Now: clk.now,
		OnRevive: onRevive})
	if err != nil {
		t.Fatal(err)
	}
	clk.add(3500 * time.Millisecond) // stopped before Run's first beat
	testrun.Go(t, r.Run)
	select {
	case <-revived:
	case <-time.After(5 * time.Second):
		t.Fatal("no revive at the first beat after a gap of 3.5 s since the claim")
	}
}

// TestAliveNodeRevivesBindingsMarkedStale: bindings of a node that
// heartbeats are marked stale anyway (a verdict that crossed its return):
// the node finds them at its next beat and revives them.
func TestAliveNodeRevivesBindingsMarkedStale(t *testing.T) {
	db := sqlitetest.MustOpen(t)
	revived, onRevive := reviveSignal()
	r, err := New(context.Background(), Options{Store: db, Name: "b", Address: "127.0.0.2:5060", Timeout: 3 * time.Second,
		OnRevive: onRevive})
	if err != nil {
		t.Fatal(err)
	}
	testrun.Go(t, r.Run)
	ctx := context.Background()
	select {
	case <-revived:
		t.Fatal("revived with nothing stale and no gap")
	case <-time.After(1200 * time.Millisecond): // two beats
	}
	if err := db.PutBindings(ctx, []hotdesk.Binding{
		{Device: "HD00002", Contact: "sip:HD00002@127.0.0.1:7001", Node: "b", Expires: time.Now().Add(time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MarkNodeStale(ctx, "b", hotdesk.AuditEvent{Time: time.Now(), Kind: hotdesk.KindUnregistered, Reason: ReasonNodeLost}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-revived:
	case <-time.After(5 * time.Second):
		t.Fatal("bindings marked stale while the node heartbeats were not revived")
	}
}

// reviveSignal is an OnRevive that reports on the channel (never blocking).
func reviveSignal() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	return ch, func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

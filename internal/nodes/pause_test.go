package nodes

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
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
	db := mustStore(t)
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
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(rctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for ps.lists.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	if ps.lists.Load() < 3 {
		t.Fatalf("the roster was read %d times in 10 s", ps.lists.Load())
	}
	if bs, _ := db.DeviceBindings(ctx, "HD00002", clk.now()); len(bs) != 1 {
		t.Fatalf("a paused node declared the live node b lost: HD00002's bindings %+v", bs)
	}
}

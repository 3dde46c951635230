package nodes

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite/sqlitetest"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func mustRoster(t *testing.T, db Store, name, addr string, clk *clock, bus *events.Bus) *Roster {
	t.Helper()
	r, err := New(context.Background(), Options{Store: db, Name: name, Address: addr, Timeout: 3 * time.Second, Now: clk.now, Bus: bus,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func invite(src string) *sip.Request {
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "HD00002", Host: "127.0.0.2", Port: 5060})
	cid := sip.CallIDHeader("call-1")
	req.AppendHeader(&cid)
	req.SetSource(src)
	return req
}

// TestNodeNameIsUnique: a second process with the name of a live node is
// refused with a message naming the other; once that node has been silent
// past the timeout the name may be taken over.
func TestNodeNameIsUnique(t *testing.T) {
	db := sqlitetest.MustOpen(t)
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	mustRoster(t, db, "pbx1", "127.0.0.1:5060", clk, nil)
	clk.add(2 * time.Second)
	_, err := New(context.Background(), Options{Store: db, Name: "pbx1", Address: "127.0.0.9:5060", Timeout: 3 * time.Second, Now: clk.now})
	if err == nil || !strings.Contains(err.Error(), "in use by a running node") || !strings.Contains(err.Error(), "127.0.0.1:5060") {
		t.Fatalf("second pbx1 while the first is alive: %v", err)
	}
	clk.add(2 * time.Second) // 4 s without a heartbeat
	taken := mustRoster(t, db, "pbx1", "127.0.0.9:5060", clk, nil)

	// A clean stop gives the name up at once.
	testrun.Go(t, taken.Run)()
	mustRoster(t, db, "pbx1", "127.0.0.10:5060", clk, nil)
}

// TestSignedRequestsBetweenNodes: a request signed by node a is taken from
// a's address only, with the right secret, and not when too old.
func TestSignedRequestsBetweenNodes(t *testing.T) {
	db := sqlitetest.MustOpen(t)
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	a := mustRoster(t, db, "a", "127.0.0.1:5060", clk, nil)
	b := mustRoster(t, db, "b", "127.0.0.2:5060", clk, nil)

	req := invite("127.0.0.1:5060")
	a.Sign(req)
	if node, err := b.Verify(req); err != nil || node != "a" {
		t.Fatalf("signed by a from a's address: %q %v", node, err)
	}
	if node, err := b.Verify(invite("127.0.0.1:5060")); err != nil || node != "" {
		t.Fatalf("unsigned request: %q %v, want not from a node", node, err)
	}
	other := invite("127.0.0.7:40000") // right signature, wrong address
	a.Sign(other)
	if _, err := b.Verify(other); err == nil {
		t.Error("a's signature from another address accepted")
	}
	forged := invite("127.0.0.1:5060")
	forged.AppendHeader(sip.NewHeader(Header, "a;ts="+strconv.FormatInt(clk.now().Unix(), 10)+";sig=00"))
	if _, err := b.Verify(forged); err == nil {
		t.Error("forged signature accepted")
	}
	c, err := New(context.Background(), Options{Store: db, Name: "c", Address: "127.0.0.1:5061", Secret: "not the site's", Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	wrong := invite("127.0.0.1:5061")
	c.Sign(wrong)
	if _, err := b.Verify(wrong); err == nil {
		t.Error("request signed with another secret accepted")
	}
	old := invite("127.0.0.1:5060")
	a.Sign(old)
	clk.add(time.Minute)
	if _, err := b.Verify(old); err == nil {
		t.Error("a signature a minute old accepted (replay)")
	}
}

// TestSilentNodeBindingsGoStale: a node silent past the timeout loses its
// phones' registrations (one unregistered event per device, reason
// node_lost), and its address is no longer offered for calls.
func TestSilentNodeBindingsGoStale(t *testing.T) {
	db := sqlitetest.MustOpen(t)
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	bus := events.New()
	evs, cancel := bus.Subscribe(16)
	defer cancel()
	mustRoster(t, db, "a", "127.0.0.1:5060", clk, nil)
	b := mustRoster(t, db, "b", "127.0.0.2:5060", clk, bus)
	ctx := context.Background()
	exp := clk.now().Add(time.Hour)
	err := db.PutBindings(ctx, []hotdesk.Binding{
		{Device: "HD00001", Contact: "sip:HD00001@127.0.0.1:7000", Node: "a", Expires: exp},
		{Device: "HD00002", Contact: "sip:HD00002@127.0.0.1:7001", Node: "b", Expires: exp},
	})
	if err != nil {
		t.Fatal(err)
	}
	if addr, ok := b.Address("a"); !ok || addr != "127.0.0.1:5060" {
		t.Fatalf("Address(a) = %q %v", addr, ok)
	}
	clk.add(2 * time.Second)
	b.sweep(ctx, clk.now())
	if bs, _ := db.DeviceBindings(ctx, "HD00001", clk.now()); len(bs) != 1 {
		t.Fatalf("a marked stale after 2 s of a 3 s timeout: %+v", bs)
	}
	clk.add(2 * time.Second)
	b.sweep(ctx, clk.now())
	if bs, _ := db.DeviceBindings(ctx, "HD00001", clk.now()); len(bs) != 0 {
		t.Fatalf("HD00001 still registered after a was silent 4 s: %+v", bs)
	}
	if bs, _ := db.DeviceBindings(ctx, "HD00002", clk.now()); len(bs) != 1 {
		t.Fatalf("b's own binding touched: %+v", bs)
	}
	select {
	case e := <-evs:
		if e.Kind != hotdesk.KindUnregistered || e.Device != "HD00001" || e.Reason != ReasonNodeLost {
			t.Fatalf("event %+v", e)
		}
	case <-time.After(time.Second):
		t.Fatal("no unregistered event")
	}
	if _, ok := b.Address("a"); ok {
		t.Error("a silent node is still offered for calls")
	}
	// Once they expire, the silent node's rows are deleted (not audited again).
	clk.add(time.Hour)
	b.sweep(ctx, clk.now())
	if gone, _ := db.DeleteExpiredBindings(ctx, "a", clk.now()); len(gone) != 0 {
		t.Errorf("a's expired rows left behind: %+v", gone)
	}
}

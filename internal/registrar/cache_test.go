package registrar

import (
	"context"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// until waits (bounded) for cond.
func until(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func longCache(o *Options) { o.CacheTTL = 10 * time.Minute }

// mustStartCaching is mustStartOne with a long credential cache, started
// once the registrar watches the bus for changed devices.
func mustStartCaching(t *testing.T, pass string) *harness {
	t.Helper()
	h := mustStartOne(t, pass, newClock(), longCache)
	until(t, "the registrar to watch the bus", h.reg.secrets.isWatching)
	return h
}

// Issue 18: with the bus watched, a refresh minutes later finds the
// device's credentials in the cache (no store round trip per REGISTER),
// and a device_changed event drops them at once: the new password works
// and the old one no longer does, without waiting for the TTL.
func TestChangedDeviceLeavesCacheAtOnce(t *testing.T) {
	h := mustStartCaching(t, "old-password")
	store := h.store
	p := h.mustPhone(t, "udp", "HD00001", "old-password")
	mustStatus(t, p.register(p.contact(), "MD5"), 200)
	h.clock.Advance(time.Minute)
	mustStatus(t, p.register(p.contact(), "MD5"), 200)
	store.mu.Lock()
	finds := store.finds
	store.mu.Unlock()
	if finds != 1 {
		t.Fatalf("%d store lookups for two registrations a minute apart, want 1", finds)
	}

	store.addDevice("HD00001", "new-password")
	h.bus.Publish(events.Event{Kind: hotdesk.KindDeviceChanged, Device: "HD00001", Reason: "sip_password"})
	until(t, "the changed device to leave the cache", func() bool { return h.reg.secrets.cached() == 0 })
	mustStatus(t, p.register(p.contact(), "MD5"), 403)
	p.pass = "new-password"
	mustStatus(t, p.register(p.contact(), "MD5"), 200)
}

// A device_changed event naming no device (a CSV import) and a cluster
// resync drop every cached credential.
func TestImportAndResyncEmptyTheCache(t *testing.T) {
	store := newFakeStore()
	store.addDevice("HD00001", "s3cret-one")
	store.addDevice("HD00002", "s3cret-two")
	h := mustStart(t, store, newClock(), longCache)
	until(t, "the registrar to watch the bus", h.reg.secrets.isWatching)
	for _, e := range []events.Event{
		{Kind: hotdesk.KindDeviceChanged, Reason: "import"},
		{Kind: events.KindResync},
	} {
		for _, id := range []string{"HD00001", "HD00002"} {
			pw := map[string]string{"HD00001": "s3cret-one", "HD00002": "s3cret-two"}[id]
			p := h.mustPhone(t, "udp", id, pw)
			mustStatus(t, p.register(p.contact(), "MD5"), 200)
		}
		if n := h.reg.secrets.cached(); n != 2 {
			t.Fatalf("%d cached credentials, want 2", n)
		}
		h.bus.Publish(e)
		until(t, e.Kind+" to empty the cache", func() bool { return h.reg.secrets.cached() == 0 })
	}
}

// Without a bus nothing tells the registrar a device changed: a long
// CacheTTL is capped at 2 s then.
func TestCacheTTLCappedWithoutBus(t *testing.T) {
	h := mustStartOne(t, "old-password", newClock(), func(o *Options) { longCache(o); o.Bus = nil })
	store := h.store
	p := h.mustPhone(t, "udp", "HD00001", "old-password")
	mustStatus(t, p.register(p.contact(), "MD5"), 200)
	store.addDevice("HD00001", "new-password")
	h.clock.Advance(3 * time.Second)
	mustStatus(t, p.register(p.contact(), "MD5"), 403)
	p.pass = "new-password"
	mustStatus(t, p.register(p.contact(), "MD5"), 200)
}

// The cache's subscription takes device changes only: registrations and
// calls are not handed to it (issue 18: each woke it), and a lost change
// (told by the bus's resync) empties the cache.
func TestCacheFollowsDeviceChangesOnly(t *testing.T) {
	c := &secrets{ttl: time.Hour, m: map[string]secret{}}
	bus := events.New()
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); c.watch(ctx, bus, ready) }()
	defer func() { cancel(); <-done }()
	<-ready
	c.mu.Lock()
	c.m["HD00001"], c.m["HD00002"] = secret{fetched: time.Now()}, secret{fetched: time.Now()}
	c.mu.Unlock()
	bus.Publish(events.Event{Kind: hotdesk.KindDeviceChanged, Device: "HD00002"})
	until(t, "the device change to drop its entry", func() bool { return c.cached() == 1 })
	c.mu.Lock() // the loop blocks in its next forget
	bus.Publish(events.Event{Kind: hotdesk.KindDeviceChanged, Device: "HD00009"})
	for range 5000 { // more than the subscription's buffer
		bus.Publish(events.Event{Kind: hotdesk.KindRegistered, Device: "HD00001"})
		bus.Publish(events.Event{Kind: events.KindCallTrying, Device: "HD00001"})
	}
	if n := bus.Dropped(); n != 0 {
		c.mu.Unlock()
		t.Fatalf("%d registrations and call events dropped for the cache: it was handed them", n)
	}
	for range 5000 {
		bus.Publish(events.Event{Kind: hotdesk.KindDeviceChanged, Device: "HD00009"})
	}
	c.mu.Unlock()
	if bus.Dropped() == 0 {
		t.Fatal("no change lost")
	}
	if n := c.cached(); n != 1 {
		t.Fatalf("%d cached before the loss is told, want 1", n)
	}
	until(t, "a lost event to empty the cache", func() bool {
		bus.Publish(events.Event{Kind: hotdesk.KindRegistered}) // brings the resync once there is room
		return c.cached() == 0
	})
}

// Issue 18: the credential cache's sweep walks its entries only once the
// earliest may have expired, not every second.
func TestCacheSweepWalksOnlyFromTheEarliestExpiry(t *testing.T) {
	h := mustStartCaching(t, "s3cret") // TTL 10 minutes
	p := h.mustPhone(t, "udp", "HD00001", "s3cret")
	mustStatus(t, p.register(p.contact(), "MD5"), 200)
	walks := func() (int, int) {
		c := h.reg.secrets
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.sweeps, len(c.m)
	}
	h.clock.Advance(5 * time.Minute)
	h.reg.sweep(h.clock.Now())
	if n, cached := walks(); n != 0 || cached != 1 {
		t.Fatalf("%d walks, %d entries at 5 minutes, want 0 and 1", n, cached)
	}
	h.clock.Advance(6 * time.Minute)
	h.reg.sweep(h.clock.Now())
	h.reg.sweep(h.clock.Now().Add(time.Hour))
	if n, cached := walks(); n != 1 || cached != 0 {
		t.Fatalf("%d walks, %d entries after the TTL, want 1 (the entry expired) and 0", n, cached)
	}
}

package b2bua

import (
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// fedCache is a party cache watching (without a bus: feed applies an
// event as the bus's Publish would), with HD1's and P1's callers and
// callee 202 cached.
func fedCache(t *testing.T) (p *partyCache, feed func(events.Event), now time.Time) {
	t.Helper()
	p = newPartyCache()
	p.watching = true
	now = time.Unix(1_000_000, 0)
	for _, d := range []*hotdesk.Device{hd1, p1} {
		_, _, _, _, gen := p.get(d, "202", now)
		p.put(gen, d, true, &hotdesk.User{Extension: "20x"}, "202", &called{User: &hotdesk.User{Extension: "202"}, known: true, at: "HD2"}, now)
	}
	return p, p.apply, now
}

var (
	hd1 = &hotdesk.Device{ID: "HD1", Mode: hotdesk.ModeHotdesk}
	p1  = &hotdesk.Device{ID: "P1", Mode: hotdesk.ModePersonal, Owner: "301"}
)

// has reports which of HD1's caller, P1's caller and callee 202 are cached.
func has(p *partyCache, now time.Time) [3]bool {
	_, a, _, c, _ := p.get(hd1, "202", now)
	_, b, _, _, _ := p.get(p1, "", now)
	return [3]bool{a, b, c}
}

func TestPartyCacheEvents(t *testing.T) {
	all, none := [3]bool{true, true, true}, [3]bool{}
	for _, tc := range []struct {
		name string
		e    events.Event
		want [3]bool
	}{
		{"call progress", events.Event{Kind: events.KindCallConfirmed, Extension: "202", Device: "HD1"}, all},
		{"registration", events.Event{Kind: hotdesk.KindRegistered, Device: "HD1"}, all},
		{"login elsewhere", events.Event{Kind: hotdesk.KindLogin, Extension: "203", Device: "HD3"}, all},
		{"login on the caller's phone", events.Event{Kind: hotdesk.KindLogin, Extension: "203", Device: "HD1"}, [3]bool{false, true, true}},
		{"the callee's logout", events.Event{Kind: hotdesk.KindLogout, Extension: "202", Device: "HD2"}, [3]bool{true, true, false}},
		{"another node's logout", events.Event{Kind: hotdesk.KindLogout, Extension: "202", Device: "HD9", Node: "n2"}, [3]bool{true, true, false}},
		{"user change (PIN, name, delete)", events.Event{Kind: hotdesk.KindUserChanged, Extension: "999"}, none},
		{"device change", events.Event{Kind: hotdesk.KindDeviceChanged, Device: "P9"}, none},
		{"lock", events.Event{Kind: hotdesk.KindLocked, Extension: "202"}, none},
		{"resync", events.Event{Kind: events.KindResync}, none},
		{"a kind not known", events.Event{Kind: "something_new"}, none},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, feed, now := fedCache(t)
			if got := has(p, now); got != all {
				t.Fatalf("before the event: %v", got)
			}
			tc.e.Seq = 1
			feed(tc.e)
			if got := has(p, now); got != tc.want {
				t.Errorf("after %s: cached %v, want %v", tc.e.Kind, got, tc.want)
			}
		})
	}
}

// The bus applies its events to the cache in Publish (issue 18, eighth
// pass): a login is applied when Publish returns, with no lookup and no
// goroutine draining a queue, and a call's events change nothing. Before,
// a subscription queued the login until the next lookup or 20 ms tick.
func TestPartyCacheAppliedInPublish(t *testing.T) {
	bus := events.New()
	p := newPartyCache()
	stop := p.follow(bus)
	now := time.Unix(1_000_000, 0)
	_, _, _, _, gen := p.get(hd1, "202", now)
	p.put(gen, hd1, true, &hotdesk.User{Extension: "201"}, "202", &called{User: &hotdesk.User{Extension: "202"}, known: true}, now)
	for _, kind := range []string{events.KindCallTrying, events.KindCallConfirmed, events.KindCallTerminated, hotdesk.KindRegistered} {
		bus.Publish(events.Event{Kind: kind, Extension: "202", Device: "HD1"})
	}
	p.mu.Lock()
	cached := len(p.atDevice) == 1 && len(p.callees) == 1
	p.mu.Unlock()
	if !cached {
		t.Fatal("entries dropped by events that change nothing")
	}
	bus.Publish(events.Event{Kind: hotdesk.KindLogin, Extension: "203", Device: "HD1"})
	p.mu.Lock() // no get: what Publish left
	_, caller := p.atDevice["HD1"]
	_, callee := p.callees["202"]
	p.mu.Unlock()
	if caller || !callee {
		t.Errorf("after a login on HD1, returned from Publish: caller cached %v (want false), callee %v (want true)", caller, callee)
	}
	stop()
	bus.Publish(events.Event{Kind: hotdesk.KindUserChanged}) // no handler left to call
	if got := has(p, now); got != [3]bool{} {
		t.Errorf("after stop: cached %v, want nothing", got)
	}
}

func TestPartyCacheReadDuringChangeNotKept(t *testing.T) {
	p, feed, now := fedCache(t)
	feed(events.Event{Seq: 1, Kind: hotdesk.KindLogout, Extension: "202", Device: "HD2"})
	_, _, _, _, gen := p.get(hd1, "202", now) // the read starts…
	feed(events.Event{Seq: 2, Kind: hotdesk.KindLogin, Extension: "202", Device: "HD3"})
	// …and sees 202 still logged out, committed before the login.
	p.put(gen, hd1, false, nil, "202", &called{User: &hotdesk.User{Extension: "202"}, known: true}, now)
	if _, _, _, ok, _ := p.get(hd1, "202", now); ok {
		t.Error("what was read across the login was kept")
	}
}

func TestPartyCacheExpires(t *testing.T) {
	p, _, now := fedCache(t)
	if got := has(p, now.Add(partiesTTL)); got != [3]bool{} {
		t.Errorf("after the TTL: cached %v, want nothing", got)
	}
}

func TestPartyCacheNotWatching(t *testing.T) {
	p := newPartyCache()
	now := time.Unix(1_000_000, 0)
	_, _, _, _, gen := p.get(hd1, "202", now)
	p.put(gen, hd1, true, &hotdesk.User{Extension: "201"}, "202", &called{User: &hotdesk.User{Extension: "202"}}, now)
	if _, a, _, c, _ := p.get(hd1, "202", now); a || c {
		t.Error("cached while nobody follows the bus")
	}
}

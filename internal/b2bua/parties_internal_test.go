package b2bua

import (
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// fedCache is a party cache following ch (instead of a bus subscription),
// holding HD1's caller 201, the owner 301 of personal phone P1, and the
// callee 202.
func fedCache(t *testing.T) (*partyCache, chan events.Event, time.Time) {
	t.Helper()
	p := newPartyCache()
	ch := make(chan events.Event, 16)
	p.ch = ch
	now := time.Unix(1_000_000, 0)
	for _, d := range []*hotdesk.Device{hd1, p1} {
		_, _, _, _, gen := p.get(d, "202", now)
		p.put(gen, d, true, &hotdesk.User{Extension: "20x"}, "202", &called{User: &hotdesk.User{Extension: "202"}, known: true, at: "HD2"}, now)
	}
	return p, ch, now
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
			p, ch, now := fedCache(t)
			if got := has(p, now); got != all {
				t.Fatalf("before the event: %v", got)
			}
			tc.e.Seq = 1
			ch <- tc.e
			if got := has(p, now); got != tc.want {
				t.Errorf("after %s: cached %v, want %v", tc.e.Kind, got, tc.want)
			}
		})
	}
}

// The cache's subscription takes only the kinds that change it: a call's
// events do not go into its queue (issue 18), a login does, and a loss
// (told by the bus's resync) empties it.
func TestPartyCacheFollowsChangesOnly(t *testing.T) {
	bus := events.New()
	p := newPartyCache()
	defer p.follow(bus)()
	now := time.Unix(1_000_000, 0)
	_, _, _, _, gen := p.get(hd1, "202", now)
	p.put(gen, hd1, true, &hotdesk.User{Extension: "201"}, "202", &called{User: &hotdesk.User{Extension: "202"}, known: true}, now)
	for _, kind := range []string{events.KindCallTrying, events.KindCallConfirmed, events.KindCallTerminated, hotdesk.KindRegistered} {
		bus.Publish(events.Event{Kind: kind, Extension: "202", Device: "HD1"})
	}
	if n := len(p.ch); n != 0 {
		t.Fatalf("%d events queued for the cache after calls and a registration, want 0", n)
	}
	if _, a, _, c, _ := p.get(hd1, "202", now); !a || !c {
		t.Fatal("entries dropped by events that change nothing")
	}
	for range partiesBuffer + 1 { // the last one is lost
		bus.Publish(events.Event{Kind: hotdesk.KindLogin, Extension: "203", Device: "HD3"})
	}
	p.mu.Lock()
	p.drainLocked()
	p.mu.Unlock()
	_, _, _, _, gen = p.get(hd1, "202", now)
	p.put(gen, hd1, true, &hotdesk.User{Extension: "201"}, "202", &called{User: &hotdesk.User{Extension: "202"}, known: true}, now)
	bus.Publish(events.Event{Kind: events.KindCallTrying}) // brings the resync
	if got := has(p, now); got != [3]bool{} {
		t.Errorf("after a lost event: cached %v, want nothing", got)
	}
}

func TestPartyCacheReadDuringChangeNotKept(t *testing.T) {
	p, ch, now := fedCache(t)
	ch <- events.Event{Seq: 1, Kind: hotdesk.KindLogout, Extension: "202", Device: "HD2"}
	_, _, _, _, gen := p.get(hd1, "202", now) // the read starts…
	ch <- events.Event{Seq: 2, Kind: hotdesk.KindLogin, Extension: "202", Device: "HD3"}
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

package registrar

import (
	"context"
	"testing"
)

// Issue 18, memory per binding: a REGISTER caches only what its digest
// check needs (the device id and the HA1 of the offered algorithms, MD5
// here), not the whole device; a request that needs the whole device
// (Authenticate, an INVITE) fetches it once and then finds it cached.
// The table keeps each device's bindings without spare capacity.
func TestRegisterCachesOnlyWhatDigestNeeds(t *testing.T) {
	store := newFakeStore()
	store.addDevice("HD00001", "s3cret-one")
	h := mustStart(t, store, newClock(), longCache)
	until(t, "the registrar to watch the bus", h.reg.secrets.isWatching)
	p := h.mustPhone(t, "udp", "HD00001", "s3cret-one")
	mustStatus(t, p.register(p.contact(), "MD5"), 200)

	h.reg.secrets.mu.Lock()
	s := h.reg.secrets.m["HD00001"]
	h.reg.secrets.mu.Unlock()
	if s == nil || s.dev != nil || s.id != "HD00001" || s.ha1.MD5 == "" || s.ha1.SHA256 != "" || !s.ha1.Known {
		t.Fatalf("cached after REGISTER: %+v, want the id and the MD5 HA1 only", s)
	}
	h.reg.mu.Lock()
	bs := h.reg.devices["HD00001"]
	h.reg.mu.Unlock()
	if len(bs) != 1 || cap(bs) != 1 {
		t.Fatalf("table holds %d bindings in room for %d, want 1 in 1", len(bs), cap(bs))
	}

	store.mu.Lock()
	finds := store.finds
	store.mu.Unlock()
	for range 2 {
		w, err := h.reg.secrets.get(context.Background(), "HD00001", h.clock.Now(), true)
		if err != nil {
			t.Fatal(err)
		}
		if w.dev == nil || w.dev.ID != "HD00001" || w.dev.Mode == "" || w.id != "HD00001" {
			t.Fatalf("whole device asked for, got %+v", w)
		}
	}
	store.mu.Lock()
	finds = store.finds - finds
	store.mu.Unlock()
	if finds != 1 {
		t.Fatalf("%d store lookups for the whole device twice, want 1", finds)
	}
	mustStatus(t, p.register(p.contact(), "MD5"), 200) // the whole entry serves REGISTER too
}

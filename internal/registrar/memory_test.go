package registrar

import (
	"context"
	"strings"
	"testing"
	"unsafe"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/digest"
)

// Issue 18, memory per binding: a REGISTER caches only what its digest
// check needs (the device id and the HA1 of the offered algorithms, MD5
// here), not the whole device; a request that needs the whole device
// (Authenticate, an INVITE) fetches it once and then finds it cached.
// The table keeps each device's bindings without spare capacity.
func TestRegisterCachesOnlyWhatDigestNeeds(t *testing.T) {
	h := mustStartCaching(t, "s3cret-one")
	store := h.store
	p := h.mustPhone(t, "udp", "HD00001", "s3cret-one")
	mustStatus(t, p.register(p.contact(), "MD5"), 200)

	h.reg.secrets.mu.Lock()
	s, ok := h.reg.secrets.m["HD00001"]
	h.reg.secrets.mu.Unlock()
	if !ok || s.dev != nil || s.id != "HD00001" || s.ha1.MD5 == "" || s.ha1.SHA256 != "" || !s.ha1.Known {
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

// A new binding's strings share one allocation; a refresh keeps the
// binding's strings where they did not change.
func TestBindingStringsPackedAndKept(t *testing.T) {
	b := packStrings(hotdesk.Binding{Device: "HD00001", Contact: "sip:a@10.0.0.1", CallID: "c1", UserAgent: "ua/1", Source: "10.0.0.1:5060", Instance: "<urn:x>"})
	if b.Device != "HD00001" || b.Contact != "sip:a@10.0.0.1" || b.CallID != "c1" || b.UserAgent != "ua/1" || b.Source != "10.0.0.1:5060" || b.Instance != "<urn:x>" {
		t.Fatalf("packed %+v", b)
	}
	base := unsafe.StringData(b.Device)
	for _, s := range []string{b.Contact, b.CallID, b.UserAgent, b.Source, b.Instance} {
		if d := uintptr(unsafe.Pointer(unsafe.StringData(s))) - uintptr(unsafe.Pointer(base)); d > 64 {
			t.Fatalf("%q not in the device id's allocation", s)
		}
	}
	fresh := hotdesk.Binding{Device: strings.Clone(b.Device), Contact: strings.Clone(b.Contact), CallID: "c2", UserAgent: strings.Clone(b.UserAgent), Source: strings.Clone(b.Source)}
	k := keepStrings(fresh, b)
	if unsafe.StringData(k.Device) != unsafe.StringData(b.Device) || unsafe.StringData(k.Contact) != unsafe.StringData(b.Contact) || unsafe.StringData(k.UserAgent) != unsafe.StringData(b.UserAgent) ||
		unsafe.StringData(k.Source) != unsafe.StringData(b.Source) || k.CallID != "c2" {
		t.Fatalf("refresh kept %+v", k)
	}
}

// A device's one binding lives in a slot that refreshes write over; a
// second contact moves the device to a slice of its own and back; the
// slot of an unregistered device is handed to the next new one.
func TestBindingSlotWrittenOverAndReused(t *testing.T) {
	h := mustStartOne(t, "s3cret", newClock(), nil)
	h.store.addDevice("HD00002", "s3cret")
	// slot returns where the device's first binding lies, a copy of it
	// (read under the lock: the table may change it) and its room.
	slot := func(device string) (*hotdesk.Binding, hotdesk.Binding, int) {
		h.reg.mu.Lock()
		defer h.reg.mu.Unlock()
		bs := h.reg.devices[device]
		if len(bs) == 0 {
			return nil, hotdesk.Binding{}, 0
		}
		return &bs[0], bs[0], cap(bs)
	}
	p := h.mustPhone(t, "udp", "HD00001", "s3cret")
	mustStatus(t, p.register(p.contact(), "MD5"), 200)
	first, _, n := slot("HD00001")
	if first == nil || n != 1 {
		t.Fatalf("first binding in room for %d, want a slot", n)
	}
	mustStatus(t, p.register(p.contact(), "MD5"), 200)
	if s, b, _ := slot("HD00001"); s != first || b.CSeq != uint32(p.cseq) {
		t.Fatalf("refresh moved the binding or left it old: %p %+v, slot %p", s, b, first)
	}
	other := "Contact: <sip:HD00001@192.0.2.10:5060>\r\n"
	mustStatus(t, p.register(other, "MD5"), 200)
	if s, _, n := slot("HD00001"); s == first || n != 2 {
		t.Fatalf("two contacts in %p (room for %d), want a slice of their own", s, n)
	}
	mustStatus(t, p.register("Contact: <sip:HD00001@192.0.2.10:5060>;expires=0\r\n", "MD5"), 200)
	again, b, n := slot("HD00001")
	if n != 1 || b.Contact != strings.TrimSuffix(strings.TrimPrefix(p.contact(), "Contact: <"), ">\r\n") {
		t.Fatalf("one contact left in room for %d: %+v", n, b)
	}
	// first was given back when the device moved to two; again is a
	// slot of its own: unregistering gives it back for HD00002.
	mustStatus(t, p.register("Contact: *\r\nExpires: 0\r\n", "MD5"), 200)
	if s, b, _ := slot("HD00001"); s != nil {
		t.Fatalf("unregistered device still holds %+v", b)
	}
	q := h.mustPhone(t, "udp", "HD00002", "s3cret")
	mustStatus(t, q.register(q.contact(), "MD5"), 200)
	if s, b, n := slot("HD00002"); s != again || n != 1 || b.Device != "HD00002" {
		t.Fatalf("new device's binding at %p (room %d), want the freed slot %p", s, n, again)
	}
}

// A cached credential's key, id and HA1 share one allocation.
func TestSecretStringsPacked(t *testing.T) {
	_, s := secret{id: "HD00001", ha1: digest.HA1{MD5: strings.Repeat("a", 32), SHA256: strings.Repeat("b", 64)}}.pack(strings.Clone("HD00001"))
	key, s2 := secret{id: "hd00001", ha1: digest.HA1{MD5: strings.Repeat("a", 32)}}.pack("HD00001")
	if s.id != "HD00001" || s.ha1.MD5 != strings.Repeat("a", 32) || s.ha1.SHA256 != strings.Repeat("b", 64) {
		t.Fatalf("packed %+v", s)
	}
	if key != "HD00001" || s2.id != "hd00001" || s2.ha1.MD5 != strings.Repeat("a", 32) {
		t.Fatalf("packed %q %+v", key, s2)
	}
	for _, c := range []struct{ base, s string }{{s.id, s.ha1.MD5}, {s.id, s.ha1.SHA256}, {key, s2.id}, {key, s2.ha1.MD5}} {
		if d := uintptr(unsafe.Pointer(unsafe.StringData(c.s))) - uintptr(unsafe.Pointer(unsafe.StringData(c.base))); d > 128 {
			t.Fatalf("%q not in %q's allocation", c.s, c.base)
		}
	}
}

package registrar

import (
	"context"
	"strings"
	"testing"
	"unsafe"

	"github.com/hotdesk-pbx/hotdesk"
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

package registrar

import (
	"testing"
	"time"
)

// Issue 18: a refresh that changes only the expiry of a row stored far
// beyond the phone's next refresh is not written at the next group commit
// but within RefreshWriteDelay (here never before the stop, which writes
// it); a refresh that changes more (another source) is written at the next
// group commit. A new device's first REGISTER waits for a group commit,
// which shows one happened after the refreshes.
func TestExpiryOnlyRefreshWrittenLater(t *testing.T) {
	store := newFakeStore()
	for _, id := range []string{"HD00001", "HD00002", "HD00003"} {
		store.addDevice(id, "s3cret-"+id)
	}
	clock := newClock()
	h := mustStart(t, store, clock, func(o *Options) { o.RefreshWriteDelay = 10 * time.Minute })
	p := h.mustPhone(t, "udp", "HD00001", "s3cret-HD00001")
	mustStatus(t, p.register(p.contact(), "MD5"), 200)
	first := store.storedBindings("HD00001")
	if len(first) != 1 {
		t.Fatalf("stored %+v", first)
	}
	clock.Advance(time.Minute)
	mustStatus(t, p.register(p.contact(), "MD5"), 200)
	q := h.mustPhone(t, "udp", "HD00002", "s3cret-HD00002")
	mustStatus(t, q.register(q.contact(), "MD5"), 200) // waits for a group commit
	if got := store.storedBindings("HD00001"); len(got) != 1 || !got[0].Expires.Equal(first[0].Expires) {
		t.Fatalf("expiry-only refresh written at the next group commit: %+v", got)
	}

	// The same contact from another source port: written at once.
	p2 := h.mustPhone(t, "udp", "HD00001", "s3cret-HD00001")
	p2.callID = p.callID
	p2.cseq = p.cseq + 10
	mustStatus(t, p2.register(p.contact(), "MD5"), 200)
	r := h.mustPhone(t, "udp", "HD00003", "s3cret-HD00003")
	mustStatus(t, r.register(r.contact(), "MD5"), 200)
	if got := store.storedBindings("HD00001"); len(got) != 1 || got[0].Source != p2.conn.LocalAddr().String() {
		t.Fatalf("refresh from another source not written at the next group commit: %+v", got)
	}

	clock.Advance(time.Minute)
	mustStatus(t, p2.register(p.contact(), "MD5"), 200)
	live := h.reg.Contacts("HD00001")
	h.stop() // the final flush writes what was deferred
	if got := store.storedBindings("HD00001"); len(got) != 1 || !got[0].Expires.Equal(live[0].Expires) {
		t.Fatalf("deferred refresh not written at stop: stored %+v, live %+v", got, live)
	}
}

package registrar

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// gatedStore holds FindDevice of every device but one until released.
type gatedStore struct {
	*fakeStore
	free    string
	gate    chan struct{}
	mu      sync.Mutex
	waiting int
}

func (s *gatedStore) FindDevice(ctx context.Context, id string) (*hotdesk.Device, error) {
	if id != s.free {
		s.mu.Lock()
		s.waiting++
		s.mu.Unlock()
		<-s.gate
	}
	return s.fakeStore.FindDevice(ctx, id)
}

// Issue 18: REGISTERs are handled in signaling's read loops, but one that
// waits on the store (credentials not cached) goes to a goroutine: with
// more such REGISTERs held than there are read loops, a registered
// phone's refresh is still answered.
func TestStoreWaitDoesNotHoldReadLoops(t *testing.T) {
	fs := newFakeStore()
	fs.addDevice("HD00001", "s3cret-one")
	const held = 8 // above signaling.UDPReaders
	for i := range held {
		fs.addDevice(fmt.Sprintf("HD1%04d", i), "s3cret-held")
	}
	gs := &gatedStore{fakeStore: fs, free: "HD00001", gate: make(chan struct{})}
	released := false
	release := func() {
		if !released {
			released = true
			close(gs.gate)
		}
	}
	defer release()
	clock := newClock()
	h := mustStart(t, fs, clock, func(o *Options) { o.Store = gs })
	p := h.mustPhone(t, "udp", "HD00001", "s3cret-one")
	mustStatus(t, p.register(p.contact(), "MD5"), 200)

	for i := range held {
		q := h.mustPhone(t, "udp", fmt.Sprintf("HD1%04d", i), "s3cret-held")
		res := q.request("REGISTER", q.contact(), 5*time.Second)
		mustStatus(t, res, 401)
		auth := q.authorization(res, "WWW-Authenticate", "REGISTER", "MD5")
		if res := q.request("REGISTER", "Authorization: "+auth+"\r\n"+q.contact(), 10*time.Millisecond); res != nil {
			t.Fatalf("held REGISTER answered %d", res.StatusCode)
		}
	}
	// Each waits in the store or queued for a lookup worker (lookups).
	until(t, "the held REGISTERs to wait on the store", func() bool {
		gs.mu.Lock()
		defer gs.mu.Unlock()
		h.reg.secrets.pool.mu.RLock()
		defer h.reg.secrets.pool.mu.RUnlock()
		return gs.waiting+len(h.reg.secrets.pool.q) == held
	})
	mustStatus(t, p.register(p.contact(), "MD5"), 200)
	release()
}

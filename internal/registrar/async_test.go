package registrar

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// commitGate is a fakeStore whose transactions (the group commits) wait
// until the gate is closed.
type commitGate struct {
	*fakeStore
	gate chan struct{}
}

func (s *commitGate) InTx(ctx context.Context, fn func(tx hotdesk.Tx) error) error {
	<-s.gate
	return s.fakeStore.InTx(ctx, fn)
}

// Issue 18: a device's first REGISTER (credentials not cached, binding
// stored before its 200) runs on the lookup workers and waits for its
// group commit on no goroutine: 40 first registrations held by a
// commit that does not end add no goroutine each (a goroutine per
// first REGISTER before, each waiting for the commit), and all are
// answered 200 once it ends.
func TestFirstRegistersWaitOnNoGoroutine(t *testing.T) {
	fs := newFakeStore()
	const held = 40
	for i := range held {
		fs.addDevice(fmt.Sprintf("HD2%04d", i), "s3cret-first")
	}
	cg := &commitGate{fakeStore: fs, gate: make(chan struct{})}
	opened := false
	open := func() {
		if !opened {
			opened = true
			close(cg.gate)
		}
	}
	defer open()
	h := mustStart(t, fs, newClock(), func(o *Options) { o.Store = cg; o.SyncTimeout = time.Minute })
	phones := make([]*phone, held)
	auths := make([]string, held)
	for i := range held {
		p := h.mustPhone(t, "udp", fmt.Sprintf("HD2%04d", i), "s3cret-first")
		res := p.request("REGISTER", p.contact(), 5*time.Second)
		mustStatus(t, res, 401)
		phones[i], auths[i] = p, p.authorization(res, "WWW-Authenticate", "REGISTER", "MD5")
	}
	base := runtime.NumGoroutine()
	for i, p := range phones {
		if res := p.request("REGISTER", "Authorization: "+auths[i]+"\r\n"+p.contact(), time.Millisecond); res != nil {
			t.Fatalf("first REGISTER answered %d before its commit", res.StatusCode)
		}
	}
	until(t, "every first binding applied, waiting for the commit", func() bool {
		h.reg.mu.Lock()
		defer h.reg.mu.Unlock()
		return len(h.reg.devices) == held
	})
	if n := runtime.NumGoroutine() - base; n >= held/2 {
		t.Errorf("%d more goroutines with %d first registrations waiting for their commit, want fewer than %d", n, held, held/2)
	}
	if n := h.reg.spawned.Load(); n != 0 {
		t.Errorf("%d REGISTERs handled in goroutines of their own, want 0", n)
	}
	open()
	for i, p := range phones {
		res := p.read(10 * time.Second)
		mustStatus(t, res, 200)
		if got := fs.storedBindings(fmt.Sprintf("HD2%04d", i)); len(got) != 1 {
			t.Errorf("device %d: %d bindings stored before its 200, want 1", i, len(got))
		}
	}
}

// secretStore is a fakeStore with the narrow read (SecretStore); it
// counts its calls.
type secretStore struct {
	*fakeStore
	secrets atomic.Int64
}

func (s *secretStore) DeviceSecret(ctx context.Context, id string) (*hotdesk.Device, error) {
	s.secrets.Add(1)
	d, err := s.fakeStore.FindDevice(ctx, id)
	if err != nil {
		return nil, err
	}
	s.fakeStore.mu.Lock()
	s.fakeStore.finds-- // counted as DeviceSecret's
	s.fakeStore.mu.Unlock()
	return &hotdesk.Device{ID: d.ID, SIPPassword: d.SIPPassword}, nil
}

// Issue 18: with a SecretStore, a REGISTER whose credentials are not
// cached reads the device's id and password alone (DeviceSecret), not
// the whole row; Authenticate, whose callers use the whole device,
// still reads it with FindDevice.
func TestRegisterReadsOnlyTheDeviceSecret(t *testing.T) {
	fs := newFakeStore()
	fs.addDevice("HD00001", "s3cret-one")
	ss := &secretStore{fakeStore: fs}
	h := mustStart(t, fs, newClock(), func(o *Options) { o.Store = ss })
	p := h.mustPhone(t, "udp", "HD00001", "s3cret-one")
	mustStatus(t, p.register(p.contact(), "MD5"), 200)
	fs.mu.Lock()
	finds := fs.finds
	fs.mu.Unlock()
	if n := ss.secrets.Load(); n != 1 || finds != 0 {
		t.Errorf("first REGISTER: %d DeviceSecret, %d FindDevice; want 1, 0", n, finds)
	}
	if s, err := h.reg.secrets.get(context.Background(), "HD00001", h.clock.Now(), true); err != nil || s.dev == nil || s.dev.Mode != hotdesk.ModeHotdesk {
		t.Fatalf("whole device: %+v, %v", s, err)
	}
	fs.mu.Lock()
	finds = fs.finds
	fs.mu.Unlock()
	if finds != 1 {
		t.Errorf("the whole device read with %d FindDevice, want 1", finds)
	}
}

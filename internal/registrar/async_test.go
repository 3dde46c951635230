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

// batchSecretStore is a secretStore that reads many devices at once
// (SecretsStore); it counts those calls.
type batchSecretStore struct {
	*secretStore
	batches atomic.Int64
	during  func() // called while reading, if set
}

func (s *batchSecretStore) DeviceSecrets(ctx context.Context, ids []string) ([]*hotdesk.Device, error) {
	s.batches.Add(1)
	if s.during != nil {
		s.during()
	}
	var out []*hotdesk.Device
	for _, id := range ids {
		if d, err := s.secretStore.fakeStore.FindDevice(ctx, id); err == nil {
			out = append(out, &hotdesk.Device{ID: d.ID, SIPPassword: d.SIPPassword})
		}
	}
	s.fakeStore.mu.Lock()
	s.fakeStore.finds = 0 // counted as DeviceSecrets'
	s.fakeStore.mu.Unlock()
	return out, nil
}

// Issue 18: prefetch caches the credentials of several devices read in
// one DeviceSecrets call, an unknown one's as get does (a dummy HA1, no
// id); a REGISTER then finds them cached. What was read while a device
// changed is not kept.
func TestPrefetchCachesFromOneRead(t *testing.T) {
	fs := newFakeStore()
	fs.addDevice("HD00001", "s3cret-one")
	fs.addDevice("HD00002", "s3cret-two")
	bs := &batchSecretStore{secretStore: &secretStore{fakeStore: fs}}
	clock := newClock()
	r, err := New(Options{Store: bs, Realm: testRealm, Logger: quietLogger(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r.secrets.prefetch(ctx, []string{"HD00001", "HD00002", "HD09999"})
	if n := bs.batches.Load(); n != 1 {
		t.Fatalf("%d DeviceSecrets calls, want 1", n)
	}
	for _, u := range []string{"HD00001", "HD00002", "HD09999"} {
		if !r.secrets.fresh(u, clock.Now()) {
			t.Errorf("%s not cached after the prefetch", u)
		}
	}
	s1, err := r.secrets.get(ctx, "HD00001", clock.Now(), false)
	if err != nil || s1.id != "HD00001" || s1.ha1 != r.digest.Secret("HD00001", "s3cret-one", true) {
		t.Errorf("HD00001 cached as %+v, %v", s1, err)
	}
	if s, _ := r.secrets.get(ctx, "HD09999", clock.Now(), false); s.id != "" {
		t.Errorf("unknown device cached with id %q", s.id)
	}
	if n := bs.secrets.Load(); n != 0 {
		t.Errorf("%d single lookups after the prefetch, want 0", n)
	}
	// A change announced during the read: nothing of it kept.
	r.secrets.forgetAll(false)
	bs.during = func() { r.secrets.forget("HD00002") }
	r.secrets.prefetch(ctx, []string{"HD00001", "HD00002"})
	if r.secrets.cached() != 0 {
		t.Errorf("%d entries kept from a read during a change, want 0", r.secrets.cached())
	}
}

// Issue 18: a group commit asked for by a first binding waits
// CommitGather for more first bindings before it starts, so first
// registrations that trickle in share its transaction: five first
// REGISTERs, the four later ones arriving while the first one's commit
// gathers, are stored in one transaction (two or more before: the
// first one's commit started at once) and all answered 200.
func TestGroupCommitGathersFirstBindings(t *testing.T) {
	fs := newFakeStore()
	const n = 5
	for i := range n {
		fs.addDevice(fmt.Sprintf("HD3%04d", i), "s3cret-gather")
	}
	var started atomic.Int32
	fire := make(chan time.Time)
	h := mustStart(t, fs, newClock(), func(o *Options) {
		o.SyncTimeout, o.FlushInterval = time.Minute, time.Hour
		o.after = func(time.Duration) <-chan time.Time { started.Add(1); return fire }
	})
	phones := make([]*phone, n)
	auths := make([]string, n)
	for i := range n {
		p := h.mustPhone(t, "udp", fmt.Sprintf("HD3%04d", i), "s3cret-gather")
		res := p.request("REGISTER", p.contact(), 5*time.Second)
		mustStatus(t, res, 401)
		phones[i], auths[i] = p, p.authorization(res, "WWW-Authenticate", "REGISTER", "MD5")
	}
	_, txs0 := fs.calls()
	send := func(i int) {
		if res := phones[i].request("REGISTER", "Authorization: "+auths[i]+"\r\n"+phones[i].contact(), time.Millisecond); res != nil {
			t.Fatalf("first REGISTER %d answered %d before its commit", i, res.StatusCode)
		}
	}
	send(0)
	until(t, "the first binding's group commit gathering", func() bool { return started.Load() == 1 })
	for i := 1; i < n; i++ {
		send(i)
	}
	until(t, "every first binding applied, waiting for the commit", func() bool {
		h.reg.mu.Lock()
		defer h.reg.mu.Unlock()
		return len(h.reg.devices) == n
	})
	fire <- time.Now()
	for i, p := range phones {
		mustStatus(t, p.read(10*time.Second), 200)
		if got := fs.storedBindings(fmt.Sprintf("HD3%04d", i)); len(got) != 1 {
			t.Errorf("device %d: %d bindings stored before its 200, want 1", i, len(got))
		}
	}
	if _, txs := fs.calls(); txs-txs0 != 1 {
		t.Errorf("%d transactions for %d first bindings, want 1", txs-txs0, n)
	}
}

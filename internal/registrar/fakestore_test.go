package registrar

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// fakeStore is the registrar's Store in memory. Its bindings outlive
// registrar instances, like a database file.
type fakeStore struct {
	mu       sync.Mutex
	devices  map[string]*hotdesk.Device
	bindings map[storeKey]hotdesk.Binding
	audits   *siptest.MemStore // the audit trail, with real transactions
	fail     error             // returned by writes when set
	findFail error             // returned by FindDevice when set
	finds    int
	puts     int // PutBindings calls
	txs      int // InTx calls
}

// storeKey is a binding row's key, as in the stores: each node owns its own.
type storeKey struct{ device, contact, node string }

func newFakeStore() *fakeStore {
	return &fakeStore{devices: map[string]*hotdesk.Device{}, bindings: map[storeKey]hotdesk.Binding{}, audits: siptest.NewMemStore()}
}

// mustStartOne starts a registrar (see mustStart) on a new fakeStore
// holding hot desk phone HD00001 with SIP password pass.
func mustStartOne(tb testing.TB, pass string, clock *fakeClock, tweak func(*Options)) *harness {
	tb.Helper()
	store := newFakeStore()
	store.addDevice("HD00001", pass)
	return mustStart(tb, store, clock, tweak)
}

func (s *fakeStore) addDevice(id, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.devices[id] = &hotdesk.Device{ID: id, SIPPassword: password, Mode: hotdesk.ModeHotdesk}
}

func (s *fakeStore) FindDevice(ctx context.Context, id string) (*hotdesk.Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finds++
	if s.findFail != nil {
		return nil, s.findFail
	}
	d, ok := s.devices[id]
	if !ok {
		return nil, hotdesk.Errorf(hotdesk.ENOTFOUND, "device %q not found", id)
	}
	c := *d
	return &c, nil
}

func (s *fakeStore) PutBindings(ctx context.Context, bs []hotdesk.Binding) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.puts++
	for _, b := range bs {
		s.bindings[storeKey{b.Device, b.Contact, b.Node}] = b
	}
	return nil
}

func (s *fakeStore) DeleteBindings(ctx context.Context, bs []hotdesk.Binding) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	for _, b := range bs {
		delete(s.bindings, storeKey{b.Device, b.Contact, b.Node})
	}
	return nil
}

func (s *fakeStore) ListBindings(ctx context.Context, now time.Time) ([]hotdesk.Binding, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return siptest.LiveBindings(s.bindings, "", now), nil
}

func (s *fakeStore) DeleteExpiredBindings(ctx context.Context, node string, now time.Time) ([]hotdesk.Binding, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return siptest.TakeExpired(s.bindings, node, now), nil
}

// InTx runs fn in the audit store's transaction (AppendAudit is all the
// registrar uses), or fails with fail.
func (s *fakeStore) InTx(ctx context.Context, fn func(tx hotdesk.Tx) error) error {
	s.mu.Lock()
	err := s.fail
	s.txs++
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.audits.InTx(ctx, fn)
}

func (s *fakeStore) storedBindings(device string) []hotdesk.Binding {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []hotdesk.Binding
	for _, b := range s.bindings {
		if b.Device == device {
			out = append(out, b)
		}
	}
	return out
}

// calls are the PutBindings and InTx calls so far.
func (s *fakeStore) calls() (puts, txs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.puts, s.txs
}

// auditKinds lists the kinds of the audited events, oldest first.
func (s *fakeStore) auditKinds() []string {
	es, _ := s.audits.FindAudit(context.Background(), hotdesk.AuditFilter{Limit: 1000})
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, es[i].Kind)
	}
	return out
}

var _ Store = (*fakeStore)(nil)

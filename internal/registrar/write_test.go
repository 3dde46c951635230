package registrar

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// txStore is a fakeStore whose transactions write bindings too
// (hotdesk.BindingTx, as the SQL stores' do); it counts them.
type txStore struct {
	*fakeStore
	txs atomic.Int64
}

func (s *txStore) InTx(ctx context.Context, fn func(tx hotdesk.Tx) error) error {
	s.txs.Add(1)
	return s.fakeStore.InTx(ctx, func(tx hotdesk.Tx) error { return fn(bindingTx{tx, s.fakeStore}) })
}

func (s *txStore) TxWritesBindings() bool { return true }

type bindingTx struct {
	hotdesk.Tx
	s *fakeStore
}

func (t bindingTx) PutBindings(ctx context.Context, bs []hotdesk.Binding) error {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	for _, b := range bs {
		t.s.bindings[storeKey{b.Device, b.Contact, b.Node}] = b
	}
	return nil
}

func (t bindingTx) DeleteBindings(ctx context.Context, bs []hotdesk.Binding) error {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	for _, b := range bs {
		delete(t.s.bindings, storeKey{b.Device, b.Contact, b.Node})
	}
	return nil
}

// With a store whose Tx writes bindings, a group commit is one
// transaction: a first registration's binding and its audit event, an
// unregistration's deletion and its event.
func TestGroupCommitInOneTransaction(t *testing.T) {
	store := newFakeStore()
	store.addDevice("HD00001", "s3cret")
	ts := &txStore{fakeStore: store}
	h := mustStart(t, store, newClock(), func(o *Options) { o.Store = ts })
	p := h.mustPhone(t, "udp", "HD00001", "s3cret")
	before := ts.txs.Load()
	mustStatus(t, p.register(p.contact(), "MD5"), 200) // stored before its 200
	if n := ts.txs.Load() - before; n != 1 {
		t.Fatalf("%d transactions for a first registration, want 1", n)
	}
	if got := store.storedBindings("HD00001"); len(got) != 1 {
		t.Fatalf("stored %+v", got)
	}
	before = ts.txs.Load()
	mustStatus(t, p.register("Contact: *\r\nExpires: 0\r\n", "MD5"), 200)
	h.stop() // final flush
	if n := ts.txs.Load() - before; n != 1 {
		t.Fatalf("%d transactions for an unregistration, want 1", n)
	}
	if got := store.storedBindings("HD00001"); len(got) != 0 {
		t.Fatalf("store keeps %+v after unregister", got)
	}
	if k := store.auditKinds(); !slices.Equal(k, []string{hotdesk.KindRegistered, hotdesk.KindUnregistered}) {
		t.Fatalf("audit %v", k)
	}
	if puts, _ := store.calls(); puts != 0 {
		t.Fatalf("%d PutBindings outside the transaction", puts)
	}
}

// conflictStore fails its first transactions with ECONFLICT, as
// PostgreSQL does on a serialisation failure or deadlock.
type conflictStore struct {
	*txStore
	conflicts atomic.Int64 // transactions still to fail
}

func (s *conflictStore) InTx(ctx context.Context, fn func(tx hotdesk.Tx) error) error {
	if s.conflicts.Add(-1) >= 0 {
		s.txs.Add(1)
		return hotdesk.Errorf(hotdesk.ECONFLICT, "Concurrent change, try again.")
	}
	return s.txStore.InTx(ctx, fn)
}

// A group commit that meets a conflict is run again at once: the first
// registration waiting for it gets its 200, not a 503.
func TestGroupCommitRetriedAfterConflict(t *testing.T) {
	store := newFakeStore()
	store.addDevice("HD00001", "s3cret")
	cs := &conflictStore{txStore: &txStore{fakeStore: store}}
	h := mustStart(t, store, newClock(), func(o *Options) { o.Store = cs })
	p := h.mustPhone(t, "udp", "HD00001", "s3cret")
	cs.conflicts.Store(2)
	before := cs.txs.Load()
	mustStatus(t, p.register(p.contact(), "MD5"), 200)
	if n := cs.txs.Load() - before; n != 3 {
		t.Fatalf("%d transactions, want 3 (two conflicts, then the commit)", n)
	}
	if got := store.storedBindings("HD00001"); len(got) != 1 {
		t.Fatalf("stored %+v", got)
	}
}

// A store whose Tx writes no bindings (no hotdesk.BindingTxStore; test
// fakes, siptest.MemStore) is asked once, by New: a group commit pays no
// transaction to find out, only the one for its audit events, and a
// flush of refreshes alone none.
func TestGroupCommitWithoutBindingTxProbesNoTransaction(t *testing.T) {
	store := newFakeStore()
	store.addDevice("HD00001", "s3cret")
	h := mustStart(t, store, newClock(), nil)
	p := h.mustPhone(t, "udp", "HD00001", "s3cret")
	_, before := store.calls()
	mustStatus(t, p.register(p.contact(), "MD5"), 200) // stored before its 200
	puts, txs := store.calls()
	if txs-before != 1 || puts != 1 {
		t.Fatalf("%d transactions and %d PutBindings for a first registration, want 1 (its audit event) and 1", txs-before, puts)
	}
	mustStatus(t, p.register(p.contact(), "MD5"), 200)
	if err := h.reg.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, after := store.calls(); after-txs != 0 {
		t.Fatalf("%d transactions for a flush of a refresh, want 0", after-txs)
	}
}

// TestGroupCommitRowsSorted: a group commit's bindings go to the store in
// one order (device, contact, node), whatever the map's, so two nodes
// writing overlapping rows lock them in the same order.
func TestGroupCommitRowsSorted(t *testing.T) {
	m := map[bindingKey]hotdesk.Binding{}
	for i := range 64 {
		b := hotdesk.Binding{Device: fmt.Sprintf("HD%05d", (i*37)%16), Contact: fmt.Sprintf("sip:p@127.0.0.1:%d", 5060+(i*11)%64), Node: "a"}
		m[bindingKey{b.Device, b.Contact}] = b
	}
	bs := mapValues(m)
	if len(bs) != len(m) {
		t.Fatalf("%d bindings, want %d", len(bs), len(m))
	}
	for i := 1; i < len(bs); i++ {
		a, b := bs[i-1], bs[i]
		if a.Device > b.Device || a.Device == b.Device && a.Contact >= b.Contact {
			t.Fatalf("binding %d (%s %s) after %d (%s %s): not in (device, contact) order", i, b.Device, b.Contact, i-1, a.Device, a.Contact)
		}
	}
}

// batchTx counts the calls of a Tx that appends audit events at once
// (AuditBatchTx).
type batchTx struct {
	hotdesk.Tx
	batches, events *atomic.Int64
}

func (t batchTx) AppendAudit(ctx context.Context, e *hotdesk.AuditEvent) error {
	t.events.Add(1)
	return t.Tx.AppendAudit(ctx, e)
}

func (t batchTx) AppendAudits(ctx context.Context, es []*hotdesk.AuditEvent) error {
	t.batches.Add(1)
	for _, e := range es {
		if err := t.Tx.AppendAudit(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// Issue 18: a group commit's audit events go to a Tx that takes them at
// once (AuditBatchTx) in one call, in order: 5 first registrations'
// events, one AppendAudits, no AppendAudit.
func TestGroupCommitAuditsInOneCall(t *testing.T) {
	store := newFakeStore()
	var batches, events atomic.Int64
	r, err := New(Options{Store: store, Realm: testRealm, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 5 {
		d := fmt.Sprintf("HD%05d", i)
		r.audit(&hotdesk.AuditEvent{Kind: hotdesk.KindRegistered, Device: d})
		want = append(want, d)
	}
	r.mu.Lock()
	audits := r.audits
	r.audits = nil
	r.mu.Unlock()
	err = store.InTx(context.Background(), func(tx hotdesk.Tx) error {
		return appendAudits(context.Background(), batchTx{tx, &batches, &events}, audits)
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, e := batches.Load(), events.Load(); b != 1 || e != 0 {
		t.Errorf("%d AppendAudits and %d AppendAudit calls for 5 events, want 1 and 0", b, e)
	}
	var got []string
	for _, e := range audits {
		got = append(got, e.Device)
	}
	if !slices.Equal(got, want) || len(store.auditKinds()) != 5 {
		t.Errorf("audited %v (%d stored), want %v", got, len(store.auditKinds()), want)
	}
}

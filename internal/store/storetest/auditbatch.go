package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// auditBatcher is a Tx that appends many audit events at once (sqlstore's
// AppendAudits; registrar.AuditBatchTx).
type auditBatcher interface {
	AppendAudits(ctx context.Context, es []*hotdesk.AuditEvent) error
}

// testAppendAudits: AppendAudits in a transaction stores every event as
// AppendAudit would, in order (ids ascending), with their times, beyond
// one batch; a transaction that fails after it stores none of them.
func testAppendAudits(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	mk := func(n int, prefix string) []*hotdesk.AuditEvent {
		es := make([]*hotdesk.AuditEvent, n)
		for i := range es {
			es[i] = &hotdesk.AuditEvent{Time: t0.Add(time.Duration(i) * time.Second), Kind: hotdesk.KindRegistered,
				Device: fmt.Sprintf("%s%05d", prefix, i), Source: "192.0.2.1:5060", Detail: "transport udp"}
		}
		return es
	}
	es := mk(75, "HD")
	err := s.InTx(ctx, func(tx hotdesk.Tx) error {
		b, ok := tx.(auditBatcher)
		if !ok {
			t.Skip("the store's Tx appends audit events one by one")
		}
		return b.AppendAudits(ctx, es)
	})
	must(t, err)
	for i, e := range es {
		if i > 0 && e.ID <= es[i-1].ID {
			t.Fatalf("event %d id %d after %d", i, e.ID, es[i-1].ID)
		}
		got, err := s.FindAuditEvent(ctx, e.ID)
		must(t, err)
		if got.Device != e.Device || got.Kind != e.Kind || got.Source != e.Source || got.Detail != e.Detail || !got.Time.Equal(e.Time) {
			t.Fatalf("event %d stored as %+v, appended %+v", i, got, e)
		}
	}
	failed := mk(40, "XX")
	err = s.InTx(ctx, func(tx hotdesk.Tx) error {
		if err := tx.(auditBatcher).AppendAudits(ctx, failed); err != nil {
			return err
		}
		return hotdesk.Errorf(hotdesk.EINVALID, "rolled back")
	})
	wantCode(t, err, hotdesk.EINVALID)
	n, err := s.CountAudit(ctx, hotdesk.AuditFilter{})
	must(t, err)
	if n != len(es) {
		t.Fatalf("%d audit events after a rolled back batch, want %d", n, len(es))
	}
}

// testPutManyBindings: PutBindings of more bindings than one batched
// statement writes (sqlstore writes 32 per statement), in and out of a
// transaction, stores every one and updates them all on the next put; a
// key given twice keeps the later row.
func testPutManyBindings(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	mk := func(n int, at time.Time) []hotdesk.Binding {
		bs := make([]hotdesk.Binding, n)
		for i := range bs {
			d := fmt.Sprintf("HD%05d", i)
			bs[i] = hotdesk.Binding{Device: d, Contact: "sip:" + d + "@192.0.2.1:5060", Expires: at.Add(time.Hour),
				CallID: "c-" + d, CSeq: uint32(i + 1), Source: "192.0.2.1:5060", Transport: "tcp", Node: "n1", Updated: at,
				UserAgent: "phone/1", NAT: i%2 == 0}
		}
		return bs
	}
	check := func(want []hotdesk.Binding) {
		t.Helper()
		got, err := s.ListBindings(ctx, t0)
		must(t, err)
		if len(got) != len(want) {
			t.Fatalf("%d bindings listed, want %d", len(got), len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.Device != w.Device || g.Contact != w.Contact || !g.Expires.Equal(w.Expires) || g.CallID != w.CallID ||
				g.CSeq != w.CSeq || g.NAT != w.NAT || g.Node != w.Node || g.UserAgent != w.UserAgent {
				t.Fatalf("binding %d: %+v, want %+v", i, g, w)
			}
		}
	}
	first := mk(75, t0)
	must(t, s.InTx(ctx, func(tx hotdesk.Tx) error {
		bt, ok := tx.(hotdesk.BindingTx)
		if !ok {
			t.Skip("the store's Tx writes no bindings")
		}
		return bt.PutBindings(ctx, first)
	}))
	check(first)
	again := mk(75, t0.Add(time.Minute))
	last := again[3]
	last.CallID = "c-later"
	again = append(again[:10:10], append([]hotdesk.Binding{last}, again[10:]...)...)
	must(t, s.PutBindings(ctx, again))
	want := mk(75, t0.Add(time.Minute))
	want[3] = last
	check(want)
}

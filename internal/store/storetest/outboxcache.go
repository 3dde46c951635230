package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// testOutboxFollowsWebhooks: an audit row gets an outbox row for exactly
// the webhooks enabled when it is written, however often audit rows were
// written before (a store may remember that no webhook is enabled).
func testOutboxFollowsWebhooks(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	audit := func() *hotdesk.AuditEvent {
		t.Helper()
		e := &hotdesk.AuditEvent{Kind: hotdesk.KindLogin, Extension: "201", Device: "HD00001"}
		must(t, s.InTx(ctx, func(tx hotdesk.Tx) error { return tx.AppendAudit(ctx, e) }))
		return e
	}
	check := func(w *hotdesk.Webhook, want ...*hotdesk.AuditEvent) {
		t.Helper()
		ds, err := s.FindDeliveries(ctx, w.ID, "", 1000)
		must(t, err)
		var got, exp []int64
		for _, d := range ds {
			got = append(got, d.AuditID)
		}
		for _, e := range want {
			exp = append(exp, e.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(exp) {
			t.Fatalf("webhook %d: deliveries of events %v, want %v", w.ID, got, exp)
		}
	}
	for range 3 {
		audit() // nothing to deliver to
		must(t, s.AppendAudit(ctx, &hotdesk.AuditEvent{Kind: hotdesk.KindLogout, Extension: "201"}))
	}
	w := &hotdesk.Webhook{URL: "https://a.example/h", Secret: "k", Enabled: true}
	must(t, s.CreateWebhook(ctx, w))
	e1 := audit()
	check(w, e1)
	w.Enabled = false
	must(t, s.UpdateWebhook(ctx, w))
	audit()
	check(w, e1)
	w.Enabled = true
	must(t, s.UpdateWebhook(ctx, w))
	e3 := audit()
	check(w, e1, e3)
	off := &hotdesk.Webhook{URL: "https://b.example/h", Secret: "k"}
	must(t, s.CreateWebhook(ctx, off))
	e4 := audit()
	check(w, e1, e3, e4)
	check(off)
	must(t, s.DeleteWebhook(ctx, w.ID))
	audit()
	check(off)
	wantCode(t, s.UpdateWebhook(ctx, &hotdesk.Webhook{ID: w.ID, URL: w.URL, Enabled: true}), hotdesk.ENOTFOUND)
	audit()
	ds, err := s.FindDeliveries(ctx, w.ID, "", 10)
	must(t, err)
	if len(ds) != 0 {
		t.Fatalf("deliveries of a deleted webhook: %+v", ds)
	}
	audit()
}

// testOutboxWebhookCreatedUnderLoad: audit rows written concurrently with
// the creation of a webhook; every one whose transaction began after
// CreateWebhook returned has its outbox row.
func testOutboxWebhookCreatedUnderLoad(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	w := &hotdesk.Webhook{URL: "https://a.example/h", Secret: "k", Enabled: true}
	var created atomic.Bool
	var mu sync.Mutex
	var after []int64 // events begun after the webhook existed
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 120 {
				was := created.Load()
				e := &hotdesk.AuditEvent{Kind: hotdesk.KindLogin, Extension: fmt.Sprint(200 + g)}
				if err := s.InTx(ctx, func(tx hotdesk.Tx) error { return tx.AppendAudit(ctx, e) }); err != nil {
					t.Error(err)
					return
				}
				if was {
					mu.Lock()
					after = append(after, e.ID)
					mu.Unlock()
				}
			}
		}()
	}
	for n := 0; ; n++ { // let some audit rows be written first
		c, err := s.CountAudit(ctx, hotdesk.AuditFilter{})
		must(t, err)
		if c >= 20 || n > 1000 {
			break
		}
		audit := &hotdesk.AuditEvent{Kind: hotdesk.KindLogout, Extension: "299"}
		must(t, s.AppendAudit(ctx, audit))
	}
	must(t, s.CreateWebhook(ctx, w))
	created.Store(true)
	wg.Wait()
	ds, err := s.FindDeliveries(ctx, w.ID, "", 10000)
	must(t, err)
	have := map[int64]bool{}
	for _, d := range ds {
		have[d.AuditID] = true
	}
	if len(after) == 0 {
		t.Fatal("no audit row written after the webhook was created")
	}
	for _, id := range after {
		if !have[id] {
			t.Fatalf("event %d, begun after the webhook was created, has no delivery (%d of %d have)", id, len(ds), len(after))
		}
	}
}

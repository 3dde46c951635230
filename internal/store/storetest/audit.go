package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

func testAudit(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	evs := []*hotdesk.AuditEvent{
		{Time: t0, Kind: hotdesk.KindLogin, Extension: "201", Device: "HD00001", Source: "10.0.0.1:5060", Reason: ""},
		{Time: t0.Add(time.Minute), Kind: hotdesk.KindLogout, Extension: "201", Device: "HD00001", Reason: hotdesk.ReasonRoamed},
		{Time: t0.Add(2 * time.Minute), Kind: hotdesk.KindLogin, Extension: "201", Device: "HD00002"},
		{Time: t0.Add(3 * time.Minute), Kind: hotdesk.KindLoginFailed, Extension: "202", Device: "HD00001", Reason: hotdesk.ReasonBadPIN, Detail: "attempt 1"},
		{Kind: hotdesk.KindAuthFailed, Source: "10.9.9.9:5060"}, // time assigned by the store
	}
	var last int64
	for i, e := range evs {
		if i < 4 {
			must(t, s.AppendAudit(ctx, e))
		} else {
			must(t, s.InTx(ctx, func(tx hotdesk.Tx) error { return tx.AppendAudit(ctx, e) }))
		}
		if e.ID <= last {
			t.Fatalf("audit id %d after %d: not monotonic", e.ID, last)
		}
		last = e.ID
	}
	if evs[4].Time.IsZero() || time.Since(evs[4].Time) > time.Minute {
		t.Fatalf("assigned time = %v", evs[4].Time)
	}
	ids := func(f hotdesk.AuditFilter) []int64 {
		t.Helper()
		es, err := s.FindAudit(ctx, f)
		must(t, err)
		out := []int64{}
		for _, e := range es {
			out = append(out, e.ID)
		}
		n, err := s.CountAudit(ctx, f)
		must(t, err)
		if f.BeforeID == 0 && f.Limit == 0 && len(out) < 100 && n != len(out) {
			t.Errorf("CountAudit(%+v) = %d, FindAudit found %d", f, n, len(out))
		}
		return out
	}
	id := func(i int) int64 { return evs[i].ID }
	tests := []struct {
		f    hotdesk.AuditFilter
		want []int64
	}{
		{hotdesk.AuditFilter{}, []int64{id(4), id(3), id(2), id(1), id(0)}},
		{hotdesk.AuditFilter{Extension: "201"}, []int64{id(2), id(1), id(0)}},
		{hotdesk.AuditFilter{Device: "HD00001"}, []int64{id(3), id(1), id(0)}},
		{hotdesk.AuditFilter{Kinds: []string{hotdesk.KindLogin}}, []int64{id(2), id(0)}},
		{hotdesk.AuditFilter{Kinds: []string{hotdesk.KindLogin, hotdesk.KindLogout}}, []int64{id(2), id(1), id(0)}},
		{hotdesk.AuditFilter{Extension: "201", Kinds: []string{hotdesk.KindLogout}}, []int64{id(1)}},
		{hotdesk.AuditFilter{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}, []int64{id(2), id(1)}},
		{hotdesk.AuditFilter{Limit: 2}, []int64{id(4), id(3)}},
		{hotdesk.AuditFilter{BeforeID: id(3), Limit: 2}, []int64{id(2), id(1)}},
	}
	for _, tt := range tests {
		if got := ids(tt.f); !slices.Equal(got, tt.want) {
			t.Errorf("FindAudit(%+v) = %v, want %v", tt.f, got, tt.want)
		}
	}
	if n, _ := s.CountAudit(ctx, hotdesk.AuditFilter{BeforeID: id(1), Limit: 1}); n != 5 {
		t.Errorf("CountAudit ignores paging: got %d, want 5", n)
	}
	e, err := s.FindAuditEvent(ctx, id(3))
	must(t, err)
	if e.Kind != hotdesk.KindLoginFailed || e.Reason != hotdesk.ReasonBadPIN || e.Detail != "attempt 1" || e.Device != "HD00001" {
		t.Fatalf("FindAuditEvent = %+v", e)
	}
	sameTime(t, "audit time", e.Time, evs[3].Time)
	_, err = s.FindAuditEvent(ctx, 999999)
	wantCode(t, err, hotdesk.ENOTFOUND)

	// The default limit is 100.
	for range 105 {
		must(t, s.AppendAudit(ctx, &hotdesk.AuditEvent{Kind: hotdesk.KindRegistered}))
	}
	if got := ids(hotdesk.AuditFilter{Kinds: []string{hotdesk.KindRegistered}}); len(got) != 100 {
		t.Errorf("default limit returned %d", len(got))
	}
}

func testOutbox(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	all := &hotdesk.Webhook{URL: "https://a.example/h", Secret: "k1", Enabled: true}
	logins := &hotdesk.Webhook{URL: "https://b.example/h", Kinds: []string{hotdesk.KindLogin, hotdesk.KindLocked}, Enabled: true}
	off := &hotdesk.Webhook{URL: "https://c.example/h", Enabled: false}
	for _, w := range []*hotdesk.Webhook{all, logins, off} {
		must(t, s.CreateWebhook(ctx, w))
	}
	var evs []*hotdesk.AuditEvent
	for _, k := range []string{hotdesk.KindLogin, hotdesk.KindLoginFailed, hotdesk.KindLogout, hotdesk.KindLocked} {
		e := &hotdesk.AuditEvent{Kind: k, Extension: "201"}
		must(t, s.InTx(ctx, func(tx hotdesk.Tx) error { return tx.AppendAudit(ctx, e) }))
		evs = append(evs, e)
	}
	check := func(w *hotdesk.Webhook, want ...*hotdesk.AuditEvent) {
		t.Helper()
		ds, err := s.PendingDeliveries(ctx, w.ID, 10)
		must(t, err)
		if len(ds) != len(want) {
			t.Fatalf("webhook %s: %d pending, want %d", w.URL, len(ds), len(want))
		}
		for i, d := range ds {
			if d.AuditID != want[i].ID || d.Webhook != w.ID || d.Status != hotdesk.DeliveryPending || d.Attempts != 0 ||
				d.NextAttempt.IsZero() || d.CreatedAt.IsZero() || d.DeliveredAt != nil {
				t.Fatalf("delivery %d = %+v (want event %d)", i, d, want[i].ID)
			}
		}
	}
	check(all, evs...)
	// "login" must not match "login_failed".
	check(logins, evs[0], evs[3])
	check(off)
	if ds, _ := s.PendingDeliveries(ctx, all.ID, 2); len(ds) != 2 || ds[0].AuditID != evs[0].ID {
		t.Fatalf("PendingDeliveries limit/order = %+v", ds)
	}
}

func testWebhooks(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	w := &hotdesk.Webhook{URL: "https://a.example/h", Secret: "k", Kinds: []string{hotdesk.KindLogin}, Enabled: true}
	must(t, s.CreateWebhook(ctx, w))
	if w.ID == 0 || w.CreatedAt.IsZero() {
		t.Fatalf("CreateWebhook = %+v", w)
	}
	got, err := s.FindWebhook(ctx, w.ID)
	must(t, err)
	if got.URL != w.URL || got.Secret != "k" || len(got.Kinds) != 1 || !got.Enabled {
		t.Fatalf("FindWebhook = %+v", got)
	}
	_, err = s.FindWebhook(ctx, w.ID+100)
	wantCode(t, err, hotdesk.ENOTFOUND)
	w.Kinds, w.Enabled = nil, false
	must(t, s.UpdateWebhook(ctx, w))
	ws, err := s.ListWebhooks(ctx)
	must(t, err)
	if len(ws) != 1 || ws[0].Enabled || len(ws[0].Kinds) != 0 {
		t.Fatalf("ListWebhooks = %+v", ws)
	}
	wantCode(t, s.UpdateWebhook(ctx, &hotdesk.Webhook{ID: w.ID + 100}), hotdesk.ENOTFOUND)

	// Deliveries move through their states.
	w.Enabled = true
	must(t, s.UpdateWebhook(ctx, w))
	e := &hotdesk.AuditEvent{Kind: hotdesk.KindLogout}
	must(t, s.AppendAudit(ctx, e))
	ds, err := s.PendingDeliveries(ctx, w.ID, 10)
	must(t, err)
	if len(ds) != 1 {
		t.Fatalf("pending = %d", len(ds))
	}
	d := ds[0]
	d.Attempts, d.LastError, d.NextAttempt = 1, "503", t0.Add(time.Minute)
	must(t, s.UpdateDelivery(ctx, d))
	got2, _ := s.FindDeliveries(ctx, w.ID, hotdesk.DeliveryPending, 10)
	if len(got2) != 1 || got2[0].Attempts != 1 || got2[0].LastError != "503" {
		t.Fatalf("after retry = %+v", got2)
	}
	sameTime(t, "NextAttempt", got2[0].NextAttempt, t0.Add(time.Minute))
	at := t0.Add(2 * time.Minute)
	d.Status, d.DeliveredAt = hotdesk.DeliveryDelivered, &at
	must(t, s.UpdateDelivery(ctx, d))
	if ds, _ := s.PendingDeliveries(ctx, w.ID, 10); len(ds) != 0 {
		t.Fatalf("still pending: %+v", ds)
	}
	done, _ := s.FindDeliveries(ctx, w.ID, hotdesk.DeliveryDelivered, 10)
	if len(done) != 1 || done[0].DeliveredAt == nil {
		t.Fatalf("delivered = %+v", done)
	}
	if any, _ := s.FindDeliveries(ctx, w.ID, "", 10); len(any) != 1 {
		t.Fatalf("any status = %d", len(any))
	}
	wantCode(t, s.UpdateDelivery(ctx, &hotdesk.Delivery{ID: d.ID + 100, Status: hotdesk.DeliveryFailed}), hotdesk.ENOTFOUND)

	must(t, s.DeleteWebhook(ctx, w.ID))
	wantCode(t, s.DeleteWebhook(ctx, w.ID), hotdesk.ENOTFOUND)
	if ds, _ := s.FindDeliveries(ctx, w.ID, "", 10); len(ds) != 0 {
		t.Fatalf("deliveries of deleted webhook = %d", len(ds))
	}
}

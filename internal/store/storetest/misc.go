package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

func testBindings(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	now := t0
	b := func(dev, contact string, ttl time.Duration) hotdesk.Binding {
		return hotdesk.Binding{Device: dev, Contact: contact, Expires: now.Add(ttl), CallID: "cid-" + contact, CSeq: 7,
			UserAgent: "snom D785", Source: "192.0.2.1:5060", Transport: "udp", Node: "n1", Updated: now}
	}
	// A batch of many rows in one call (the registrar's group commit).
	var batch []hotdesk.Binding
	for i := range 250 {
		batch = append(batch, b(fmt.Sprintf("HD%05d", i), "sip:x@192.0.2.1", time.Hour))
	}
	batch = append(batch, b("HD00000", "sip:y@192.0.2.2", 30*time.Second), b("HD00001", "sip:old@192.0.2.3", -time.Second))
	must(t, s.PutBindings(ctx, batch))
	must(t, s.PutBindings(ctx, nil))

	all, err := s.ListBindings(ctx, now)
	must(t, err)
	if len(all) != 251 {
		t.Fatalf("ListBindings = %d, want 251 (expired one hidden)", len(all))
	}
	dev, err := s.DeviceBindings(ctx, "HD00000", now)
	must(t, err)
	if len(dev) != 2 {
		t.Fatalf("DeviceBindings = %+v", dev)
	}
	got := dev[0]
	want := b("HD00000", "sip:x@192.0.2.1", time.Hour)
	sameTime(t, "Expires", got.Expires, want.Expires)
	sameTime(t, "Updated", got.Updated, want.Updated)
	got.Expires, got.Updated, want.Expires, want.Updated = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if got != want {
		t.Fatalf("binding = %+v, want %+v", got, want)
	}

	// Upsert by (device, contact, node): a refresh replaces the row, its
	// flow (issue 15: NAT, outbound instance and reg-id) included.
	ref := b("HD00000", "sip:x@192.0.2.1", 2*time.Hour)
	ref.CSeq, ref.Source = 8, "192.0.2.9:5062"
	ref.NAT, ref.Instance, ref.RegID = true, "<urn:uuid:00000000-0000-1000-8000-000a95a0e128>", 2
	must(t, s.PutBindings(ctx, []hotdesk.Binding{ref}))
	dev, _ = s.DeviceBindings(ctx, "HD00000", now.Add(90*time.Minute))
	if len(dev) != 1 || dev[0].CSeq != 8 || dev[0].Source != "192.0.2.9:5062" ||
		!dev[0].NAT || dev[0].Instance != ref.Instance || dev[0].RegID != 2 {
		t.Fatalf("after refresh = %+v", dev)
	}

	must(t, s.DeleteBindings(ctx, []hotdesk.Binding{{Device: "HD00000", Contact: "sip:x@192.0.2.1", Node: "n1"}, {Device: "nope", Contact: "x"}}))
	dev, _ = s.DeviceBindings(ctx, "HD00000", now)
	if len(dev) != 1 || dev[0].Contact != "sip:y@192.0.2.2" {
		t.Fatalf("after delete = %+v", dev)
	}
	gone, err := s.DeleteExpiredBindings(ctx, "", now.Add(time.Minute))
	must(t, err)
	if len(gone) != 2 { // the already-expired one and the 30 s one
		t.Fatalf("DeleteExpiredBindings = %+v, want 2", gone)
	}
	all, _ = s.ListBindings(ctx, now)
	if len(all) != 249 {
		t.Fatalf("left = %d", len(all))
	}
}

func testSettings(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	got, err := s.GetSettings(ctx)
	must(t, err)
	if !reflect.DeepEqual(got, hotdesk.DefaultSettings()) {
		t.Fatalf("fresh settings = %+v", got)
	}
	st := hotdesk.DefaultSettings()
	st.Emergency = []string{"112"}
	st.Timezone = "Europe/Amsterdam"
	st.AutoLogout = hotdesk.AutoLogout{DailyAt: "02:00", MaxDuration: "12h"}
	st.Trunk = hotdesk.Trunk{Enabled: true, Proxy: "sip.example.net:5060", Username: "u", Password: "p", Sources: []string{"198.51.100.0/24"}}
	st.FeatureCodes.Star77Enabled = false
	must(t, s.PutSettings(ctx, st))
	got, err = s.GetSettings(ctx)
	must(t, err)
	if !reflect.DeepEqual(got, st) {
		t.Fatalf("settings = %+v, want %+v", got, st)
	}
	st.Lang = "nl"
	must(t, s.PutSettings(ctx, st))
	if got, _ = s.GetSettings(ctx); got.Lang != "nl" {
		t.Fatalf("second put lost: %+v", got)
	}
}

func testAdmins(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	a := &hotdesk.Admin{Username: "admin", PasswordHash: "$2a$hash"}
	must(t, s.CreateAdmin(ctx, a))
	if a.CreatedAt.IsZero() {
		t.Fatal("CreatedAt not set")
	}
	wantCode(t, s.CreateAdmin(ctx, &hotdesk.Admin{Username: "admin", PasswordHash: "x"}), hotdesk.ECONFLICT)
	must(t, s.CreateAdmin(ctx, &hotdesk.Admin{Username: "bob", PasswordHash: "h"}))
	got, err := s.FindAdmin(ctx, "admin")
	must(t, err)
	if got.PasswordHash != "$2a$hash" {
		t.Fatalf("FindAdmin = %+v", got)
	}
	_, err = s.FindAdmin(ctx, "eve")
	wantCode(t, err, hotdesk.ENOTFOUND)
	must(t, s.CreateSession(ctx, &hotdesk.Session{TokenHash: "admin-old", Username: "admin", CSRF: "c", Expires: t0.Add(time.Hour)}))
	must(t, s.CreateSession(ctx, &hotdesk.Session{TokenHash: "bob-1", Username: "bob", CSRF: "c", Expires: t0.Add(time.Hour)}))
	must(t, s.SetAdminPassword(ctx, "admin", "$2a$new"))
	if got, _ = s.FindAdmin(ctx, "admin"); got.PasswordHash != "$2a$new" {
		t.Fatal("password not changed")
	}
	// A new password ends the admin's sessions, nobody else's.
	_, err = s.FindSession(ctx, "admin-old")
	wantCode(t, err, hotdesk.ENOTFOUND)
	_, err = s.FindSession(ctx, "bob-1")
	must(t, err)
	wantCode(t, s.SetAdminPassword(ctx, "eve", "x"), hotdesk.ENOTFOUND)
	as, err := s.ListAdmins(ctx)
	must(t, err)
	if len(as) != 2 || as[0].Username != "admin" || as[1].Username != "bob" {
		t.Fatalf("ListAdmins = %+v", as)
	}
}

func testSessions(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	must(t, s.CreateSession(ctx, &hotdesk.Session{TokenHash: "h1", Username: "admin", CSRF: "c1", Expires: t0.Add(time.Hour)}))
	must(t, s.CreateSession(ctx, &hotdesk.Session{TokenHash: "h2", Username: "admin", CSRF: "c2", Expires: t0.Add(-time.Hour)}))
	got, err := s.FindSession(ctx, "h1")
	must(t, err)
	if got.Username != "admin" || got.CSRF != "c1" {
		t.Fatalf("FindSession = %+v", got)
	}
	sameTime(t, "Expires", got.Expires, t0.Add(time.Hour))
	must(t, s.DeleteExpiredSessions(ctx, t0))
	_, err = s.FindSession(ctx, "h2")
	wantCode(t, err, hotdesk.ENOTFOUND)
	must(t, s.DeleteSession(ctx, "h1"))
	_, err = s.FindSession(ctx, "h1")
	wantCode(t, err, hotdesk.ENOTFOUND)
}

func testCalls(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	c1 := &hotdesk.CallRecord{CallID: "a", Extension: "201", Direction: hotdesk.DirectionOutbound, Peer: "0201234567", Device: "HD00001", Start: t0, Result: hotdesk.ResultNoAnswer}
	c2 := &hotdesk.CallRecord{CallID: "b", Extension: "201", Direction: hotdesk.DirectionInbound, Peer: "202", Device: "HD00002", Start: t0.Add(time.Minute)}
	c3 := &hotdesk.CallRecord{CallID: "c", Extension: "202", Direction: hotdesk.DirectionOutbound, Peer: "112", Start: t0, Emergency: true}
	for _, c := range []*hotdesk.CallRecord{c1, c2, c3} {
		must(t, s.CreateCall(ctx, c))
	}
	if c1.ID == 0 || c2.ID == c1.ID {
		t.Fatalf("ids %d %d", c1.ID, c2.ID)
	}
	ans, end := t0.Add(70*time.Second), t0.Add(3*time.Minute)
	c2.Answer, c2.End, c2.Result = &ans, &end, hotdesk.ResultAnswered
	must(t, s.UpdateCall(ctx, c2))
	wantCode(t, s.UpdateCall(ctx, &hotdesk.CallRecord{ID: 99999}), hotdesk.ENOTFOUND)
	cs, err := s.FindCalls(ctx, "201", 10)
	must(t, err)
	if len(cs) != 2 || cs[0].CallID != "b" || cs[1].CallID != "a" {
		t.Fatalf("FindCalls = %+v", cs)
	}
	if cs[0].Answer == nil || cs[0].End == nil || cs[0].Result != hotdesk.ResultAnswered || cs[1].Answer != nil {
		t.Fatalf("call b = %+v", cs[0])
	}
	sameTime(t, "Answer", *cs[0].Answer, ans)
	if cs, _ := s.FindCalls(ctx, "201", 1); len(cs) != 1 {
		t.Fatalf("limit: %d", len(cs))
	}
	if cs, _ := s.FindCalls(ctx, "202", 0); len(cs) != 1 || !cs[0].Emergency {
		t.Fatalf("202 calls = %+v", cs)
	}
}

// testTimes checks that times keep millisecond precision, come back in UTC
// and that the zero time stays zero.
func testTimes(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	seed(t, s, 1)
	local := time.Date(2026, 12, 31, 23, 59, 59, 999_000_000, time.FixedZone("X", -7*3600))
	must(t, s.InTx(ctx, func(tx hotdesk.Tx) error {
		return tx.CreateLogin(ctx, &hotdesk.Login{Extension: "201", Device: "HD00001", Since: local})
	}))
	l, err := s.LoginByUser(ctx, "201")
	must(t, err)
	sameTime(t, "Since", l.Since, local)
	if !l.LastActivity.IsZero() || l.EndsAt != nil {
		t.Fatalf("zero times = %v %v", l.LastActivity, l.EndsAt)
	}
	if l.Since.Year() != 2027 || l.Since.Hour() != 6 {
		t.Fatalf("Since not converted to UTC: %v", l.Since)
	}
}

// testBindingsInTx: a store whose Tx writes bindings (it says so as a
// hotdesk.BindingTxStore, and its Tx is a hotdesk.BindingTx) writes
// bindings, deletions and audit events in one transaction (the
// registrar's group commit): all of them or, when it fails, none.
func testBindingsInTx(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	now := t0
	b := func(dev string) hotdesk.Binding {
		return hotdesk.Binding{Device: dev, Contact: "sip:" + dev + "@192.0.2.1", Expires: now.Add(time.Hour), CallID: "c", CSeq: 1,
			Source: "192.0.2.1:5060", Transport: "udp", Node: "n1", Updated: now}
	}
	must(t, s.PutBindings(ctx, []hotdesk.Binding{b("HD00001")}))
	if bts, ok := s.(hotdesk.BindingTxStore); !ok || !bts.TxWritesBindings() {
		t.Skip("the store's Tx writes no bindings")
	}
	must(t, s.InTx(ctx, func(tx hotdesk.Tx) error {
		if _, ok := tx.(hotdesk.BindingTx); !ok {
			t.Fatalf("TxWritesBindings, but the Tx (%T) is no hotdesk.BindingTx", tx)
		}
		return nil
	}))
	write := func(put, del hotdesk.Binding, kind string, fail error) error {
		return s.InTx(ctx, func(tx hotdesk.Tx) error {
			bt := tx.(hotdesk.BindingTx)
			err := errors.Join(bt.PutBindings(ctx, []hotdesk.Binding{put}), bt.PutBindings(ctx, nil),
				bt.DeleteBindings(ctx, []hotdesk.Binding{del}), bt.DeleteBindings(ctx, nil),
				tx.AppendAudit(ctx, &hotdesk.AuditEvent{Time: now, Kind: kind, Device: put.Device}))
			if err != nil {
				return err
			}
			return fail
		})
	}
	boom := errors.New("boom")
	if err := write(b("HD00002"), b("HD00001"), hotdesk.KindUnregistered, boom); !errors.Is(err, boom) {
		t.Fatalf("failed transaction: %v", err)
	}
	all, err := s.ListBindings(ctx, now)
	must(t, err)
	if len(all) != 1 || all[0].Device != "HD00001" {
		t.Fatalf("after a failed transaction: %+v, want HD00001's alone", all)
	}
	if n, err := s.CountAudit(ctx, hotdesk.AuditFilter{}); err != nil || n != 0 {
		t.Fatalf("audit after a failed transaction: %d %v", n, err)
	}
	must(t, write(b("HD00002"), b("HD00001"), hotdesk.KindRegistered, nil))
	all, err = s.ListBindings(ctx, now)
	must(t, err)
	if len(all) != 1 || all[0].Device != "HD00002" {
		t.Fatalf("after the transaction: %+v, want HD00002's alone", all)
	}
	es, err := s.FindAudit(ctx, hotdesk.AuditFilter{Limit: 10})
	must(t, err)
	if len(es) != 1 || es[0].Kind != hotdesk.KindRegistered || es[0].Device != "HD00002" {
		t.Fatalf("audit after the transaction: %+v", es)
	}
}

package desk

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

func mustLoc(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

// autoFixture is a fixture whose settings have the auto-logout policy al.
func autoFixture(t *testing.T, al hotdesk.AutoLogout) *fixture {
	t.Helper()
	f := newFixture(t)
	f.editSettings(t, func(s *hotdesk.Settings) { s.AutoLogout = al })
	return f
}

func TestDailyDeadlineAcrossDST(t *testing.T) {
	ams := mustLoc(t, "Europe/Amsterdam")
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name, dailyAt string
		since, want   time.Time
	}{
		// Last Sunday of March 2026 (29th): 02:00 CET jumps to 03:00 CEST.
		{"spring 04:00", "04:00", utc("2026-03-28T11:00:00Z"), utc("2026-03-29T02:00:00Z")},  // 04:00 CEST, 23 h day
		{"before spring", "04:00", utc("2026-03-27T11:00:00Z"), utc("2026-03-28T03:00:00Z")}, // 04:00 CET
		{"spring gap 02:30", "02:30", utc("2026-03-28T11:00:00Z"), utc("2026-03-29T01:30:00Z")},
		// Last Sunday of October 2026 (25th): 03:00 CEST falls back to 02:00 CET.
		{"autumn 04:00", "04:00", utc("2026-10-24T10:00:00Z"), utc("2026-10-25T03:00:00Z")}, // 04:00 CET, 25 h day
		{"after autumn", "04:00", utc("2026-10-25T10:00:00Z"), utc("2026-10-26T03:00:00Z")},
		{"same day later", "18:00", utc("2026-10-24T10:00:00Z"), utc("2026-10-24T16:00:00Z")},
		{"exactly at the time rolls over", "12:00", utc("2026-06-01T10:00:00Z"), utc("2026-06-02T10:00:00Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, policy, ok := deadline(hotdesk.AutoLogout{DailyAt: tt.dailyAt}, ams, tt.since, tt.since)
			if !ok || policy != PolicyDaily || !at.Equal(tt.want) {
				t.Fatalf("deadline %v (%s, %v), want %v = %v", at.UTC(), policy, ok, tt.want, tt.want.In(ams))
			}
		})
	}
}

func TestDeadlinePicksEarliestPolicy(t *testing.T) {
	since := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		p      hotdesk.AutoLogout
		last   time.Time
		want   time.Duration // after since; <0 = no deadline
		policy string
	}{
		{hotdesk.AutoLogout{}, since, -1, ""},
		{hotdesk.AutoLogout{MaxDuration: "12h"}, since, 12 * time.Hour, PolicyMaxDuration},
		{hotdesk.AutoLogout{MaxDuration: "12h", DailyAt: "18:00"}, since, 10 * time.Hour, PolicyDaily},
		{hotdesk.AutoLogout{MaxDuration: "12h", IdleTimeout: "2h"}, since, 2 * time.Hour, PolicyIdle},
		{hotdesk.AutoLogout{MaxDuration: "12h", IdleTimeout: "2h"}, since.Add(11 * time.Hour), 12 * time.Hour, PolicyMaxDuration},
		{hotdesk.AutoLogout{MaxDuration: "bogus"}, since, -1, ""},
	}
	for _, tt := range tests {
		at, policy, ok := deadline(tt.p, time.UTC, since, tt.last)
		if tt.want < 0 {
			if ok {
				t.Errorf("%+v: deadline %v, want none", tt.p, at)
			}
			continue
		}
		if !ok || policy != tt.policy || !at.Equal(since.Add(tt.want)) {
			t.Errorf("%+v: %v %s, want +%v %s", tt.p, at.Sub(since), policy, tt.want, tt.policy)
		}
	}
}

func TestValidatePolicy(t *testing.T) {
	tests := []struct {
		p     hotdesk.AutoLogout
		field string
	}{
		{hotdesk.AutoLogout{}, ""},
		{hotdesk.AutoLogout{DailyAt: "02:00", MaxDuration: "12h", IdleTimeout: "90m", LostRegistration: "10m"}, ""},
		{hotdesk.AutoLogout{DailyAt: "24:00"}, "daily_at"},
		{hotdesk.AutoLogout{DailyAt: "2:00"}, "daily_at"},
		{hotdesk.AutoLogout{MaxDuration: "12"}, "max_duration"},
		{hotdesk.AutoLogout{IdleTimeout: "1s"}, "idle_timeout"},
		{hotdesk.AutoLogout{LostRegistration: "-5m"}, "lost_registration"},
	}
	for _, tt := range tests {
		if got := hotdesk.ErrorField(ValidatePolicy(tt.p)); got != tt.field {
			t.Errorf("%+v: field %q, want %q", tt.p, got, tt.field)
		}
	}
}

// autoLogouts returns the "logout" audit rows with reason auto as
// "ext device policy".
func (f *fixture) autoLogouts() []string {
	var out []string
	for _, e := range f.audit() {
		if e.Kind == hotdesk.KindLogout && e.Reason == hotdesk.ReasonAuto {
			out = append(out, e.Extension+" "+e.Device+" "+e.Detail)
		}
	}
	return out
}

func TestMaxDurationAndDailyFire(t *testing.T) {
	f := autoFixture(t, hotdesk.AutoLogout{MaxDuration: "12h", DailyAt: "02:00"})
	ctx := context.Background()
	f.editSettings(t, func(s *hotdesk.Settings) { s.Timezone = "Europe/Amsterdam" })
	start := f.clock.Now() // 09:00 UTC = 10:00 CET
	l := f.MustLogin(t, "201", "HD00001").Login
	if l.EndsAt == nil || !l.EndsAt.Equal(start.Add(12*time.Hour)) || l.Policy != PolicyMaxDuration {
		t.Fatalf("login ends %v policy %q", l.EndsAt, l.Policy)
	}
	f.clock.Advance(8 * time.Hour) // 18:00 CET
	l2 := f.MustLogin(t, "202", "HD00002").Login
	if want := time.Date(2026, 3, 3, 1, 0, 0, 0, time.UTC); !l2.EndsAt.Equal(want) || l2.Policy != PolicyDaily {
		t.Fatalf("second login ends %v policy %q, want %v daily", l2.EndsAt, l2.Policy, want)
	}
	f.svc.Tick(ctx, f.clock.Advance(4*time.Hour-time.Second))
	if len(f.logins()) != 2 {
		t.Fatalf("logged out early: %v", f.logins())
	}
	f.svc.Tick(ctx, f.clock.Advance(time.Second))
	if got := f.autoLogouts(); !slices.Equal(got, []string{"201 HD00001 max_duration"}) {
		t.Fatalf("auto logouts %q", got)
	}
	f.svc.Tick(ctx, f.clock.Set(time.Date(2026, 3, 3, 1, 0, 0, 0, time.UTC)))
	if got := f.autoLogouts(); len(got) != 2 || got[1] != "202 HD00002 daily" {
		t.Fatalf("auto logouts %q", got)
	}
	if len(f.logins()) != 0 || f.svc.sched.len() != 0 {
		t.Fatalf("left: logins %v, %d deadlines", f.logins(), f.svc.sched.len())
	}
	var evs []string
	for _, e := range f.drain() {
		if e[:6] == "logout" {
			evs = append(evs, e)
		}
	}
	if !slices.Equal(evs, []string{"logout 201 HD00001 auto", "logout 202 HD00002 auto"}) {
		t.Fatalf("logout events %q", evs)
	}
}

func TestIdleTimeoutMovesWithActivity(t *testing.T) {
	f := autoFixture(t, hotdesk.AutoLogout{IdleTimeout: "2h"})
	ctx := context.Background()
	f.MustLogin(t, "201", "HD00001")
	f.svc.Tick(ctx, f.clock.Advance(90*time.Minute))
	if err := f.svc.Touch(ctx, "HD00001"); err != nil { // a call
		t.Fatal(err)
	}
	l, _ := f.store.LoginByDevice(ctx, "HD00001")
	if want := f.clock.Now().Add(2 * time.Hour); !l.EndsAt.Equal(want) || !l.LastActivity.Equal(f.clock.Now()) {
		t.Fatalf("after touch ends %v (want %v), last activity %v", l.EndsAt, want, l.LastActivity)
	}
	f.svc.Tick(ctx, f.clock.Advance(90*time.Minute)) // 3 h after login, 1.5 h idle
	if len(f.logins()) != 1 {
		t.Fatal("idle logout ignored the activity")
	}
	f.svc.Tick(ctx, f.clock.Advance(30*time.Minute))
	if got := f.autoLogouts(); !slices.Equal(got, []string{"201 HD00001 idle"}) {
		t.Fatalf("auto logouts %q", got)
	}
	if err := f.svc.Touch(ctx, "HD00001"); err != nil { // neutral: no-op
		t.Fatal(err)
	}
}

func TestCallInProgressDelaysLogout(t *testing.T) {
	f := autoFixture(t, hotdesk.AutoLogout{MaxDuration: "8h"})
	ctx := context.Background()
	f.MustLogin(t, "201", "HD00001")
	f.setInCall("HD00001", true)
	f.svc.Tick(ctx, f.clock.Advance(8*time.Hour+time.Minute))
	if len(f.logins()) != 1 {
		t.Fatal("logged out during a call")
	}
	f.svc.Tick(ctx, f.clock.Advance(time.Hour))
	if len(f.logins()) != 1 {
		t.Fatal("logged out during a call, later")
	}
	f.setInCall("HD00001", false)
	if err := f.svc.CallEnded(ctx, "HD00002"); err != nil || len(f.logins()) != 1 {
		t.Fatalf("another phone's call end logged out: %v", err)
	}
	if err := f.svc.CallEnded(ctx, "HD00001"); err != nil {
		t.Fatal(err)
	}
	if got := f.autoLogouts(); !slices.Equal(got, []string{"201 HD00001 max_duration"}) {
		t.Fatalf("auto logouts %q", got)
	}
}

func TestIdleDeferredByCallIsPushedBack(t *testing.T) {
	f := autoFixture(t, hotdesk.AutoLogout{IdleTimeout: "1h"})
	ctx := context.Background()
	f.MustLogin(t, "201", "HD00001")
	f.setInCall("HD00001", true)
	f.svc.Tick(ctx, f.clock.Advance(time.Hour))
	f.setInCall("HD00001", false)
	f.svc.CallEnded(ctx, "HD00001")
	if len(f.logins()) != 1 {
		t.Fatal("idle logout right after a call")
	}
	f.svc.Tick(ctx, f.clock.Advance(time.Hour))
	if got := f.autoLogouts(); !slices.Equal(got, []string{"201 HD00001 idle"}) {
		t.Fatalf("auto logouts %q", got)
	}
}

func TestPerDeviceOverrideAndPolicyOff(t *testing.T) {
	f := autoFixture(t, hotdesk.AutoLogout{MaxDuration: "1h"})
	ctx := context.Background()
	f.setDeviceAutoLogout(t, "HD00002", &hotdesk.AutoLogout{}) // never
	f.setDeviceAutoLogout(t, "HD00003", &hotdesk.AutoLogout{MaxDuration: "30m"})
	f.MustLogin(t, "201", "HD00001")
	if l := f.MustLogin(t, "202", "HD00002").Login; l.EndsAt != nil {
		t.Fatalf("override off, ends %v", l.EndsAt)
	}
	f.MustLogin(t, "203", "HD00003")
	f.svc.Tick(ctx, f.clock.Advance(30*time.Minute))
	if got := f.logins(); !maps.Equal(got, map[string]string{"HD00001": "201", "HD00002": "202"}) {
		t.Fatalf("after 30m %v", got)
	}
	// The admin switches the policy off before 201's deadline: no logout.
	f.editSettings(t, func(s *hotdesk.Settings) { s.AutoLogout = hotdesk.AutoLogout{} })
	f.svc.Tick(ctx, f.clock.Advance(time.Hour))
	if len(f.logins()) != 2 {
		t.Fatalf("after policy off %v", f.logins())
	}
	if l, _ := f.store.LoginByDevice(ctx, "HD00001"); l.EndsAt != nil {
		t.Fatalf("stale deadline kept: %v", l.EndsAt)
	}
}

func TestRestartKeepsPendingDeadlines(t *testing.T) {
	f := autoFixture(t, hotdesk.AutoLogout{MaxDuration: "4h"})
	ctx := context.Background()
	f.MustLogin(t, "201", "HD00001")
	f.clock.Advance(time.Hour)
	f.MustLogin(t, "202", "HD00002")

	// "Restart": a new Service over the same store, and the clock moves on
	// past the first deadline while the server is down.
	g := newFixtureOn(t, f.store, f.clock)
	if err := g.svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if n := g.svc.sched.len(); n != 2 {
		t.Fatalf("loaded %d deadlines, want 2", n)
	}
	g.svc.Tick(ctx, g.clock.Advance(3*time.Hour+time.Second))
	if got := g.autoLogouts(); !slices.Equal(got, []string{"201 HD00001 max_duration"}) {
		t.Fatalf("auto logouts %q", got)
	}
	g.svc.Tick(ctx, g.clock.Advance(time.Hour))
	if len(g.logins()) != 0 {
		t.Fatalf("left %v", g.logins())
	}
}

func TestLostRegistrationLogsOut(t *testing.T) {
	f := autoFixture(t, hotdesk.AutoLogout{LostRegistration: "10m"})
	ctx := context.Background()
	f.MustLogin(t, "201", "HD00001")
	f.MustLogin(t, "202", "HD00002")
	f.svc.handleEvent(ctx, events.Event{Kind: hotdesk.KindUnregistered, Device: "HD00001"})
	f.svc.handleEvent(ctx, events.Event{Kind: hotdesk.KindUnregistered, Device: "HD00002"})
	f.svc.handleEvent(ctx, events.Event{Kind: hotdesk.KindUnregistered, Device: "HD00009"}) // neutral
	f.clock.Advance(5 * time.Minute)
	f.svc.handleEvent(ctx, events.Event{Kind: hotdesk.KindRegistered, Device: "HD00002"})
	f.svc.Tick(ctx, f.clock.Advance(5*time.Minute))
	if got := f.autoLogouts(); !slices.Equal(got, []string{"201 HD00001 lost_registration"}) {
		t.Fatalf("auto logouts %q", got)
	}
	if f.svc.sched.len() != 0 {
		t.Fatalf("%d deadlines left", f.svc.sched.len())
	}
}

// TestRestartSchedulesLostRegistration: the deadline of an unregistered
// phone lives in memory; after a restart, a login on a phone with no live
// registration gets it again (from the start) and one on a registered
// phone does not.
func TestRestartSchedulesLostRegistration(t *testing.T) {
	f := autoFixture(t, hotdesk.AutoLogout{LostRegistration: "10m"})
	ctx := context.Background()
	f.MustLogin(t, "201", "HD00001")
	f.MustLogin(t, "202", "HD00002")
	must(t, f.store.PutBindings(ctx, []hotdesk.Binding{{Device: "HD00002", Contact: "sip:HD00002@127.0.0.1:5062", Expires: f.clock.Now().Add(time.Hour)}}))
	f.svc.handleEvent(ctx, events.Event{Kind: hotdesk.KindUnregistered, Device: "HD00001"})

	g := newFixtureOn(t, f.store, f.clock) // restart: the pending deadline is gone
	must(t, g.svc.Load(ctx))
	g.svc.Tick(ctx, g.clock.Advance(9*time.Minute))
	if got := g.autoLogouts(); len(got) != 0 {
		t.Fatalf("auto logouts before the 10 minutes: %q", got)
	}
	g.svc.Tick(ctx, g.clock.Advance(time.Minute))
	if got := g.autoLogouts(); !slices.Equal(got, []string{"201 HD00001 lost_registration"}) {
		t.Fatalf("auto logouts %q", got)
	}
	if got := g.logins(); got["HD00002"] != "202" {
		t.Fatalf("logins %v: 202 on its registered phone should stay", got)
	}
}

// TestResyncSchedulesLostRegistration: an unregistered event lost in a
// flood (the bus hands over events.KindResync instead) still ends in the
// policy's logout; resyncs closer together than lostRecheck check once,
// and the check they asked for runs when that time is over.
func TestResyncSchedulesLostRegistration(t *testing.T) {
	f := autoFixture(t, hotdesk.AutoLogout{LostRegistration: "10m"})
	ctx := context.Background()
	f.MustLogin(t, "201", "HD00001")
	f.svc.handleEvent(ctx, events.Event{Kind: events.KindResync, Reason: "lost"})
	if !f.svc.sched.has(lostKey("HD00001")) || f.svc.lostPending {
		t.Fatalf("after a resync: lost deadline %v, pending %v", f.svc.sched.has(lostKey("HD00001")), f.svc.lostPending)
	}
	f.clock.Advance(time.Second)
	f.MustLogin(t, "202", "HD00002") // its phone unregisters; the event is lost too
	f.svc.handleEvent(ctx, events.Event{Kind: events.KindResync, Reason: "lost"})
	if f.svc.sched.has(lostKey("HD00002")) || !f.svc.lostPending {
		t.Fatalf("a second resync within %v: lost deadline %v, pending %v", lostRecheck, f.svc.sched.has(lostKey("HD00002")), f.svc.lostPending)
	}
	f.clock.Advance(lostRecheck)
	f.svc.resync(ctx) // what Run's timer does once lostRecheck is over
	f.svc.Tick(ctx, f.clock.Advance(10*time.Minute))
	got := f.autoLogouts()
	slices.Sort(got)
	if want := []string{"201 HD00001 lost_registration", "202 HD00002 lost_registration"}; !slices.Equal(got, want) {
		t.Fatalf("auto logouts %q, want %q", got, want)
	}
}

func TestRunFiresOnRealTimer(t *testing.T) {
	f := newFixture(t)
	f.clock.Set(time.Now())
	f.svc = New(Options{Store: f.store, Bus: f.bus, SettingsTTL: time.Nanosecond}) // real clock
	// Shorter than the API allows, so the real timer fires within the test.
	f.editSettings(t, func(s *hotdesk.Settings) { s.AutoLogout = hotdesk.AutoLogout{MaxDuration: "50ms"} })
	f.MustLogin(t, "201", "HD00001")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.svc.Run(ctx) }()
	deadline := time.After(5 * time.Second)
	for len(f.logins()) != 0 {
		select {
		case <-deadline:
			t.Fatal("Run did not fire the deadline")
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestRemoteLoginScheduledOnBothNodes: node b learns of a login made on
// node a from the bus and schedules its deadline; both firing logs out once.
func TestRemoteLoginScheduledOnBothNodes(t *testing.T) {
	a := newFixture(t)
	ctx := context.Background()
	a.editSettings(t, func(s *hotdesk.Settings) { s.AutoLogout = hotdesk.AutoLogout{MaxDuration: "1h"} })
	b := newFixtureOn(t, a.store, a.clock)                                                                        // another node, same store
	b.svc.handleEvent(ctx, events.Event{Kind: hotdesk.KindLogin, Extension: "201", Device: "HD00001", Node: "a"}) // not logged in yet: ignored
	a.MustLogin(t, "201", "HD00001")
	b.svc.handleEvent(ctx, events.Event{Kind: hotdesk.KindLogin, Extension: "201", Device: "HD00001"}) // local: Login scheduled it
	if n := b.svc.sched.len(); n != 0 {
		t.Fatalf("b scheduled %d deadlines from local-looking events", n)
	}
	b.svc.handleEvent(ctx, events.Event{Kind: hotdesk.KindLogin, Extension: "201", Device: "HD00001", Node: "a"})
	if n := b.svc.sched.len(); n != 1 {
		t.Fatalf("b has %d deadlines, want 1", n)
	}
	now := a.clock.Advance(time.Hour)
	b.svc.Tick(ctx, now)
	a.svc.Tick(ctx, now)
	if got := a.autoLogouts(); !slices.Equal(got, []string{"201 HD00001 max_duration"}) {
		t.Fatalf("auto logouts %q", got)
	}
}

// TestAutoLogoutSparesNewerLogin: a deadline computed for an earlier login
// never ends a newer login of the same user on the same device.
func TestAutoLogoutSparesNewerLogin(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old := f.MustLogin(t, "201", "HD00001").Login
	if _, err := f.svc.Logout(ctx, "HD00001", hotdesk.ReasonUser, "test"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	f.MustLogin(t, "201", "HD00001")
	if err := f.svc.autoLogout(ctx, old, PolicyMaxDuration); err != nil {
		t.Fatal(err)
	}
	if got := f.logins(); got["HD00001"] != "201" || len(f.autoLogouts()) != 0 {
		t.Fatalf("newer login ended: logins %v, auto logouts %q", got, f.autoLogouts())
	}
}

// TestResyncSchedulesLoginsMissed: after the cluster bridge missed events,
// the deadlines of every stored login are scheduled.
func TestResyncSchedulesLoginsMissed(t *testing.T) {
	a := newFixture(t)
	ctx := context.Background()
	a.editSettings(t, func(s *hotdesk.Settings) { s.AutoLogout = hotdesk.AutoLogout{MaxDuration: "1h"} })
	b := newFixtureOn(t, a.store, a.clock)
	a.MustLogin(t, "201", "HD00001")
	a.MustLogin(t, "202", "HD00002")
	b.svc.handleEvent(ctx, events.Event{Kind: events.KindResync})
	if n := b.svc.sched.len(); n != 2 {
		t.Fatalf("b has %d deadlines after a resync, want 2", n)
	}
}

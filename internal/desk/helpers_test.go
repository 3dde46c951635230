package desk

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// testClock is the shared test clock.
type testClock = siptest.Clock

// fixture is a Service over a store with users 201–209 (PIN 1234, 209 not
// hot-desk enabled), hot desk phones HD00001–HD00009 and a personal phone.
type fixture struct {
	svc    *Service
	store  *siptest.MemStore
	clock  *testClock
	bus    *events.Bus
	evs    <-chan events.Event
	inCall map[string]bool
	mu     sync.Mutex
}

var pinHash = func() string {
	h, err := HashPIN("1234")
	if err != nil {
		panic(err)
	}
	return h
}()

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	ctx := context.Background()
	st := siptest.NewMemStore()
	for _, ext := range []string{"201", "202", "203", "204", "205", "206", "207", "208", "209"} {
		must(tb, st.CreateUser(ctx, &hotdesk.User{Extension: ext, Name: "User " + ext, Hotdesk: ext != "209", PINHash: pinHash}))
	}
	for _, id := range []string{"HD00001", "HD00002", "HD00003", "HD00004", "HD00005", "HD00006", "HD00007", "HD00008", "HD00009"} {
		must(tb, st.CreateDevice(ctx, &hotdesk.Device{ID: id, Mode: hotdesk.ModeHotdesk}))
	}
	must(tb, st.CreateDevice(ctx, &hotdesk.Device{ID: "SOFT201", Mode: hotdesk.ModePersonal, Owner: "201"}))
	return newFixtureOn(tb, st, siptest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)))
}

// newFixtureOn starts a fresh Service (as after a restart) over st.
func newFixtureOn(tb testing.TB, st *siptest.MemStore, clock *testClock) *fixture {
	f := &fixture{store: st, clock: clock, bus: events.New(), inCall: map[string]bool{}}
	evs, cancel := f.bus.Subscribe(1000)
	tb.Cleanup(cancel)
	f.evs = evs
	f.svc = New(Options{Store: st, Bus: f.bus, Now: clock.Now, InCall: f.isInCall, Logger: slog.New(slog.DiscardHandler), SettingsTTL: time.Nanosecond})
	return f
}

func (f *fixture) isInCall(device string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inCall[device]
}

func (f *fixture) setInCall(device string, v bool) {
	f.mu.Lock()
	f.inCall[device] = v
	f.mu.Unlock()
}

// MustLogin logs ext in on device with PIN 1234 and fails the test on error.
func (f *fixture) MustLogin(tb testing.TB, ext, device string) *LoginResult {
	tb.Helper()
	res, err := f.svc.Login(context.Background(), LoginRequest{Extension: ext, Device: device, PIN: "1234", CheckPIN: true, Source: "192.0.2.1:5060"})
	if err != nil {
		tb.Fatalf("login %s on %s: %v", ext, device, err)
	}
	return res
}

// logins returns device → extension for every login in the store.
func (f *fixture) logins() map[string]string {
	out := map[string]string{}
	ls, _ := f.store.ListLogins(context.Background())
	for _, l := range ls {
		out[l.Device] = l.Extension
	}
	return out
}

// drain returns the events published so far, as "kind ext device reason".
func (f *fixture) drain() []string {
	var out []string
	for {
		select {
		case e := <-f.evs:
			out = append(out, e.Kind+" "+e.Extension+" "+e.Device+" "+e.Reason)
		default:
			return out
		}
	}
}

// auditKinds returns the audit trail as "kind ext device reason detail".
func (f *fixture) auditTrail() []string {
	var out []string
	for _, e := range f.audit() {
		out = append(out, e.Kind+" "+e.Extension+" "+e.Device+" "+e.Reason+" "+e.Detail)
	}
	return out
}

// audit returns the audit trail, oldest first.
func (f *fixture) audit() []*hotdesk.AuditEvent {
	es, _ := f.store.FindAudit(context.Background(), hotdesk.AuditFilter{Limit: 100_000})
	slices.Reverse(es)
	return es
}

// editSettings changes the stored site settings.
func (f *fixture) editSettings(tb testing.TB, edit func(*hotdesk.Settings)) {
	tb.Helper()
	st, err := f.store.GetSettings(context.Background())
	must(tb, err)
	edit(&st)
	must(tb, f.store.PutSettings(context.Background(), st))
}

// setDeviceAutoLogout sets a device's auto-logout override.
func (f *fixture) setDeviceAutoLogout(tb testing.TB, id string, a *hotdesk.AutoLogout) {
	tb.Helper()
	must(tb, f.store.InTx(context.Background(), func(tx hotdesk.Tx) error {
		_, err := tx.UpdateDevice(context.Background(), id, hotdesk.DeviceUpdate{AutoLogout: &a})
		return err
	}))
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

var errDown = errors.New("database is down")

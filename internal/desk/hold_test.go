package desk

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// An emergency callback window (Options.Hold) suspends a desk's
// auto-logout until the window ends, also when the call that started it
// has ended; the login's deadline shows the window's end.
func TestHoldSuspendsAutoLogoutUntilWindowEnds(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	windowEnd := f.clock.Now().Add(9 * time.Hour)
	f.svc = New(Options{Store: f.store, Bus: f.bus, Now: f.clock.Now, InCall: f.isInCall, Logger: slog.New(slog.DiscardHandler),
		SettingsTTL: time.Nanosecond, Hold: func(_ context.Context, device string) (time.Time, bool) {
			return windowEnd, device == "HD00001"
		}})
	f.editSettings(t, func(s *hotdesk.Settings) { s.AutoLogout = hotdesk.AutoLogout{MaxDuration: "8h"} })
	f.MustLogin(t, "201", "HD00001")
	f.MustLogin(t, "202", "HD00002")
	f.svc.Tick(ctx, f.clock.Advance(8*time.Hour+time.Minute))
	if got := f.autoLogouts(); !slices.Equal(got, []string{"202 HD00002 max_duration"}) {
		t.Fatalf("auto logouts %q, want only HD00002's (HD00001 is held)", got)
	}
	if err := f.svc.CallEnded(ctx, "HD00001"); err != nil || len(f.logins()) != 1 {
		t.Fatalf("a call end logged the held desk out: %v", err)
	}
	l, err := f.store.LoginByDevice(ctx, "HD00001")
	if err != nil || l.EndsAt == nil || !l.EndsAt.Equal(windowEnd) {
		t.Fatalf("held login ends %v (%v), want the window's end %v", l.EndsAt, err, windowEnd)
	}
	f.svc.Tick(ctx, f.clock.Set(windowEnd.Add(time.Second)))
	if got := f.autoLogouts(); len(got) != 2 || got[1] != "201 HD00001 max_duration" {
		t.Fatalf("auto logouts %q after the window", got)
	}
}

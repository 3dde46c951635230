package desk

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

func TestLoginRoamReplaceToggle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.MustLogin(t, "201", "HD00001")
	if got := f.drain(); !slices.Equal(got, []string{"login 201 HD00001 phone"}) {
		t.Fatalf("events after login: %q", got)
	}

	// Roaming: 201 on HD00002 ends 201 on HD00001.
	res := f.MustLogin(t, "201", "HD00002")
	if len(res.Ended) != 1 || res.Ended[0].Reason != hotdesk.ReasonRoamed || res.Ended[0].Login.Device != "HD00001" {
		t.Fatalf("roam ended %+v", res.Ended)
	}
	// Identity switch: 202 on HD00002 replaces 201.
	res = f.MustLogin(t, "202", "HD00002")
	if len(res.Ended) != 1 || res.Ended[0].Reason != hotdesk.ReasonReplaced || res.Ended[0].Login.Extension != "201" {
		t.Fatalf("switch ended %+v", res.Ended)
	}
	// Both at once: 202 moves to HD00003 where 203 sits.
	f.MustLogin(t, "203", "HD00003")
	res = f.MustLogin(t, "202", "HD00003")
	if len(res.Ended) != 2 {
		t.Fatalf("roam+replace ended %+v", res.Ended)
	}
	if got, want := f.logins(), map[string]string{"HD00003": "202"}; !maps.Equal(got, want) {
		t.Fatalf("logins %v, want %v", got, want)
	}
	// Toggle: 202 again on HD00003 with Toggle logs out.
	res, err := f.svc.Login(ctx, LoginRequest{Extension: "202", Device: "HD00003", PIN: "1234", CheckPIN: true, Toggle: true})
	if err != nil || !res.Toggled || res.Login.Extension != "202" {
		t.Fatalf("toggle: %+v, %v", res, err)
	}
	if len(f.logins()) != 0 {
		t.Fatalf("logins after toggle: %v", f.logins())
	}
	wantEvents := []string{
		"logout 201 HD00001 roamed", "login 201 HD00002 phone",
		"logout 201 HD00002 replaced", "login 202 HD00002 phone",
		"login 203 HD00003 phone",
		"logout 202 HD00002 roamed", "logout 203 HD00003 replaced", "login 202 HD00003 phone",
		"logout 202 HD00003 user",
	}
	if got := f.drain(); !slices.Equal(got, wantEvents) {
		t.Fatalf("events:\n got %q\nwant %q", got, wantEvents)
	}
	if n := len(f.auditTrail()); n != 10 {
		t.Fatalf("audit rows %d, want 10: %q", n, f.auditTrail())
	}
}

func TestLoginAgainWithoutToggleChangesNothing(t *testing.T) {
	f := newFixture(t)
	f.MustLogin(t, "201", "HD00001")
	f.drain()
	res := f.MustLogin(t, "201", "HD00001")
	if res.Toggled || len(res.Ended) != 0 || res.Login.Device != "HD00001" {
		t.Fatalf("re-login %+v", res)
	}
	if got := f.drain(); len(got) != 0 {
		t.Fatalf("events %q", got)
	}
}

func TestLoginRefusals(t *testing.T) {
	tests := []struct {
		name   string
		req    LoginRequest
		want   error
		code   string
		reason string
	}{
		{"unknown user", LoginRequest{Extension: "299", Device: "HD00001", PIN: "1234", CheckPIN: true}, ErrUnknownUser, hotdesk.ENOTFOUND, "unknown_user"},
		{"user not hotdesk", LoginRequest{Extension: "209", Device: "HD00001", PIN: "1234", CheckPIN: true}, ErrUserNotHotdesk, hotdesk.EFORBIDDEN, "user_not_hotdesk"},
		{"personal phone", LoginRequest{Extension: "202", Device: "SOFT201", PIN: "1234", CheckPIN: true}, ErrDeviceNotHotdesk, hotdesk.EFORBIDDEN, "device_not_hotdesk"},
		{"unknown device", LoginRequest{Extension: "202", Device: "NOPE", Via: hotdesk.ViaAPI}, ErrUnknownDevice, hotdesk.ENOTFOUND, "unknown_device"},
		{"bad pin", LoginRequest{Extension: "202", Device: "HD00001", PIN: "9999", CheckPIN: true}, ErrBadPIN, hotdesk.EFORBIDDEN, hotdesk.ReasonBadPIN},
		{"admin refused on personal phone", LoginRequest{Extension: "202", Device: "SOFT201", Via: hotdesk.ViaAdmin}, ErrDeviceNotHotdesk, hotdesk.EFORBIDDEN, "device_not_hotdesk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.req.Source = "192.0.2.7:5060"
			_, err := f.svc.Login(context.Background(), tt.req)
			if !errors.Is(err, tt.want) || hotdesk.ErrorCode(err) != tt.code {
				t.Fatalf("err %v (code %s), want %v (%s)", err, hotdesk.ErrorCode(err), tt.want, tt.code)
			}
			trail := f.auditTrail()
			want := fmt.Sprintf("login_failed %s %s %s ", tt.req.Extension, tt.req.Device, tt.reason)
			if len(trail) != 1 || trail[0] != want {
				t.Fatalf("audit %q, want [%q]", trail, want)
			}
			if f.audit()[0].Source != "192.0.2.7:5060" {
				t.Fatalf("audit source %q", f.audit()[0].Source)
			}
			if len(f.logins()) != 0 {
				t.Fatalf("logins %v", f.logins())
			}
		})
	}
}

func TestAdminLoginSkipsPINButNotRules(t *testing.T) {
	f := newFixture(t)
	res, err := f.svc.Login(context.Background(), LoginRequest{Extension: "201", Device: "HD00001", Via: hotdesk.ViaAdmin, Source: "console:admin"})
	if err != nil || res.Login.Via != hotdesk.ViaAdmin {
		t.Fatalf("admin login %+v, %v", res, err)
	}
	if got := f.auditTrail(); !slices.Equal(got, []string{"login 201 HD00001 admin "}) {
		t.Fatalf("audit %q", got)
	}
}

func TestDatabaseFailureChangesNothing(t *testing.T) {
	f := newFixture(t)
	f.MustLogin(t, "201", "HD00001")
	f.drain()
	f.store.SetFail(errDown)
	_, err := f.svc.Login(context.Background(), LoginRequest{Extension: "202", Device: "HD00001", PIN: "1234", CheckPIN: true})
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, errDown) || hotdesk.ErrorCode(err) != hotdesk.EUNAVAILABLE {
		t.Fatalf("err %v (code %s), want ErrUnavailable wrapping the cause", err, hotdesk.ErrorCode(err))
	}
	for _, fn := range []func() error{
		func() error {
			_, err := f.svc.Logout(context.Background(), "HD00001", hotdesk.ReasonAdmin, "api")
			return err
		},
		func() error { _, err := f.svc.LogoutAll(context.Background(), hotdesk.ReasonAdmin, "api"); return err },
	} {
		if err := fn(); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("logout err %v, want ErrUnavailable", err)
		}
	}
	f.store.SetFail(nil)
	if got := f.logins(); !maps.Equal(got, map[string]string{"HD00001": "201"}) {
		t.Fatalf("logins changed: %v", got)
	}
	if got := f.drain(); len(got) != 0 {
		t.Fatalf("events published for a failed change: %q", got)
	}
}

func TestRacingLoginsLeaveOneLogin(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	errs := make(chan error, 9)
	for i := 1; i <= 9; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.svc.Login(context.Background(), LoginRequest{Extension: "201", Device: fmt.Sprintf("HD%05d", i), PIN: "1234", CheckPIN: true})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := f.logins(); len(got) != 1 {
		t.Fatalf("logins %v, want exactly one", got)
	}
}

func TestLogoutUserLogoutAllUserAt(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.MustLogin(t, "201", "HD00001")
	f.MustLogin(t, "202", "HD00002")
	f.MustLogin(t, "203", "HD00003")
	f.drain()
	if u, err := f.svc.UserAt(ctx, "HD00002"); err != nil || u.Extension != "202" {
		t.Fatalf("UserAt %v, %v", u, err)
	}
	if _, err := f.svc.UserAt(ctx, "HD00009"); !errors.Is(err, ErrNotLoggedIn) || hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("UserAt neutral: %v", err)
	}
	if l, err := f.svc.LogoutUser(ctx, "202", hotdesk.ReasonAdmin, "api"); err != nil || l.Device != "HD00002" {
		t.Fatalf("LogoutUser %v, %v", l, err)
	}
	if _, err := f.svc.LogoutUser(ctx, "202", hotdesk.ReasonAdmin, "api"); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("LogoutUser again: %v", err)
	}
	if _, err := f.svc.Logout(ctx, "HD00002", hotdesk.ReasonUser, "x"); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("Logout neutral: %v", err)
	}
	ls, err := f.svc.LogoutAll(ctx, hotdesk.ReasonAdmin, "api")
	if err != nil || len(ls) != 2 || len(f.logins()) != 0 {
		t.Fatalf("LogoutAll %v, %v; left %v", ls, err, f.logins())
	}
	want := []string{"logout 202 HD00002 admin", "logout 201 HD00001 admin", "logout 203 HD00003 admin"}
	if got := f.drain(); !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}

func TestPINNeverInAudit(t *testing.T) {
	f := newFixture(t)
	f.svc.Login(context.Background(), LoginRequest{Extension: "201", Device: "HD00001", PIN: "987654", CheckPIN: true})
	for _, line := range f.auditTrail() {
		if strings.Contains(line, "987654") {
			t.Fatalf("PIN in audit: %q", line)
		}
	}
}

// BenchmarkLogin measures the rules' own cost (PIN verify, roaming, audit)
// over the in-memory store: go test -run X -bench 'Login$' ./internal/desk
func BenchmarkLogin(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	exts := []string{"201", "202", "203", "204"}
	i := 0
	for b.Loop() {
		i++
		_, err := f.svc.Login(ctx, LoginRequest{Extension: exts[i%4], Device: fmt.Sprintf("HD%05d", i%9+1), PIN: "1234", CheckPIN: true})
		if err != nil {
			b.Fatal(err)
		}
		f.drain()
	}
}

// TestCanLogin: the check a phone asks before prompting for a PIN applies
// the desk's own user rules (exists, may hot desk, not locked), so feature
// no longer repeats them.
func TestCanLogin(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	until := f.clock.Now().Add(time.Minute)
	lock := &until
	if _, err := f.store.UpdateUser(ctx, "203", hotdesk.UserUpdate{LockedUntil: &lock}); err != nil {
		t.Fatal(err)
	}
	for ext, want := range map[string]error{"201": nil, "299": ErrUnknownUser, "209": ErrUserNotHotdesk, "203": ErrLocked} {
		if err := f.svc.CanLogin(ctx, ext); !errors.Is(err, want) && err != want {
			t.Errorf("CanLogin(%s) = %v, want %v", ext, err, want)
		}
	}
	f.clock.Advance(2 * time.Minute)
	if err := f.svc.CanLogin(ctx, "203"); err != nil {
		t.Errorf("lock over: %v", err)
	}
}

package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

func TestSplitList(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"112", []string{"112"}},
		{"112, 911,999", []string{"112", "911", "999"}},
		{" 201 202\n203;204 ,, ", []string{"201", "202", "203", "204"}},
	} {
		if got := splitList(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("splitList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTalkTimeAndSince(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ptr := func(d time.Duration) *time.Time { v := at.Add(d); return &v }
	for _, tc := range []struct {
		answer, end *time.Time
		want        string
	}{
		{nil, nil, ""},
		{nil, ptr(time.Minute), ""},
		{ptr(0), nil, "in progress"},
		{ptr(0), ptr(65 * time.Second), "1:05"},
		{ptr(0), ptr(59*time.Minute + 59*time.Second + 600*time.Millisecond), "1:00:00"},
		{ptr(0), ptr(3723 * time.Second), "1:02:03"},
		{ptr(time.Second), ptr(0), "0:00"},
	} {
		if got := talkTime(&hotdesk.CallRecord{Answer: tc.answer, End: tc.end}); got != tc.want {
			t.Errorf("talkTime(%v, %v) = %q, want %q", tc.answer, tc.end, got, tc.want)
		}
	}
	for d, want := range map[time.Duration]string{
		30 * time.Second: "just now", 5 * time.Minute: "5 min", 125 * time.Minute: "2 h 5 min", 72 * time.Hour: "3 d",
	} {
		if got := since(d); got != want {
			t.Errorf("since(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestParseLocal(t *testing.T) {
	t.Parallel()
	ams := amsterdam(t)
	for _, tc := range []struct {
		v    string
		end  bool
		want time.Time // zero: empty or an error
		bad  bool
	}{
		{"", false, time.Time{}, false},
		{"2026-03-01T09:00", false, time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC), false},
		{"2026-03-01T09:00", true, time.Date(2026, 3, 1, 8, 1, 0, 0, time.UTC), false},
		{"2026-07-01", false, time.Date(2026, 6, 30, 22, 0, 0, 0, time.UTC), false},
		{"2026-07-01", true, time.Date(2026, 7, 1, 22, 0, 0, 0, time.UTC), false},
		{"yesterday", false, time.Time{}, true},
		{"2026-13-01T09:00", false, time.Time{}, true},
	} {
		f := newForm(url.Values{"since": {tc.v}})
		got := parseLocal(f, "since", ams, tc.end)
		if !got.Equal(tc.want) || (f.Err("since") != "") != tc.bad {
			t.Errorf("parseLocal(%q, end=%v) = %v (error %q), want %v", tc.v, tc.end, got, f.Err("since"), tc.want)
		}
	}
}

func TestAutoLogoutFromForm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   url.Values
		want *hotdesk.AutoLogout
		errs []string // fields with an error
	}{
		{"site policy", url.Values{"al_mode": {"site"}, "al_max_duration": {"8h"}}, nil, nil},
		{"no mode", url.Values{}, nil, nil},
		{"own, never", url.Values{"al_mode": {"own"}}, &hotdesk.AutoLogout{}, nil},
		{"own", url.Values{"al_mode": {"own"}, "al_daily_at": {" 18:30 "}, "al_lost_registration": {"30m"}},
			&hotdesk.AutoLogout{DailyAt: "18:30", LostRegistration: "30m"}, nil},
		// Values are read as typed; internal/admin checks them (see
		// TestDeviceFormAutoLogoutErrors).
		{"bad values", url.Values{"al_mode": {"own"}, "al_daily_at": {"6pm"}, "al_idle_timeout": {"30s"}, "al_max_duration": {"-1h"}},
			&hotdesk.AutoLogout{DailyAt: "6pm", IdleTimeout: "30s", MaxDuration: "-1h"}, nil},
		{"bad mode", url.Values{"al_mode": {"weekly"}}, nil, []string{"al_mode"}},
	} {
		f := newForm(tc.in)
		got := autoLogoutFromForm(f)
		var errs []string
		for k := range f.Errors {
			errs = append(errs, k)
		}
		slices.Sort(errs)
		if !slices.Equal(errs, tc.errs) {
			t.Errorf("%s: errors on %v, want %v", tc.name, errs, tc.errs)
			continue
		}
		if tc.errs == nil && (got == nil) != (tc.want == nil) || got != nil && tc.want != nil && *got != *tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"": "/", "/users": "/users", "/audit?kind=login": "/audit?kind=login",
		"//evil.example/": "/", "https://evil.example/": "/", `/\evil.example`: "/", "users": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClockTime(t *testing.T) {
	t.Parallel()
	ams := amsterdam(t)
	now := time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC) // 09:30 in Amsterdam
	for _, tc := range []struct {
		t    time.Time
		loc  *time.Location
		want string
	}{
		{time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC), ams, "08:00"},
		{time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC), ams, "00:30"},              // today in Amsterdam, yesterday in UTC
		{time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC), nil, "Sun 1 Mar 23:30"},    // UTC when no zone
		{time.Date(2026, 2, 27, 16, 0, 0, 0, time.UTC), ams, "Fri 27 Feb 17:00"},   // an earlier day
		{time.Date(2025, 12, 31, 16, 0, 0, 0, time.UTC), ams, "31 Dec 2025 17:00"}, // an earlier year
	} {
		if got := clockTime(tc.t, now, tc.loc); got != tc.want {
			t.Errorf("clockTime(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

// TestUserFormNumbers checks the user form applies the API's E.164 rule
// (+ and 8 to 15 digits) to the caller ID and direct numbers; the console
// used to take + and 2 digits.
func TestUserFormNumbers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		field, v string
		ok       bool
	}{
		{"caller_id", "+31201234", true},
		{"caller_id", "+312012345678901", true},
		{"caller_id", "+12", false},
		{"caller_id", "+3120123", false},
		{"caller_id", "+3120123456789012", false},
		{"dids", "+31201234567, +31201234568", true},
		{"dids", "+31201234567 +12", false},
		{"dids", "+31201234567, +31201234567", false},
	} {
		hs := newHarness(t)
		c := hs.signIn()
		c.post("/users", url.Values{"extension": {"201"}, "name": {"Ann"}, "outbound": {"national"}})
		w := c.post("/users/201", url.Values{"name": {"Ann"}, "outbound": {"national"}, tc.field: {tc.v}})
		if ok := w.Code == http.StatusSeeOther; ok != tc.ok || !tc.ok && !strings.Contains(w.Body.String(), `id="err-`+tc.field+`"`) {
			t.Errorf("%s=%q: %d, want ok=%v", tc.field, tc.v, w.Code, tc.ok)
		}
	}
}

// TestDeviceFormAutoLogoutErrors checks that the service's errors, named
// by JSON field (auto_logout.daily_at, location.country), land on the
// device form's own fields (al_daily_at, country), all at once.
func TestDeviceFormAutoLogoutErrors(t *testing.T) {
	_, c := newSignedIn(t)
	w := c.post("/devices", url.Values{"id": {"HD00001"}, "mode": {"hotdesk"}, "model": {"generic"}, "country": {"Holland"},
		"al_mode": {"own"}, "al_daily_at": {"6pm"}, "al_idle_timeout": {"30s"}, "al_max_duration": {"-1h"}})
	for _, f := range []string{"country", "al_daily_at", "al_idle_timeout", "al_max_duration"} {
		if !strings.Contains(w.Body.String(), `id="err-`+f+`"`) {
			t.Errorf("no error at %s (%d)", f, w.Code)
		}
	}
	if w.Code != http.StatusBadRequest {
		t.Fatalf("status %d", w.Code)
	}
}

// amsterdam is the Europe/Amsterdam zone; without time zone data the test
// is skipped.
func amsterdam(t *testing.T) *time.Location {
	t.Helper()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	return ams
}

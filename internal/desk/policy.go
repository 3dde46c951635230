package desk

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // site time zones must resolve on hosts without tzdata

	"github.com/hotdesk-pbx/hotdesk"
)

// Policy names, stored in Login.Policy and in the audit Detail of an
// automatic logout.
const (
	PolicyDaily            = "daily"
	PolicyMaxDuration      = "max_duration"
	PolicyIdle             = "idle"
	PolicyLostRegistration = "lost_registration"
)

// effectivePolicy is the device's override when it has one (it replaces
// the site policy as a whole, so a device can also switch a policy off),
// else the site policy.
func effectivePolicy(st hotdesk.Settings, d *hotdesk.Device) hotdesk.AutoLogout {
	if d != nil && d.AutoLogout != nil {
		return *d.AutoLogout
	}
	return st.AutoLogout
}

// ValidatePolicy checks an auto-logout policy as the API receives it.
func ValidatePolicy(p hotdesk.AutoLogout) error {
	if p.DailyAt != "" {
		if _, _, err := parseHHMM(p.DailyAt); err != nil {
			return hotdesk.Invalidf("daily_at", "Daily logout time must be HH:MM (00:00–23:59).")
		}
	}
	for _, f := range []struct{ name, v string }{{"max_duration", p.MaxDuration}, {"idle_timeout", p.IdleTimeout},
		{"lost_registration", p.LostRegistration}} {
		if f.v == "" {
			continue
		}
		if d, err := time.ParseDuration(f.v); err != nil || d < time.Minute {
			return hotdesk.Invalidf(f.name, "%s must be a duration of at least 1m, e.g. 12h.", f.name)
		}
	}
	return nil
}

func parseHHMM(s string) (h, m int, err error) {
	hs, ms, ok := strings.Cut(s, ":")
	if ok && len(hs) == 2 && len(ms) == 2 {
		h, err1 := strconv.Atoi(hs)
		m, err2 := strconv.Atoi(ms)
		if err1 == nil && err2 == nil && h >= 0 && h < 24 && m >= 0 && m < 60 {
			return h, m, nil
		}
	}
	return 0, 0, fmt.Errorf("bad time of day %q", s)
}

// parsePolicyDuration returns 0 for "" or an invalid value (policy off).
func parsePolicyDuration(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0
	}
	return d
}

// nextDaily returns the first h:m wall-clock time in loc strictly after t.
// time.Date does the calendar arithmetic in loc, so the deadline stays at
// the same local time across DST changes (a day may be 23 or 25 hours).
func nextDaily(t time.Time, h, m int, loc *time.Location) time.Time {
	lt := t.In(loc)
	cand := time.Date(lt.Year(), lt.Month(), lt.Day(), h, m, 0, 0, loc)
	for i := 1; !cand.After(t) && i < 4; i++ {
		cand = time.Date(lt.Year(), lt.Month(), lt.Day()+i, h, m, 0, 0, loc)
	}
	return cand
}

// deadline computes the earliest auto-logout of a login under policy p, and
// which policy it is; ok is false when no policy applies.
func deadline(p hotdesk.AutoLogout, loc *time.Location, since, lastActivity time.Time) (at time.Time, policy string, ok bool) {
	consider := func(t time.Time, name string) {
		if !ok || t.Before(at) {
			at, policy, ok = t, name, true
		}
	}
	if h, m, err := parseHHMM(p.DailyAt); err == nil {
		consider(nextDaily(since, h, m, loc), PolicyDaily)
	}
	if d := parsePolicyDuration(p.MaxDuration); d > 0 {
		consider(since.Add(d), PolicyMaxDuration)
	}
	if d := parsePolicyDuration(p.IdleTimeout); d > 0 {
		last := lastActivity
		if last.Before(since) {
			last = since
		}
		consider(last.Add(d), PolicyIdle)
	}
	return at, policy, ok
}

// applyDeadline sets l.EndsAt and l.Policy from policy p.
func applyDeadline(l *hotdesk.Login, p hotdesk.AutoLogout, loc *time.Location) {
	at, name, ok := deadline(p, loc, l.Since, l.LastActivity)
	if !ok {
		l.EndsAt, l.Policy = nil, ""
		return
	}
	l.EndsAt, l.Policy = &at, name
}

var locations sync.Map // tz name → *time.Location

// location resolves an IANA zone name (cached); unknown names fall back to
// UTC with a warning.
func location(tz string, log *slog.Logger) *time.Location {
	if tz == "" {
		return time.UTC
	}
	if v, ok := locations.Load(tz); ok {
		return v.(*time.Location)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		log.Warn("unknown time zone; using UTC", "timezone", tz, "err", err)
		loc = time.UTC
	}
	locations.Store(tz, loc)
	return loc
}

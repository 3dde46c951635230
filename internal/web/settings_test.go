package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

func TestSettings(t *testing.T) {
	e := MustEnv(t)
	ch, cancel := e.bus.Subscribe(16)
	defer cancel()
	var s settingsOut
	e.do("GET", "/api/v1/settings", "").want(t, 200, &s)
	if s.FeatureCodes.Star35 != "*35" || s.Lang != "en" || s.Trunk.PasswordSet {
		t.Fatalf("defaults %+v", s)
	}
	body := `{"feature_codes":{"star35_enabled":true,"star35":"*36","star77_enabled":false,"star77":"*77","logout77":"5"},
		"emergency_numbers":["112","911"],"auto_logout":{"daily_at":"18:30","max_duration":"10h"},"lang":"nl",
		"timezone":"Europe/Amsterdam","trunk":{"enabled":true,"proxy":"sip.example.net:5060","register":true,
		"username":"acme","password":"trunk-secret-1","sources":["192.0.2.0/24","198.51.100.7"],"transport":"tcp"}}`
	r := e.do("PUT", "/api/v1/settings", body).want(t, 200, &s)
	if strings.Contains(string(r.Body), "trunk-secret-1") || !s.Trunk.PasswordSet || s.FeatureCodes.Star35 != "*36" ||
		s.AutoLogout.DailyAt != "18:30" || s.Lang != "nl" || s.CountryCode != "31" {
		t.Fatalf("PUT answered %s", r.Body)
	}
	stored, err := e.store.GetSettings(context.Background())
	if err != nil || stored.Trunk.Password != "trunk-secret-1" || stored.Timezone != "Europe/Amsterdam" || stored.Trunk.Transport != "tcp" {
		t.Fatalf("stored %+v %v", stored, err)
	}
	r = e.do("GET", "/api/v1/settings", "").want(t, 200, &s)
	if strings.Contains(string(r.Body), "trunk-secret-1") || !s.Trunk.PasswordSet || s.Trunk.Transport != "tcp" {
		t.Fatalf("GET shows the password or hides that it is set: %s", r.Body)
	}
	select {
	case ev := <-ch:
		if ev.Kind != hotdesk.KindSettings || ev.Source != Source {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no settings_changed event on the bus")
	}
	if n := e.auditCount(hotdesk.KindSettings); n != 1 {
		t.Errorf("settings audits %d", n)
	}

	// The GET document sent back keeps the password; password_set false clears it.
	e.do("PUT", "/api/v1/settings", string(r.Body)).want(t, 200, nil)
	if st, _ := e.store.GetSettings(context.Background()); st.Trunk.Password != "trunk-secret-1" {
		t.Fatalf("password lost on a round trip: %+v", st.Trunk)
	}
	e.do("PUT", "/api/v1/settings", `{"lang":"en"}`).want(t, 200, &s)
	if s.Lang != "en" || s.FeatureCodes.Star35 != "*36" || !s.Trunk.PasswordSet {
		t.Fatalf("partial PUT %+v", s)
	}
	e.do("PUT", "/api/v1/settings", `{"trunk":{"enabled":false,"password_set":false}}`).want(t, 200, &s)
	if st, _ := e.store.GetSettings(context.Background()); st.Trunk.Password != "" || s.Trunk.PasswordSet {
		t.Fatalf("password not cleared: %+v", st.Trunk)
	}
}

func TestSettingsValidation(t *testing.T) {
	e := MustEnv(t)
	before, _ := e.store.GetSettings(context.Background())
	for _, c := range []struct{ body, field string }{
		{`{"feature_codes":{"star35":"35"}}`, "feature_codes.star35"},
		{`{"feature_codes":{"star77":"*7a"}}`, "feature_codes.star77"},
		{`{"feature_codes":{"star77":"*35"}}`, "feature_codes.star77"},
		{`{"feature_codes":{"logout77":"x"}}`, "feature_codes.logout77"},
		{`{"emergency_numbers":[]}`, "emergency_numbers"},
		{`{"emergency_numbers":["11a"]}`, "emergency_numbers"},
		{`{"auto_logout":{"daily_at":"7pm"}}`, "auto_logout.daily_at"},
		{`{"auto_logout":{"max_duration":"10s"}}`, "auto_logout.max_duration"},
		{`{"auto_logout":{"idle_timeout":"forever"}}`, "auto_logout.idle_timeout"},
		{`{"lang":"de"}`, "lang"},
		{`{"timezone":"Mars/Olympus"}`, "timezone"},
		{`{"timezone":""}`, "timezone"},
		{`{"country_code":"+31"}`, "country_code"},
		{`{"trunk":{"enabled":true}}`, "trunk.proxy"},
		{`{"trunk":{"proxy":"sip.example.net"}}`, "trunk.proxy"},
		{`{"trunk":{"proxy":"not a host:99999"}}`, "trunk.proxy"},
		{`{"trunk":{"sources":["10.0.0.300"]}}`, "trunk.sources"},
		{`{"trunk":{"register":true,"proxy":"a:5060"}}`, "trunk.username"},
		{`{"trunk":null}`, "trunk"},
		{`{"trunk":{"transport":"sctp"}}`, "trunk.transport"},
		{`{"limits":{"calls_per_device":0}}`, "limits.calls_per_device"},
		{`{"limits":{"subscriptions_per_device":-1}}`, "limits.subscriptions_per_device"},
		{`{"limits":{"subscriptions_per_extension":1000000}}`, "limits.subscriptions_per_extension"},
		{`{"lang":1}`, "lang"},
		{`{"colour":"red"}`, "colour"},
	} {
		e.do("PUT", "/api/v1/settings", c.body).wantErr(t, 400, hotdesk.EINVALID, c.field)
	}
	after, _ := e.store.GetSettings(context.Background())
	if after.Lang != before.Lang || after.FeatureCodes != before.FeatureCodes || after.Timezone != before.Timezone {
		t.Fatalf("bad PUTs changed settings: %+v", after)
	}
	if n := e.auditCount(hotdesk.KindSettings); n != 0 {
		t.Errorf("bad PUTs audited %d times", n)
	}
}

func TestAudit(t *testing.T) {
	e := MustEnv(t)
	e.MustUser("201")
	e.MustUser("202")
	d := e.MustDesk()
	e.clock.Advance(time.Hour)
	mid := e.clock.Now()
	e.do("POST", "/api/v1/logins", `{"extension":"201","device":"`+d+`"}`).want(t, 201, nil)
	e.clock.Advance(time.Hour)
	e.do("POST", "/api/v1/logins", `{"extension":"202","device":"`+d+`"}`).want(t, 201, nil)

	var es []hotdesk.AuditEvent
	r := e.do("GET", "/api/v1/audit?extension=201", "").want(t, 200, &es)
	// user_changed (create), login, logout (replaced)
	if len(es) != 3 || r.Header.Get("X-Total-Count") != "3" || es[0].Kind != hotdesk.KindLogout {
		t.Fatalf("extension filter %+v", es)
	}
	e.do("GET", "/api/v1/audit?kind=login&kind=logout", "").want(t, 200, &es)
	if len(es) != 3 {
		t.Fatalf("kind repeated %+v", es)
	}
	e.do("GET", "/api/v1/audit?kind=login,device_changed&device="+d, "").want(t, 200, &es)
	if len(es) != 3 {
		t.Fatalf("kind comma + device %+v", es)
	}
	e.do("GET", "/api/v1/audit?since="+mid.Add(time.Minute).Format(time.RFC3339), "").want(t, 200, &es)
	if len(es) != 2 { // the second login: 201 replaced, 202 logged in
		t.Fatalf("since %+v", es)
	}
	for _, a := range es {
		if a.Time.Before(mid) {
			t.Fatalf("since let through %+v", a)
		}
	}
	e.do("GET", "/api/v1/audit?until="+mid.Add(-time.Minute).Format(time.RFC3339), "").want(t, 200, &es)
	if len(es) != 3 || es[0].Kind != hotdesk.KindDeviceChanged {
		t.Fatalf("until %+v", es)
	}
	var page []hotdesk.AuditEvent
	r = e.do("GET", "/api/v1/audit?offset=1&limit=2", "").want(t, 200, &page)
	var all []hotdesk.AuditEvent
	e.do("GET", "/api/v1/audit", "").want(t, 200, &all)
	if len(page) != 2 || page[0].ID != all[1].ID || r.Header.Get("X-Total-Count") != "6" || len(all) != 6 {
		t.Fatalf("page %+v of %d (total %s)", page, len(all), r.Header.Get("X-Total-Count"))
	}
	for _, c := range []struct{ q, field string }{
		{"kind=bogus", "kind"}, {"since=yesterday", "since"}, {"until=2026-13-01T00:00:00Z", "until"},
		{"since=2026-03-02T10:00:00Z&until=2026-03-02T09:00:00Z", "until"}, {"limit=0", "limit"},
		{"limit=5000", "limit"}, {"offset=x", "offset"}, {"extension=abc", "extension"}, {"before_id=-3", "before_id"},
		{"offset=9999&limit=10", "offset"},
	} {
		e.do("GET", "/api/v1/audit?"+c.q, "").wantErr(t, 400, hotdesk.EINVALID, c.field)
	}
}

// Issue 11 items 3 and 4: the per-phone limits are settings with defaults,
// read and written through the API; fields not given keep their values.
func TestSettingsLimits(t *testing.T) {
	e := MustEnv(t)
	var s hotdesk.Settings
	e.do("GET", "/api/v1/settings", "").want(t, 200, &s)
	if s.Limits != (hotdesk.LimitSettings{CallsPerDevice: 4, SubscriptionsPerDevice: 100, SubscriptionsPerExtension: 500}) {
		t.Fatalf("default limits %+v", s.Limits)
	}
	e.do("PUT", "/api/v1/settings", `{"limits":{"calls_per_device":2}}`).want(t, 200, &s)
	st, _ := e.store.GetSettings(context.Background())
	if st.Limits.CallsPerDevice != 2 || st.Limits.SubscriptionsPerDevice != 100 || s.Limits != st.Limits {
		t.Fatalf("stored %+v, returned %+v", st.Limits, s.Limits)
	}
}

package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestSettingsValidationAndSave(t *testing.T) {
	hs, c := newSignedIn(t)
	// The browser must not fill the saved console password into the trunk's.
	mustContain(t, c.get("/settings"), 200, `value="*35"`, `value="112, 911, 999"`, `id="f-trunk_password" type="password" value="" autocomplete="new-password"`)
	form := url.Values{"star35_enabled": {"on"}, "star35": {"*35"}, "star77": {"77"}, "logout77": {"5"},
		"emergency": {"112, 11a"}, "daily_at": {"25:00"}, "lang": {"de"}, "timezone": {"Mars/Base"},
		"national_prefix": {"0"}, "international_prefix": {"00"}, "country_code": {"31"},
		"trunk_enabled": {"on"}, "trunk_sources": {"10.0.0.0/8, nonsense"}, "trunk_password": {"s3cret"},
		"trunk_transport": {"sctp"}}
	mustContain(t, c.post("/settings", form), http.StatusBadRequest, "A feature code is *", "Emergency number 11a",
		"Daily logout time", "Language must be", "Time zone must be", "An enabled trunk needs a proxy",
		"Source nonsense", `value="Mars/Base"`, "Transport must be udp, tcp or tls.")
	if strings.Contains(c.post("/settings", form).Body.String(), "s3cret") {
		t.Fatal("trunk password echoed")
	}
	setForm(form, url.Values{"star77": {"*77"}, "emergency": {"112 911"}, "daily_at": {"03:00"}, "lang": {"nl"},
		"timezone": {"Europe/Amsterdam"}, "trunk_proxy": {"sip.example.net:5060"}, "trunk_sources": {"10.0.0.0/8 192.0.2.7"},
		"trunk_transport": {"tcp"}})
	c.mustPost("/settings", form)
	s, err := hs.store.GetSettings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Lang != "nl" || s.AutoLogout.DailyAt != "03:00" || len(s.Emergency) != 2 || s.Trunk.Password != "s3cret" || s.FeatureCodes.Star77Enabled ||
		s.Trunk.Transport != "tcp" {
		t.Fatalf("settings stored: %+v", s)
	}
	mustContain(t, c.get("/settings"), 200, `<option value="tcp" selected>TCP</option>`)
	form.Del("trunk_password")
	c.post("/settings", form)
	if s, _ := hs.store.GetSettings(context.Background()); s.Trunk.Password != "s3cret" {
		t.Fatal("an empty password field must keep the stored password")
	}
}

// The per-phone limits are on the settings page; a bad one is named, and
// saved ones are stored.
func TestSettingsLimits(t *testing.T) {
	hs, c := newSignedIn(t)
	mustContain(t, c.get("/settings"), 200, `id="f-calls_per_device" type="number" value="4"`, `value="100"`, `value="500"`)
	form := baseSettingsForm()
	setForm(form, url.Values{"calls_per_device": {"0"}, "subscriptions_per_device": {"many"}, "subscriptions_per_extension": {"50"}})
	mustContain(t, c.post("/settings", form), http.StatusBadRequest, "Calls per device must be a number from 1 to 1000",
		"Subscriptions per device must be a number")
	form.Set("calls_per_device", "2")
	form.Set("subscriptions_per_device", "20")
	c.mustPost("/settings", form)
	s, _ := hs.store.GetSettings(context.Background())
	if s.Limits.CallsPerDevice != 2 || s.Limits.SubscriptionsPerDevice != 20 || s.Limits.SubscriptionsPerExtension != 50 {
		t.Fatalf("limits stored: %+v", s.Limits)
	}
}

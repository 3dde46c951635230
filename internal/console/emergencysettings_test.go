package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// baseSettingsForm is a valid settings form as the page sends it.
func baseSettingsForm() url.Values {
	return url.Values{"star35_enabled": {"on"}, "star35": {"*35"}, "star77_enabled": {"on"}, "star77": {"*77"}, "logout77": {"5"},
		"emergency": {"112, 911, 999"}, "lang": {"en"}, "timezone": {"UTC"}, "national_prefix": {"0"}, "international_prefix": {"00"},
		"country_code": {"31"}}
}

// The settings page edits the emergency alerts (issue 16): the form shows
// the stored values, bad ones are named on their own fields, good ones are
// stored, and a form without the fieldset keeps them and the trunks.
func TestSettingsEmergencyAlerts(t *testing.T) {
	hs, c := newSignedIn(t)
	ctx := context.Background()
	mustContain(t, c.get("/settings"), 200, `id="emergency-alerts"`, `id="f-escalate_minutes" type="number" value="3"`,
		`id="f-callback_minutes" type="number" value="60"`, `id="f-test_number" type="text" value="933"`, `href="/settings/trunks"`)

	form := baseSettingsForm()
	setForm(form, url.Values{"alert_extensions": {"201, 2x"}, "escalate_extensions": {"9"}, "escalate_minutes": {"soon"},
		"alert_emails": {"desk@example.com, nobody"}, "callback_minutes": {"5000"}, "test_number": {"112"}})
	mustContain(t, c.post("/settings", form), http.StatusBadRequest, `id="err-alert_extensions"`, `id="err-escalate_extensions"`,
		`id="err-escalate_minutes"`, `id="err-alert_emails"`, `id="err-callback_minutes"`,
		`The test number must not be an emergency number.`, `value="201, 2x"`, `value="desk@example.com, nobody"`)
	if s, _ := hs.store.GetSettings(ctx); len(s.EmergencyAlerts.AlertExtensions) != 0 || s.EmergencyAlerts.TestNumber != "933" {
		t.Fatalf("invalid form stored: %+v", s.EmergencyAlerts)
	}

	// Further trunks are set elsewhere; saving this page must keep them.
	hs.changeSettings(func(st *hotdesk.Settings) {
		st.Trunks = []hotdesk.Trunk{{Name: "site-b", Enabled: true, Proxy: "127.0.0.1:5090", Password: "pw"}}
	})
	setForm(form, url.Values{"alert_extensions": {"201; 202"}, "escalate_extensions": {"300"}, "escalate_minutes": {"5"},
		"alert_emails": {"desk@example.com"}, "callback_minutes": {"90"}, "test_number": {"934"}})
	c.mustPost("/settings", form)
	s, _ := hs.store.GetSettings(ctx)
	want := hotdesk.EmergencySettings{AlertExtensions: []string{"201", "202"}, EscalateExtensions: []string{"300"}, EscalateMinutes: 5,
		AlertEmails: []string{"desk@example.com"}, CallbackMinutes: 90, TestNumber: "934"}
	if !equalEmergency(s.EmergencyAlerts, want) {
		t.Fatalf("stored %+v, want %+v", s.EmergencyAlerts, want)
	}
	if len(s.Trunks) != 1 || s.Trunks[0].Name != "site-b" || s.Trunks[0].Password != "pw" {
		t.Fatalf("the settings page lost the further trunks: %+v", s.Trunks)
	}
	mustContain(t, c.get("/settings"), 200, `value="201, 202"`, `value="300"`, `id="f-escalate_minutes" type="number" value="5"`,
		`value="desk@example.com"`, `id="f-callback_minutes" type="number" value="90"`, `value="934"`)

	// A form without the fieldset (an older page, another client) keeps it.
	c.mustPost("/settings", baseSettingsForm())
	if s, _ := hs.store.GetSettings(ctx); !equalEmergency(s.EmergencyAlerts, want) || len(s.Trunks) != 1 {
		t.Fatalf("a form without the emergency fieldset reset it: %+v %+v", s.EmergencyAlerts, s.Trunks)
	}
	// Empty minutes are the defaults, empty lists and test number are off.
	for _, k := range []string{"alert_extensions", "escalate_extensions", "escalate_minutes", "alert_emails", "callback_minutes", "test_number"} {
		form.Set(k, "")
	}
	c.mustPost("/settings", form)
	if s, _ := hs.store.GetSettings(ctx); len(s.EmergencyAlerts.AlertExtensions)+len(s.EmergencyAlerts.AlertEmails) != 0 ||
		s.EmergencyAlerts.TestNumber != "" || s.EmergencyAlerts.CallbackMinutes != 0 {
		t.Fatalf("cleared fields stored as %+v", s.EmergencyAlerts)
	}
}

func equalEmergency(a, b hotdesk.EmergencySettings) bool {
	return slices.Equal(a.AlertExtensions, b.AlertExtensions) && slices.Equal(a.EscalateExtensions, b.EscalateExtensions) &&
		slices.Equal(a.AlertEmails, b.AlertEmails) && a.EscalateMinutes == b.EscalateMinutes &&
		a.CallbackMinutes == b.CallbackMinutes && a.TestNumber == b.TestNumber
}

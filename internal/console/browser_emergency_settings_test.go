package console

import (
	"context"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
)

// typeInto replaces an input's value by typing, as an admin does.
func typeInto(id, v string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{chromedp.Clear(chromedp.ID(id)), chromedp.SendKeys(chromedp.ID(id), v)}
}

// TestBrowserEmergencySettings fills the "Emergency alerts" fieldset in
// Chromium: a bad extension is named beside its field, the good values
// are saved and read back after a reload; a trunk added on the trunks
// page is then offered by the site form's emergency trunk select.
func TestBrowserEmergencySettings(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	ctx, base := hs.browse(t)

	step(t, ctx, "settings", chromedp.Navigate(base+"/settings"), chromedp.WaitVisible(chromedp.ID("f-alert_extensions")))
	var fill []chromedp.Action[chromedp.Void]
	for _, kv := range [][2]string{{"f-alert_extensions", "201, 2x"}, {"f-escalate_extensions", "300"}, {"f-escalate_minutes", "7"},
		{"f-alert_emails", "desk@example.com, ops@example.com"}, {"f-callback_minutes", "120"}, {"f-test_number", "934"}} {
		fill = append(fill, typeInto(kv[0], kv[1])...)
	}
	step(t, ctx, "fill emergency alerts", fill...)
	submit(t, ctx, "save settings", `form[action="/settings"] button[type=submit]`)
	waitFor(t, ctx, "alert extension named", `document.querySelector('#err-alert_extensions')?.closest('label').querySelector('input').id === 'f-alert_extensions'`)
	step(t, ctx, "fix the extension", typeInto("f-alert_extensions", "201, 202")...)
	submit(t, ctx, "save settings again", `form[action="/settings"] button[type=submit]`)
	waitFor(t, ctx, "saved", `document.body.innerText.includes('Settings saved.')`)
	step(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("f-alert_extensions")))
	got := eval[[]string](t, ctx, `['alert_extensions','escalate_extensions','escalate_minutes','alert_emails','callback_minutes','test_number'].map(n => document.getElementById('f-'+n).value)`)
	want := []string{"201, 202", "300", "7", "desk@example.com, ops@example.com", "120", "934"}
	if !slices.Equal(got, want) {
		t.Fatalf("after reload the fieldset reads %q, want %q", got, want)
	}
	s, _ := hs.store.GetSettings(context.Background())
	if e := s.EmergencyAlerts; !slices.Equal(e.AlertExtensions, []string{"201", "202"}) || e.EscalateMinutes != 7 || e.CallbackMinutes != 120 ||
		e.TestNumber != "934" || len(e.AlertEmails) != 2 {
		t.Fatalf("stored %+v", e)
	}

	// A further trunk, then a site that sends its emergency calls through it.
	step(t, ctx, "trunks page", chromedp.Navigate(base+"/settings/trunks"), chromedp.WaitVisible(chromedp.ID("f-t0_name")))
	step(t, ctx, "fill trunk", append(typeInto("f-t0_name", "site-b"), typeInto("f-t0_proxy", "127.0.0.1:5080")...)...)
	submit(t, ctx, "save trunks", `form[action="/settings/trunks"] button[type=submit]`)
	waitFor(t, ctx, "trunk saved", `document.body.innerText.includes('Trunks saved.') && document.querySelector('input[name=t0_orig]')?.value === 'site-b'`)
	step(t, ctx, "sites page", chromedp.Navigate(base+"/sites"), chromedp.WaitVisible(chromedp.ID("f-trunk")))
	step(t, ctx, "new site", append(typeInto("f-name", "Utrecht"), chromedp.SetValue(chromedp.ID("f-trunk"), "site-b"))...)
	submit(t, ctx, "create site", `form[action="/sites"] button`)
	waitFor(t, ctx, "site listed with its trunk", `document.querySelector('#sites td[data-label=Trunk]')?.textContent === 'site-b'`)
}

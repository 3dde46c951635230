package console

import (
	"strconv"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
)

// The "Emergency alerts" fieldset of the settings page (issue 16): who is
// alerted on an emergency call, when it escalates, the callback window and
// the test number. Lists are comma-separated text; validation is
// internal/admin's (checkEmergencySettings), whose fields
// (emergency.alert_extensions …) settingsField names by their last part.

// emergencyFormValues puts the emergency alert settings on the form.
func emergencyFormValues(f *form, e hotdesk.EmergencySettings) {
	f.Values.Set("alert_extensions", strings.Join(e.AlertExtensions, ", "))
	f.Values.Set("escalate_extensions", strings.Join(e.EscalateExtensions, ", "))
	f.Values.Set("escalate_minutes", strconv.Itoa(e.EscalateMinutes))
	f.Values.Set("alert_emails", strings.Join(e.AlertEmails, ", "))
	f.Values.Set("callback_minutes", strconv.Itoa(e.CallbackMinutes))
	f.Values.Set("test_number", e.TestNumber)
}

// emergencyFromForm reads the emergency alert settings; a field the form
// did not send keeps its current value, an empty number is 0 (the
// default) and one that is not a number is out of range (named by
// validation).
func emergencyFromForm(f *form, cur hotdesk.EmergencySettings) hotdesk.EmergencySettings {
	sent := func(name string) bool { _, ok := f.Values[name]; return ok }
	list := func(name string, v *[]string) {
		if sent(name) {
			*v = splitList(f.Get(name))
		}
	}
	num := func(name string, v *int) {
		if sent(name) {
			*v = f.Int(name, 0)
		}
	}
	list("alert_extensions", &cur.AlertExtensions)
	list("escalate_extensions", &cur.EscalateExtensions)
	list("alert_emails", &cur.AlertEmails)
	num("escalate_minutes", &cur.EscalateMinutes)
	num("callback_minutes", &cur.CallbackMinutes)
	if sent("test_number") {
		cur.TestNumber = strings.TrimSpace(f.Get("test_number"))
	}
	return cur
}

package console

import (
	"context"
	"net/http"
	"net/url"
	"testing"
)

// TestSettingsPromptTimeouts: the settings page shows and saves the digit
// timeouts of prompted logins, with the same checks as the API; a form
// without them keeps the stored values.
func TestSettingsPromptTimeouts(t *testing.T) {
	hs, c := newSignedIn(t)
	mustContain(t, c.get("/settings"), 200, `id="f-first_digit_seconds" type="number" value="10"`,
		`id="f-inter_digit_seconds" type="number" value="10"`)
	form := url.Values{"star35_enabled": {"on"}, "star35": {"*35"}, "star77": {"*77"}, "logout77": {"5"},
		"emergency": {"112"}, "lang": {"en"}, "timezone": {"UTC"},
		"national_prefix": {"0"}, "international_prefix": {"00"}, "country_code": {"31"},
		"first_digit_seconds": {"2"}, "inter_digit_seconds": {"ten"}}
	mustContain(t, c.post("/settings", form), http.StatusBadRequest,
		"The wait for the first key must be 3 to 60 seconds", "The wait between keys must be 3 to 60 seconds")
	form.Set("first_digit_seconds", "20")
	form.Set("inter_digit_seconds", " 15 ")
	c.mustPost("/settings", form)
	s, err := hs.store.GetSettings(context.Background())
	if err != nil || s.Prompts.FirstDigitSeconds != 20 || s.Prompts.InterDigitSeconds != 15 {
		t.Fatalf("stored %+v %v", s.Prompts, err)
	}
	form.Del("first_digit_seconds")
	form.Del("inter_digit_seconds")
	c.mustPost("/settings", form)
	if s, _ := hs.store.GetSettings(context.Background()); s.Prompts.FirstDigitSeconds != 20 {
		t.Fatalf("a form without the timeouts changed them: %+v", s.Prompts)
	}
}

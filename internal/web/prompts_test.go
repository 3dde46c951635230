package web

import (
	"context"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// TestSettingsPrompts: the digit timeouts of prompted logins are in the
// settings document, default 10 s each, each settable on its own and
// checked (3 to 60 s) with the field named.
func TestSettingsPrompts(t *testing.T) {
	e := MustEnv(t)
	var s settingsOut
	e.do("GET", "/api/v1/settings", "").want(t, 200, &s)
	if s.Prompts != (hotdesk.PromptSettings{FirstDigitSeconds: 10, InterDigitSeconds: 10}) {
		t.Fatalf("default prompts %+v", s.Prompts)
	}
	e.do("PUT", "/api/v1/settings", `{"prompts":{"first_digit_seconds":15}}`).want(t, 200, &s)
	if s.Prompts != (hotdesk.PromptSettings{FirstDigitSeconds: 15, InterDigitSeconds: 10}) {
		t.Fatalf("after PUT %+v", s.Prompts)
	}
	for _, c := range []struct{ body, field string }{
		{`{"prompts":{"first_digit_seconds":2}}`, "prompts.first_digit_seconds"},
		{`{"prompts":{"inter_digit_seconds":61}}`, "prompts.inter_digit_seconds"},
		{`{"prompts":{"inter_digit_seconds":"10"}}`, "prompts.inter_digit_seconds"},
	} {
		e.do("PUT", "/api/v1/settings", c.body).wantErr(t, 400, hotdesk.EINVALID, c.field)
	}
	if st, _ := e.store.GetSettings(context.Background()); st.Prompts.FirstDigitSeconds != 15 || st.Prompts.InterDigitSeconds != 10 {
		t.Fatalf("stored %+v", st.Prompts)
	}
}

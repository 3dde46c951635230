package feature_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// TestSlowSIPInfoClientWithinSettingsTimeouts: the digit timeouts come
// from the site settings. A client whose INFO keys come 2.5 s apart (as
// linphone's did, handled seconds late) logs in with a 4 s inter-digit
// setting; with the harness's 2 s it would time out.
func TestSlowSIPInfoClientWithinSettingsTimeouts(t *testing.T) {
	t.Parallel()
	p := mustPBX(t)
	st, _ := p.store.GetSettings(context.Background())
	st.Prompts = hotdesk.PromptSettings{FirstDigitSeconds: 3, InterDigitSeconds: 4}
	if err := p.store.PutSettings(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	p.mustUser(t, "201", "1234", true)
	c := mustDial(t, p.mustPhone(t, "HD00001", hotdesk.ModeHotdesk), "*35*201")
	p.hear(t, c, toPrompt, "enter_pin")
	for _, keys := range []string{"1", "2", "34#"} {
		if keys != "1" {
			time.Sleep(2500 * time.Millisecond)
		}
		if err := c.SendKeysInfo(keys); err != nil {
			t.Fatal(err)
		}
	}
	p.hear(t, c, toEnd, loggedIn201...)
	p.wantLogin(t, "HD00001", "201")
}

// TestPromptedLoginTimeoutIsAudited: a caller who stops typing the PIN
// hears goodbye, is hung up on, and the attempt is in the audit trail as
// login_failed/timeout without the digits typed.
func TestPromptedLoginTimeoutIsAudited(t *testing.T) {
	t.Parallel()
	p, ph := deskPBX(t)
	c := mustDial(t, ph, "*35*201")
	p.hear(t, c, toPrompt, "enter_pin")
	if err := c.SendKeysInfo("12"); err != nil {
		t.Fatal(err)
	}
	p.hear(t, c, toPrompt, "goodbye")
	mustBye(t, c)
	es, err := p.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindLoginFailed}})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 {
		t.Fatalf("%d login_failed rows, want 1: %+v", len(es), es)
	}
	e := es[0]
	if e.Extension != "201" || e.Device != "HD00001" || e.Reason != hotdesk.ReasonTimeout || e.Detail != "pin" || e.Source == "" {
		t.Errorf("audit %+v", e)
	}
	p.wantLogin(t, "HD00001", "")
}

package provision

import (
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// TestVoicemailKeyAndMWI: every vendor's configuration, neutral or logged
// in, points the message key at *97 and subscribes to message-summary, so
// the lamp and the key serve whoever is logged in on the phone.
func TestVoicemailKeyAndMWI(t *testing.T) {
	want := map[string][]string{
		hotdesk.ModelSnom: {`<user_mailbox idx="1" perm="R">*97</user_mailbox>`},
		hotdesk.ModelYealink: {"\naccount.1.subscribe_mwi = 1\n", "\naccount.1.subscribe_mwi_to_vm = 0\n",
			"\nvoice_mail.number.1 = *97\n"},
		hotdesk.ModelGrandstream: {"<P33>*97</P33>", "<P99>1</P99>"},
	}
	for vendorName, lines := range want {
		for _, state := range []string{"neutral", "loggedin"} {
			s := fixture(vendorName)
			if state == "loggedin" {
				s.login("HD00001", "201")
			}
			got := string(renderFor(t, s, vendorName))
			for _, l := range lines {
				if !strings.Contains(got, l) {
					t.Errorf("%s %s lacks %q:\n%s", vendorName, state, l, got)
				}
			}
		}
	}
}

// TestVoicemailKeyFollowsSetting: a site that moved the mailbox code gets
// it on the message key.
func TestVoicemailKeyFollowsSetting(t *testing.T) {
	s := fixture(hotdesk.ModelYealink)
	s.editSettings(func(st *hotdesk.Settings) { st.FeatureCodes.Voicemail = "*555" })
	if got := string(renderFor(t, s, hotdesk.ModelYealink)); !strings.Contains(got, "\nvoice_mail.number.1 = *555\n") {
		t.Fatalf("Yealink config lacks the mailbox code *555:\n%s", got)
	}
}

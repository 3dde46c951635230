package mail

import (
	"fmt"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// texts are the email's words per language (the PBX language).
var texts = map[string]struct{ subject, body, unknown string }{
	"en": {"Voicemail from %s (%s)", "You have a new voicemail message.\n\nFrom: %s\nReceived: %s\nLength: %s\nMailbox: %s\n\nThe recording is attached. Dial %s on your phone to listen to it there.\n", "an unknown caller"},
	"nl": {"Voicemail van %s (%s)", "U hebt een nieuw voicemailbericht.\n\nVan: %s\nOntvangen: %s\nDuur: %s\nVoicemailbox: %s\n\nDe opname zit in de bijlage. Kies %s op uw telefoon om hem daar te beluisteren.\n", "een onbekende beller"},
}

// compose builds the email for message v of user u, in the site's
// language and time zone.
func compose(u *hotdesk.User, v *hotdesk.Voicemail, wav []byte, st hotdesk.Settings, loc *time.Location) *hotdesk.Mail {
	code, _ := st.FeatureCodes.VoicemailCodes()
	t, ok := texts[st.Lang]
	if !ok {
		t = texts["en"]
	}
	from := strings.TrimSpace(v.Caller)
	if v.CallerName != "" {
		from = strings.TrimSpace(v.CallerName + " " + from)
	}
	if from == "" {
		from = t.unknown
	}
	s := (v.DurationMS + 500) / 1000
	length := fmt.Sprintf("%d:%02d", s/60, s%60)
	return &hotdesk.Mail{
		To:             u.Email,
		Subject:        fmt.Sprintf(t.subject, from, length),
		Body:           fmt.Sprintf(t.body, from, v.ReceivedAt.In(loc).Format("2006-01-02 15:04"), length, u.Extension, code),
		AttachmentName: fmt.Sprintf("voicemail-%s-%d.wav", u.Extension, v.ID),
		Attachment:     wav,
	}
}

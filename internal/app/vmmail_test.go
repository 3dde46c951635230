package app

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/mail/mailtest"
)

// TestServeVoicemailReachesLampAndMailbox: a real deposit in the running
// PBX lights the lamp of the desk the user then logs in on, and is mailed
// to the user with the recording attached (a plain SMTP server on
// loopback, written here).
func TestServeVoicemailReachesLampAndMailbox(t *testing.T) {
	r := mustStart(t, testConfig(t.TempDir(), true))
	smtp := mailtest.Start(t, false)
	var st hotdesk.Settings
	if code := r.api(t, "GET", "/settings", "", &st); code != http.StatusOK {
		t.Fatalf("GET /settings: %d", code)
	}
	st.Voicemail.SilenceSeconds = 3
	st.Mail = hotdesk.MailSettings{Enabled: true, Host: "127.0.0.1", Port: smtp.Port(), From: "pbx@example.com"}
	b, _ := json.Marshal(st)
	if code := r.api(t, "PUT", "/settings", string(b), nil); code != http.StatusOK {
		t.Fatalf("PUT /settings: %d", code)
	}
	if code := r.api(t, "PATCH", "/users/202", `{"voicemail":true,"email":"bram@example.com"}`, nil); code != http.StatusOK {
		t.Fatalf("PATCH /users/202: %d", code)
	}
	hd1 := demoPhone(t, r, "HD00001")
	loginByPhone(t, hd1, "*35*201*1234")
	leaveMessage(t, hd1, "202", 2*time.Second)
	v := waitMessages(t, r.Store(), "202", 1)[0]

	hd2 := demoPhone(t, r, "HD00002")
	loginByPhone(t, hd2, "*35*202*1234")
	lamp(t, hd2, "yes sip:202@hotdesk.local 1/0")

	data := smtp.Wait(t, 1, 15*time.Second)[0].Data
	msg, err := netmail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if to := msg.Header.Get("To"); to != "<bram@example.com>" {
		t.Errorf("To %q", to)
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	mr := multipart.NewReader(msg.Body, params["boundary"])
	if _, err := mr.NextPart(); err != nil {
		t.Fatal(err)
	}
	att, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(att)
	wav, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
	stored, _ := r.Store().VoicemailAudio(t.Context(), "202", v.ID)
	if err != nil || string(wav) != string(stored) || len(wav) < 16000 {
		t.Fatalf("attachment: %d bytes (stored %d), %v", len(wav), len(stored), err)
	}
}

package console

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/media/g711"
	"github.com/hotdesk-pbx/hotdesk/internal/media/mediatest"
	"github.com/hotdesk-pbx/hotdesk/internal/media/wav"
)

// mulawWAV is a μ-law WAV (format 7, 8 kHz mono, as the recorder stores
// G.711 PCMU) of secs seconds of a 440 Hz tone.
func mulawWAV(secs float64) []byte {
	b, err := wav.EncodeG711("PCMU", g711.EncodeUlaw(nil, mediatest.Tone(440, time.Duration(secs*float64(time.Second)))))
	if err != nil {
		panic(err)
	}
	return b
}

// voicemailHarness is a console with user 201 and one 2.5 s new message.
func voicemailHarness(t *testing.T) (*harness, *hotdesk.Voicemail) {
	t.Helper()
	hs := newHarness(t)
	ctx := context.Background()
	hs.addUser(&hotdesk.User{Extension: "201", Name: "Ann", Hotdesk: true, Voicemail: true, Outbound: "national"})
	v := &hotdesk.Voicemail{Extension: "201", Caller: "0612345678", CallerName: "Piet", DurationMS: 2500, New: true, Codec: "PCMU",
		ReceivedAt: hs.clock.Now().Add(-time.Hour)}
	if err := hs.store.CreateVoicemail(ctx, v, mulawWAV(2.5)); err != nil {
		t.Fatal(err)
	}
	return hs, v
}

// TestVoicemailOnUserPage: the user page lists the message with a player
// whose source serves the WAV with Range; mark heard and delete are
// CSRF-checked, audited as console:<admin> and published.
func TestVoicemailOnUserPage(t *testing.T) {
	t.Parallel()
	hs, v := voicemailHarness(t)
	c := hs.signIn()
	id := strconv.FormatInt(v.ID, 10)
	audio := "/users/201/voicemail/" + id + "/audio"
	mustContain(t, c.get("/users/201"), 200, `id="voicemail"`, `<audio controls preload="metadata" src="`+audio+`"`,
		"0612345678", "Piet", "0:03", "Mark heard")

	w := c.get(audio)
	wav := mulawWAV(2.5)
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), wav) || w.Header().Get("Content-Type") != "audio/wav" {
		t.Fatalf("audio: %d %q %d bytes", w.Code, w.Header().Get("Content-Type"), w.Body.Len())
	}
	w = hs.do(c, "GET", audio, nil, "Range", "bytes=44-")
	if w.Code != http.StatusPartialContent || !bytes.Equal(w.Body.Bytes(), wav[44:]) {
		t.Fatalf("range: %d %q", w.Code, w.Header().Get("Content-Range"))
	}
	if w := hs.do(nil, "GET", audio, nil); w.Code == 200 {
		t.Fatal("audio served without signing in")
	}
	mustContain(t, c.get("/users/201/voicemail/999/audio"), 404)

	ch, stop := hs.bus.Subscribe(16)
	defer stop()
	// A form without the CSRF token changes nothing.
	if w := hs.do(c, "POST", "/users/201/voicemail/"+id, url.Values{"new": {"0"}}); w.Code != http.StatusForbidden {
		t.Fatalf("mark without CSRF: %d", w.Code)
	}
	if w := c.post("/users/201/voicemail/"+id, url.Values{"new": {"0"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("mark heard: %d %s", w.Code, w.Body)
	}
	e := <-ch
	if e.Kind != hotdesk.KindVoicemail || e.Reason != hotdesk.VoicemailRead || e.Source != "console:admin" || e.Detail != "id="+id+" new=0 old=1" {
		t.Fatalf("event %+v", e)
	}
	mustContain(t, c.get("/users/201"), 200, "Marked the message heard.", "Mark new")

	if w := c.post("/users/201/voicemail/"+id+"/delete", nil); w.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	mustContain(t, c.get("/users/201"), 200, "Deleted the message.", "No messages.")
	as, err := hs.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindVoicemail}})
	if err != nil || len(as) != 2 || as[0].Source != "console:admin" {
		t.Fatalf("audit %v %+v", err, as)
	}
	mustContain(t, c.post("/users/201/voicemail/"+id+"/delete", nil), 404)
}

// TestDesksShowMessageWaiting: the desks page marks the desk whose user
// has new messages, like the phone's lamp.
func TestDesksShowMessageWaiting(t *testing.T) {
	t.Parallel()
	hs, _ := voicemailHarness(t)
	ctx := context.Background()
	hs.addDevice(&hotdesk.Device{Mode: hotdesk.ModeHotdesk})
	c := hs.signIn()
	if strings.Contains(c.get("/").Body.String(), "badge mwi") {
		t.Fatal("a free desk shows message waiting")
	}
	if _, err := hs.desk.Login(ctx, desk.LoginRequest{Extension: "201", Device: "HD00001", Via: hotdesk.ViaAPI}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, c.get("/desks/table"), 200, `class="badge mwi" href="/users/201#voicemail"`, "1 new message<")
}

// TestBrowserPlaysVoicemail: in Chromium the user page's <audio> element
// loads the G.711 WAV through the console route and reports its duration,
// and seeking within it works (Range).
func TestBrowserPlaysVoicemail(t *testing.T) {
	t.Parallel()
	hs, _ := voicemailHarness(t)
	ctx, base := hs.browse(t)
	step(t, ctx, "user page", chromedp.Navigate(base+"/users/201"), chromedp.WaitVisible(chromedp.ID("voicemail")))
	waitFor(t, ctx, "audio metadata", `(() => { const a = document.querySelector('#voicemail audio'); return a && a.readyState >= 1 && a.duration > 0 })()`)
	d := eval[float64](t, ctx, `document.querySelector('#voicemail audio').duration`)
	if math.Abs(d-2.5) > 0.1 {
		t.Fatalf("duration %.3f s, want 2.5", d)
	}
	eval[float64](t, ctx, `document.querySelector('#voicemail audio').currentTime = 2`)
	waitFor(t, ctx, "seek", `(() => { const a = document.querySelector('#voicemail audio'); return !a.seeking && a.currentTime >= 1.9 && !a.error })()`)
	screenshot(t, ctx, outputDir(t), "voicemail")
}

// TestMailSettingsForm: the settings page edits the SMTP settings, never
// shows the stored password, keeps it when the field is left empty, and
// names a bad field.
func TestMailSettingsForm(t *testing.T) {
	hs, c := newSignedIn(t)
	page := c.get("/settings").Body.String()
	form := url.Values{}
	for _, m := range regexpAll(`name="([a-z0-9_]+)"[^>]*value="([^"]*)"`, page) {
		form.Set(m[1], m[2])
	}
	for _, m := range regexpAll(`name="([a-z0-9_]+)"[^>]*checked`, page) {
		form.Set(m[1], "on")
	}
	for _, m := range regexpAll(`<select name="([a-z0-9_]+)"[^>]*>(?s:.*?)<option value="([^"]*)" selected`, page) {
		form.Set(m[1], m[2])
	}
	setForm(form, url.Values{"mail_enabled": {"on"}, "mail_starttls": {"on"}, "mail_host": {"smtp.example.com"},
		"mail_port": {"2525"}, "mail_username": {"pbx"}, "mail_password": {"s3cret"}, "mail_from": {"pbx@example.com"}})
	if w := c.post("/settings", form); w.Code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", w.Code, w.Body)
	}
	st, _ := hs.store.GetSettings(context.Background())
	if st.Mail != (hotdesk.MailSettings{Enabled: true, Host: "smtp.example.com", Port: 2525, StartTLS: true, Username: "pbx", Password: "s3cret", From: "pbx@example.com"}) {
		t.Fatalf("stored %+v", st.Mail)
	}
	w := c.get("/settings")
	mustContain(t, w, 200, `value="smtp.example.com"`, "set; empty keeps it")
	if strings.Contains(w.Body.String(), "s3cret") {
		t.Fatal("the settings page shows the SMTP password")
	}
	form.Set("mail_password", "")
	form.Set("mail_from", "nope")
	w = c.post("/settings", form)
	mustContain(t, w, 400, "must be an address")
	if strings.Contains(w.Body.String(), "s3cret") {
		t.Fatal("a refused form echoes the SMTP password")
	}
	form.Set("mail_from", "pbx@example.com")
	if w := c.post("/settings", form); w.Code != http.StatusSeeOther {
		t.Fatalf("save without a password: %d", w.Code)
	}
	if st, _ = hs.store.GetSettings(context.Background()); st.Mail.Password != "s3cret" {
		t.Fatal("an empty password field dropped the stored password")
	}
}

func regexpAll(re, s string) [][]string { return regexp.MustCompile(re).FindAllStringSubmatch(s, -1) }

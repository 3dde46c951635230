package app

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/media/mediatest"
	"github.com/hotdesk-pbx/hotdesk/internal/media/wav"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// vmSettings changes the voicemail settings through the API (so every
// cache hears of it) and enables voicemail for the extensions.
func vmSettings(tb testing.TB, r *running, vs hotdesk.VoicemailSettings, exts ...string) {
	tb.Helper()
	var st hotdesk.Settings
	if code := r.api(tb, "GET", "/settings", "", &st); code != http.StatusOK {
		tb.Fatalf("GET /settings: %d", code)
	}
	st.Voicemail = vs
	b, _ := json.Marshal(st)
	if code := r.api(tb, "PUT", "/settings", string(b), nil); code != http.StatusOK {
		tb.Fatalf("PUT /settings: %d", code)
	}
	for _, ext := range exts {
		if code := r.api(tb, "PATCH", "/users/"+ext, `{"voicemail":true}`, nil); code != http.StatusOK {
			tb.Fatalf("PATCH /users/%s: %d", ext, code)
		}
	}
}

// waitMessages polls ext's mailbox until it holds n messages.
func waitMessages(tb testing.TB, s hotdesk.Store, ext string, n int) []*hotdesk.Voicemail {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, err := s.ListVoicemail(context.Background(), ext)
		if err != nil {
			tb.Fatal(err)
		}
		if len(list) == n || time.Now().After(deadline) {
			if len(list) != n {
				tb.Fatalf("%s's mailbox holds %d messages, want %d", ext, len(list), n)
			}
			return list
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// leaveMessage dials number, waits for the greeting and the tone, says a
// tone of d and hangs up. It returns the greeting heard.
func leaveMessage(tb testing.TB, p *siptest.Phone, number string, d time.Duration) *mediatest.Recording {
	tb.Helper()
	c, err := p.Dial(number)
	if err != nil {
		tb.Fatalf("dial %s: %v", number, err)
	}
	greeting := c.Record(400*time.Millisecond, 15*time.Second)
	if err := c.Media.SendAudio(0, mediatest.Tone(440, d)); err != nil {
		tb.Fatal(err)
	}
	if err := c.Hangup(); err != nil {
		tb.Fatal(err)
	}
	return greeting
}

// A caller reaches the mailbox of a user logged in nowhere, hears the
// generated greeting, and the message is stored as sent (μ-law WAV, the
// length spoken) with a voicemail event and audit row; the user opens the
// mailbox with *97 and the PIN, hears it, and saves it with 9.
func TestVoicemailDepositAndRetrieve(t *testing.T) {
	r := mustStart(t, testConfig(t.TempDir(), true))
	vmSettings(t, r, hotdesk.VoicemailSettings{SilenceSeconds: 3}, "202")
	evs, cancel := r.Bus().Subscribe(256)
	defer cancel()
	hd1 := demoPhone(t, r, "HD00001")
	loginByPhone(t, hd1, "*35*201*1234")

	greeting := leaveMessage(t, hd1, "202", 2*time.Second)
	if d := greeting.Duration(); d < 3*time.Second || greeting.RMS() < 1000 {
		t.Errorf("greeting %v long, RMS %.0f: want the generated one", d, greeting.RMS())
	}
	msgs := waitMessages(t, r.Store(), "202", 1)
	v := msgs[0]
	if v.Caller != "201" || v.CallerName != "Anna de Vries" || !v.New || v.Codec != "PCMU" ||
		v.DurationMS < 2000 || v.DurationMS > 2700 {
		t.Fatalf("message %+v", v)
	}
	b, err := r.Store().VoicemailAudio(context.Background(), "202", v.ID)
	if err != nil {
		t.Fatal(err)
	}
	codec, raw, err := wav.G711Data(b)
	if err != nil || codec != "PCMU" || media.VoicedLength(codec, raw) < 15000 {
		t.Fatalf("audio: %s %d bytes, voiced %d, %v", codec, len(raw), media.VoicedLength(codec, raw), err)
	}
	wantEvent(t, evs, hotdesk.KindVoicemail, "202", hotdesk.VoicemailNew, "new=1 old=0")

	// 202 logs in on HD00002 and listens: PIN, then 9 saves the message.
	hd2 := demoPhone(t, r, "HD00002")
	loginByPhone(t, hd2, "*35*202*1234")
	c := hd2.MustOpenMailbox(t, "1234")
	// "You have one new message", the announcement, the message and the
	// menu: 9 cuts in once a good part of it was heard.
	heard := c.Record(1500*time.Millisecond, 7*time.Second)
	if heard.Duration() < 4*time.Second {
		t.Fatalf("mailbox played %v", heard.Duration())
	}
	if err := c.SendKeysRTP("9"); err != nil {
		t.Fatal(err)
	}
	wantEvent(t, evs, hotdesk.KindVoicemail, "202", hotdesk.VoicemailRead, "new=0 old=1")
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Store().GetVoicemail(context.Background(), "202", v.ID); err != nil || got.New {
		t.Fatalf("after 9: %+v %v", got, err)
	}
	audits, err := r.Store().FindAudit(context.Background(), hotdesk.AuditFilter{Extension: "202", Kinds: []string{hotdesk.KindVoicemail}})
	if err != nil || len(audits) != 2 {
		t.Fatalf("voicemail audit rows: %d %v", len(audits), err)
	}
}

// wantEvent waits for a bus event of kind for ext with reason whose
// Detail contains detail.
func wantEvent(tb testing.TB, ch <-chan events.Event, kind, ext, reason, detail string) {
	tb.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-ch:
			if e.Kind == kind && e.Extension == ext && e.Reason == reason && strings.Contains(e.Detail, detail) {
				return
			}
		case <-timeout:
			tb.Fatalf("no %s/%s event for %s with %q", kind, reason, ext, detail)
		}
	}
}

// A wrong PIN at *98 counts toward the hot desk lockout (audited as a
// failed login) and opens nothing; an unknown mailbox is refused.
func TestVoicemailWrongPINCounts(t *testing.T) {
	r := mustStart(t, testConfig(t.TempDir(), true))
	vmSettings(t, r, hotdesk.VoicemailSettings{}, "202")
	hd3 := demoPhone(t, r, "HD00003") // neutral: *98 works from any phone
	c, err := hd3.Dial("*98")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendKeysInfo("202#0000#"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := r.Store().CountAudit(context.Background(), hotdesk.AuditFilter{Extension: "202", Kinds: []string{hotdesk.KindLoginFailed}})
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("failed PIN audits for 202: %d, want 1", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = c.Hangup()
}

// Busy: the callee's phone answers 486 and the caller gets the mailbox.
// A caller who sends no audio at all is hung up on after the silence and
// leaves nothing; a full mailbox says so and keeps what it holds.
func TestVoicemailBusySilentFull(t *testing.T) {
	r := mustStart(t, testConfig(t.TempDir(), true))
	vmSettings(t, r, hotdesk.VoicemailSettings{SilenceSeconds: 2, Quota: 1}, "202")
	hd1, hd2 := demoPhone(t, r, "HD00001"), demoPhone(t, r, "HD00002")
	loginByPhone(t, hd1, "*35*201*1234")
	loginByPhone(t, hd2, "*35*202*1234")
	hd2.SetAnswerMode(siptest.AnswerBusy)

	// Silent caller: answered, greeted, then hung up on by the PBX.
	c, err := hd1.Dial("202")
	if err != nil {
		t.Fatalf("busy 202: %v, want the mailbox to answer", err)
	}
	if err := c.WaitBye(20 * time.Second); err != nil {
		t.Fatalf("silent caller not hung up on: %v", err)
	}
	waitMessages(t, r.Store(), "202", 0)

	leaveMessage(t, hd1, "202", 1500*time.Millisecond)
	waitMessages(t, r.Store(), "202", 1)

	// Full: told so and hung up on; the message is still the only one.
	c, err = hd1.Dial("202")
	if err != nil {
		t.Fatal(err)
	}
	said := c.Record(400*time.Millisecond, 15*time.Second)
	if said.Duration() < time.Second {
		t.Errorf("full mailbox said %v", said.Duration())
	}
	if err := c.WaitBye(15 * time.Second); err != nil {
		t.Fatalf("full mailbox did not hang up: %v", err)
	}
	waitMessages(t, r.Store(), "202", 1)
}

// Deleting a user deletes the mailbox with them, audited as a voicemail
// event with zero counts (the message light goes dark).
func TestVoicemailDeletedWithUser(t *testing.T) {
	r := mustStart(t, testConfig(t.TempDir(), true))
	ctx := context.Background()
	for range 2 {
		if err := r.Store().CreateVoicemail(ctx, &hotdesk.Voicemail{Extension: "203", New: true, Codec: "PCMU"}, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if code := r.api(t, "DELETE", "/users/203", "", nil); code != http.StatusNoContent && code != http.StatusOK {
		t.Fatalf("DELETE /users/203: %d", code)
	}
	if n, o, err := r.Store().VoicemailCounts(ctx, "203"); err != nil || n+o != 0 {
		t.Fatalf("203's mailbox after delete: %d+%d %v", n, o, err)
	}
	audits, err := r.Store().FindAudit(ctx, hotdesk.AuditFilter{Extension: "203", Kinds: []string{hotdesk.KindVoicemail}})
	if err != nil || len(audits) != 1 || audits[0].Reason != hotdesk.VoicemailDeleted ||
		!strings.Contains(audits[0].Detail, "new=0 old=0") || !strings.Contains(audits[0].Detail, "(2 messages)") {
		t.Fatalf("audit: %+v %v", audits, err)
	}
}

// 202 records a greeting by phone (*97, PIN, 0 options are offered at
// once as the mailbox is empty, 1 records, # ends, 1 keeps it); then a
// call 202 does not answer within their ring timeout goes to the mailbox,
// which plays that greeting.
func TestVoicemailGreetingAndNoAnswer(t *testing.T) {
	r := mustStart(t, testConfig(t.TempDir(), true))
	vmSettings(t, r, hotdesk.VoicemailSettings{SilenceSeconds: 3}, "202")
	if code := r.api(t, "PATCH", "/users/202", `{"ring_timeout":5}`, nil); code != http.StatusOK {
		t.Fatalf("PATCH ring_timeout: %d", code)
	}
	hd1, hd2 := demoPhone(t, r, "HD00001"), demoPhone(t, r, "HD00002")
	loginByPhone(t, hd1, "*35*201*1234")
	loginByPhone(t, hd2, "*35*202*1234")

	c := hd2.MustOpenMailbox(t, "1234")
	time.Sleep(1500 * time.Millisecond) // "you have no messages", options
	if err := c.SendKeysRTP("1"); err != nil {
		t.Fatal(err)
	}
	c.Record(400*time.Millisecond, 15*time.Second) // "record your greeting", tone
	if err := c.Media.SendAudio(0, mediatest.Tone(880, 1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := c.SendKeysRTP("#"); err != nil {
		t.Fatal(err)
	}
	review := c.Record(400*time.Millisecond, 15*time.Second) // the greeting back, then the review menu
	if got := mediatest.ToneFrames(review.PCM, 880); got < 60 {
		t.Errorf("greeting played back with %d frames of its tone", got)
	}
	if err := c.SendKeysRTP("1"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := r.Store().Greeting(context.Background(), "202"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("greeting not kept")
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = c.Hangup()

	hd2.SetAnswerMode(siptest.AnswerRing)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := hd1.DialContext(ctx, "202", siptest.DialOptions{})
	if err != nil {
		t.Fatalf("202 not answering: %v, want the mailbox", err)
	}
	if waited := time.Since(start); waited < 4500*time.Millisecond {
		t.Errorf("mailbox answered after %v, before the 5 s ring timeout", waited)
	}
	heard := c.Record(400*time.Millisecond, 15*time.Second)
	if got := mediatest.ToneFrames(heard.PCM, 880); got < 60 {
		t.Errorf("caller heard %v with %d frames of 202's recorded greeting", heard.Duration(), got)
	}
	if err := c.Media.SendAudio(0, mediatest.Tone(440, 1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	_ = c.Hangup()
	waitMessages(t, r.Store(), "202", 1)
}

// Shutting the PBX down while a caller is recording keeps what was said
// (stored, not left in the spool) and hangs up on the caller with a BYE.
func TestVoicemailKeptAtShutdown(t *testing.T) {
	dir := t.TempDir()
	r := mustStart(t, testConfig(dir, true))
	vmSettings(t, r, hotdesk.VoicemailSettings{}, "202")
	hd1 := demoPhone(t, r, "HD00001")
	loginByPhone(t, hd1, "*35*201*1234")
	c := hd1.MustLeaveMessage(t, "202", 2*time.Second)
	stopped := make(chan struct{})
	go func() { r.stop(); close(stopped) }()
	if err := c.WaitBye(10 * time.Second); err != nil {
		t.Errorf("caller got no BYE at shutdown: %v", err)
	}
	<-stopped
	if entries, err := os.ReadDir(filepath.Join(dir, "voicemail", "spool")); err != nil || len(entries) != 0 {
		t.Errorf("spool after a clean shutdown: %v %v", entries, err)
	}
	r2 := mustStart(t, testConfig(dir, false))
	// 2 s were said; the last packets may still be in flight (or queued
	// behind a loaded CPU) when the shutdown begins.
	if msgs := waitMessages(t, r2.Store(), "202", 1); msgs[0].DurationMS < 1700 {
		t.Errorf("message kept at shutdown: %+v", msgs[0])
	}
}

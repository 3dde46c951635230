package mail_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/mail"
	"github.com/hotdesk-pbx/hotdesk/internal/mail/mailtest"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite/sqlitetest"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

// fixture is a real SQLite store with user 201 (voicemail on, an email
// address), one message and the mail settings pointing at srv.
type fixture struct {
	store hotdesk.Store
	bus   *events.Bus
	box   *mail.Outbox
	msg   *hotdesk.Voicemail
	wav   []byte
}

func newFixture(t *testing.T, srv *mailtest.Server, tweak func(*mail.Options)) *fixture {
	t.Helper()
	ctx := context.Background()
	db := sqlitetest.MustOpen(t)
	f := &fixture{store: db, bus: events.New(), wav: bytes.Repeat([]byte("RIFF\x00\xff"), 3000)}
	if err := db.CreateUser(ctx, &hotdesk.User{Extension: "201", Name: "Ann", Email: "ann@example.com", Voicemail: true}); err != nil {
		t.Fatal(err)
	}
	f.msg = &hotdesk.Voicemail{Extension: "201", Caller: "0612345678", CallerName: "Piet Bakker", DurationMS: 7400, New: true,
		Codec: "PCMU", ReceivedAt: time.Date(2026, 12, 1, 14, 5, 0, 0, time.UTC)}
	if err := db.CreateVoicemail(ctx, f.msg, f.wav); err != nil {
		t.Fatal(err)
	}
	st, _ := db.GetSettings(ctx)
	st.Timezone = "Europe/Amsterdam"
	st.Mail = hotdesk.MailSettings{Enabled: true, Host: "127.0.0.1", Port: srv.Port(), StartTLS: srv.TLS != nil,
		Username: mailtest.User, Password: mailtest.Password, From: "pbx@example.com"}
	if err := db.PutSettings(ctx, st); err != nil {
		t.Fatal(err)
	}
	o := mail.Options{Store: db, Bus: f.bus, RootCAs: srv.Roots, Hostname: "pbx.test", Logger: slogDiscard(),
		FirstRetry: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Poll: 20 * time.Millisecond, Timeout: 5 * time.Second}
	if tweak != nil {
		tweak(&o)
	}
	box, err := mail.New(o)
	if err != nil {
		t.Fatal(err)
	}
	f.box = box
	testrun.Go(t, box.Queue)
	testrun.Go(t, box.Deliver)
	return f
}

// setMail changes the mail settings.
func (f *fixture) setMail(t *testing.T, change func(*hotdesk.MailSettings)) {
	t.Helper()
	ctx := context.Background()
	st, err := f.store.GetSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	change(&st.Mail)
	if err := f.store.PutSettings(ctx, st); err != nil {
		t.Fatal(err)
	}
}

// deposit publishes the event a deposit publishes.
func (f *fixture) deposit() {
	f.bus.Publish(events.Event{Kind: hotdesk.KindVoicemail, Extension: "201", Reason: hotdesk.VoicemailNew,
		Detail: "id=" + itoa(f.msg.ID) + " new=1 old=0"})
}

// waitMail returns the first mail of the outbox once done says it is (or
// as it is after 5 s, nil when there is none).
func (f *fixture) waitMail(done func(*hotdesk.Mail) bool) *hotdesk.Mail {
	var m *hotdesk.Mail
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m, _ = f.store.FindMail(context.Background(), 1); m != nil && done(m) {
			break
		}
	}
	return m
}

// TestVoicemailEmailed: a deposit is mailed over STARTTLS with AUTH PLAIN,
// with a subject naming the caller and the WAV attached byte for byte.
func TestVoicemailEmailed(t *testing.T) {
	srv := mailtest.Start(t, true)
	f := newFixture(t, srv, nil)
	f.deposit()
	got := srv.Wait(t, 1, 10*time.Second)[0]
	if !got.TLS || got.User != "pbx" || got.From != "pbx@example.com" || got.To != "ann@example.com" {
		t.Fatalf("session: TLS %v user %q from %q to %q", got.TLS, got.User, got.From, got.To)
	}
	msg, err := netmail.ReadMessage(strings.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subj != "Voicemail from Piet Bakker 0612345678 (0:07)" {
		t.Errorf("Subject %q", subj)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	text, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(text)
	for _, want := range []string{"From: Piet Bakker 0612345678", "Received: 2026-12-01 15:05", "Length: 0:07", "Dial *97"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("text part lacks %q:\n%s", want, body)
		}
	}
	att, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if att.FileName() != "voicemail-201-"+itoa(f.msg.ID)+".wav" || !strings.HasPrefix(att.Header.Get("Content-Type"), "audio/wav") {
		t.Errorf("attachment %q %q", att.FileName(), att.Header.Get("Content-Type"))
	}
	wav, _ := io.ReadAll(att)
	if !bytes.Equal(decodeB64(t, wav), f.wav) {
		t.Fatalf("attachment differs from the message's WAV (%d bytes)", len(wav))
	}
}

// TestFailingServerLosesNothing: a server that drops the first session and
// refuses the second still gets the message on a later retry, once.
func TestFailingServerLosesNothing(t *testing.T) {
	srv := mailtest.Start(t, true)
	srv.Fail = []string{"drop", "451"}
	f := newFixture(t, srv, nil)
	f.deposit()
	got := srv.Wait(t, 1, 10*time.Second)
	time.Sleep(100 * time.Millisecond) // a second delivery would come by now
	if len(srv.Messages()) != 1 || !strings.Contains(got[0].Data, "Piet Bakker") {
		t.Fatalf("%d messages delivered", len(srv.Messages()))
	}
	m, err := f.store.FindMail(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != hotdesk.MailSent || m.Attempts != 3 || m.SentAt == nil || m.LastError != "" {
		t.Fatalf("outbox row %+v", m)
	}
}

// TestNoSTARTTLSNoCredentials: with STARTTLS required, a server that does
// not offer it never sees the credentials, and the mail waits (pending,
// the reason recorded) rather than going out in clear.
func TestNoSTARTTLSNoCredentials(t *testing.T) {
	srv := mailtest.Start(t, false)
	f := newFixture(t, srv, nil)
	f.setMail(t, func(m *hotdesk.MailSettings) { m.StartTLS = true })
	f.deposit()
	m := f.waitMail(func(m *hotdesk.Mail) bool { return m.Attempts >= 2 })
	if m == nil || m.Status != hotdesk.MailPending || !strings.Contains(m.LastError, "STARTTLS") {
		t.Fatalf("outbox row %+v", m)
	}
	if len(srv.Auths()) != 0 || len(srv.Messages()) != 0 {
		t.Fatalf("credentials or message sent without TLS: %v %d", srv.Auths(), len(srv.Messages()))
	}
}

// TestGivesUpAfterRetryFor: a mail that keeps failing is marked failed
// once RetryFor has passed, and stays in the outbox.
func TestGivesUpAfterRetryFor(t *testing.T) {
	srv := mailtest.Start(t, true)
	srv.Fail = []string{"451", "451", "451", "451", "451", "451", "451", "451", "451", "451", "451", "451", "451", "451", "451", "451"}
	f := newFixture(t, srv, func(o *mail.Options) { o.RetryFor = 100 * time.Millisecond })
	f.deposit()
	m := f.waitMail(func(m *hotdesk.Mail) bool { return m.Status == hotdesk.MailFailed })
	if m == nil || m.Status != hotdesk.MailFailed || m.Attempts < 1 || !strings.Contains(m.LastError, "451") {
		t.Fatalf("outbox row %+v", m)
	}
}

// TestOnlyWhenWanted: nothing is queued with mail off, or for a user
// without an address or with voicemail off.
func TestOnlyWhenWanted(t *testing.T) {
	srv := mailtest.Start(t, true)
	f := newFixture(t, srv, nil)
	ctx := context.Background()
	f.setMail(t, func(m *hotdesk.MailSettings) { m.Enabled = false })
	if ok, err := f.box.QueueMessage(ctx, "201", f.msg.ID); ok || err != nil {
		t.Fatalf("mail off: queued %v, %v", ok, err)
	}
	f.setMail(t, func(m *hotdesk.MailSettings) { m.Enabled = true })
	empty := ""
	if _, err := f.store.UpdateUser(ctx, "201", hotdesk.UserUpdate{Email: &empty}); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.box.QueueMessage(ctx, "201", f.msg.ID); ok || err != nil {
		t.Fatalf("no address: queued %v, %v", ok, err)
	}
	addr, off := "ann@example.com", false
	if _, err := f.store.UpdateUser(ctx, "201", hotdesk.UserUpdate{Email: &addr, Voicemail: &off}); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.box.QueueMessage(ctx, "201", f.msg.ID); ok || err != nil {
		t.Fatalf("voicemail off: queued %v, %v", ok, err)
	}
	if due, _ := f.store.DueMail(ctx, time.Now().Add(time.Hour), 10); len(due) != 0 {
		t.Fatalf("queued: %+v", due)
	}
}

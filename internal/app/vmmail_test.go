package app

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// TestServeVoicemailReachesLampAndMailbox: a real deposit in the running
// PBX lights the lamp of the desk the user then logs in on, and is mailed
// to the user with the recording attached (a plain SMTP server on
// loopback, written here).
func TestServeVoicemailReachesLampAndMailbox(t *testing.T) {
	r := mustStart(t, testConfig(t.TempDir(), true))
	smtp := startPlainSMTP(t)
	var st hotdesk.Settings
	if code := r.api(t, "GET", "/settings", "", &st); code != http.StatusOK {
		t.Fatalf("GET /settings: %d", code)
	}
	st.Voicemail.SilenceSeconds = 3
	st.Mail = hotdesk.MailSettings{Enabled: true, Host: "127.0.0.1", Port: smtp.Addr().(*net.TCPAddr).Port, From: "pbx@example.com"}
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

	var data string
	select {
	case data = <-smtp.got:
	case <-time.After(15 * time.Second):
		t.Fatal("no voicemail email")
	}
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

// plainSMTP is a one-message-per-session SMTP server without TLS or AUTH.
type plainSMTP struct {
	net.Listener
	got chan string
}

func startPlainSMTP(tb testing.TB) *plainSMTP {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &plainSMTP{Listener: ln, got: make(chan string, 4)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.serve(c)
		}
	}()
	tb.Cleanup(func() { ln.Close(); <-done })
	return s
}

func (s *plainSMTP) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(c)
	_ = tp.PrintfLine("220 test ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		switch verb, _, _ := strings.Cut(strings.ToUpper(line), " "); verb {
		case "EHLO", "HELO", "MAIL", "RCPT", "RSET", "NOOP":
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 go")
			b, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			s.got <- string(b)
			_ = tp.PrintfLine("250 queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("500 %s?", verb)
		}
	}
}

package signaling

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

// mustServe starts a server on loopback UDP+TCP ports with an OPTIONS
// handler and returns it; it stops at test end.
func mustServe(tb testing.TB, filter func(string) bool) *Server {
	tb.Helper()
	return mustServeOpts(tb, Options{UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ReadFilter: filter})
}

// mustServeOpts starts a server with opts (see mustServe).
func mustServeOpts(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Listen(); err != nil {
		tb.Fatal(err)
	}
	s.Handle(sip.OPTIONS, func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	testrun.Background(tb, s.Serve)
	return s
}

var seq atomic.Int64

// sipText builds a request; toTag "" means out of dialog.
func sipText(method, callID, toTag, local, transport string) string {
	to := "<sip:200@pbx.test>"
	if toTag != "" {
		to += ";tag=" + toTag
	}
	n := seq.Add(1)
	return fmt.Sprintf("%s sip:200@pbx.test SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=z9hG4bK-r%d;rport\r\n"+
		"From: <sip:100@pbx.test>;tag=f%d\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"+
		"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n", method, transport, local, n, n, to, callID, n, method)
}

// exchange sends raw over UDP and returns the response or nil after wait.
func exchange(tb testing.TB, s *Server, raw func(local string) string, wait time.Duration) *sip.Response {
	tb.Helper()
	c, err := net.Dial("udp", s.UDPAddr().String())
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(raw(c.LocalAddr().String()))); err != nil {
		tb.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	msg, err := sip.NewParser().ParseSIP(buf[:n])
	if err != nil {
		tb.Fatalf("parse response: %v", err)
	}
	return msg.(*sip.Response)
}

func request(method, callID, toTag string) func(string) string {
	return func(local string) string { return sipText(method, callID, toTag, local, "UDP") }
}

func mustAlive(tb testing.TB, s *Server) {
	tb.Helper()
	if res := exchange(tb, s, request("OPTIONS", "alive", ""), 2*time.Second); res == nil || res.StatusCode != 200 {
		tb.Fatalf("server does not answer OPTIONS any more: %v", res)
	}
}

func TestRouterInDialogByCallID(t *testing.T) {
	s := mustServe(t, nil)
	var got atomic.Value
	s.AddDialog("call-1", DialogHandlerFunc(func(req *sip.Request, tx sip.ServerTransaction) {
		got.Store(string(req.Method))
		tx.Respond(sip.NewResponseFromRequest(req, 200, "Routed", nil))
	}))
	if s.Dialogs() != 1 {
		t.Fatalf("Dialogs() = %d", s.Dialogs())
	}
	for _, m := range []string{"BYE", "INFO", "INVITE"} {
		res := exchange(t, s, request(m, "call-1", "t1"), 2*time.Second)
		if res == nil || res.Reason != "Routed" || got.Load() != m {
			t.Fatalf("%s not routed to the dialog: %v", m, res)
		}
	}
	s.RemoveDialog("call-1")
	if res := exchange(t, s, request("BYE", "call-1", "t1"), 2*time.Second); res == nil || res.StatusCode != 481 {
		t.Fatalf("BYE after RemoveDialog: %v, want 481", res)
	}
}

func TestRouterUnknownDialogIs481(t *testing.T) {
	s := mustServe(t, nil)
	for _, tt := range []struct{ method, toTag string }{
		{"BYE", ""}, {"BYE", "x"}, {"INFO", "x"}, {"UPDATE", "x"}, {"INVITE", "x"}, {"CANCEL", ""},
	} {
		res := exchange(t, s, request(tt.method, "nobody", tt.toTag), 2*time.Second)
		if res == nil || res.StatusCode != 481 {
			t.Errorf("%s (to tag %q) for unknown dialog: %v, want 481", tt.method, tt.toTag, res)
		}
	}
}

func TestRouterUnhandledMethodIs405WithAllow(t *testing.T) {
	s := mustServe(t, nil)
	for _, m := range []string{"MESSAGE", "INVITE", "REGISTER"} {
		res := exchange(t, s, request(m, "c-"+m, ""), 2*time.Second)
		if res == nil || res.StatusCode != 405 {
			t.Fatalf("%s without handler: %v, want 405", m, res)
		}
		if a := res.GetHeader("Allow"); a == nil || !strings.Contains(a.Value(), "INVITE") {
			t.Fatalf("405 without Allow: %v", res)
		}
	}
	s.Handle(sip.MESSAGE, func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 202, "Accepted", nil))
	})
	if res := exchange(t, s, request("MESSAGE", "c-m2", ""), 2*time.Second); res == nil || res.StatusCode != 202 {
		t.Fatalf("MESSAGE with handler: %v", res)
	}
}

func TestOversizedMessageRefused(t *testing.T) {
	s := mustServe(t, nil)
	big := func(local string) string {
		r := sipText("OPTIONS", "big", "", local, "UDP")
		return strings.Replace(r, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nX-Pad: "+strings.Repeat("a", 2*MaxMessageSize)+"\r\n", 1)
	}
	if res := exchange(t, s, big, 2*time.Second); res == nil || res.StatusCode != 513 {
		t.Fatalf("oversized UDP message answered %v, want 513", res)
	}
	mustAlive(t, s)

	c, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(big(c.LocalAddr().String())))
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err == nil && strings.Contains(line, "200") {
		t.Fatalf("oversized TCP message answered: %q", line)
	}
	mustAlive(t, s)
}

func TestMalformedMessagesNeverCrash(t *testing.T) {
	s := mustServe(t, nil)
	bad := []string{
		"\x00\x01\x02garbage",
		"OPTIONS\r\n\r\n",
		"OPTIONS sip:x SIP/2.0\r\n\r\n", // no headers at all
		"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP\r\nCSeq: x\r\n\r\n",
		"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: m\r\nCSeq: 1 OPTIONS\r\nContent-Length: 999\r\n\r\nshort",
		"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: m\r\nCSeq: 1 OPTIONS\r\nContent-Length: -5\r\n\r\n",
		"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: m\r\nCSeq: 1 OPTIONS\r\nheader without colon\r\n\r\n",
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKnotours\r\nCSeq: 1 INVITE\r\nCall-ID: r\r\n\r\n", // stray response
		"INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKy\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: \r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		"REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKz\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: q\r\nCSeq: 1 REGISTER\r\nContact: <<<>>>\r\nContent-Length: 0\r\n\r\n",
	}
	for i, b := range bad {
		b := b
		exchange(t, s, func(string) string { return b }, 50*time.Millisecond)
		c, err := net.Dial("tcp", s.TCPAddr().String())
		if err != nil {
			t.Fatalf("message %d: tcp dial: %v", i, err)
		}
		c.Write([]byte(b))
		c.Close()
	}
	mustAlive(t, s)
}

func TestReadFilterDropsBlockedSources(t *testing.T) {
	var block atomic.Bool
	s := mustServe(t, func(src string) bool { return !block.Load() })
	mustAlive(t, s)
	block.Store(true)
	if res := exchange(t, s, request("OPTIONS", "blocked", ""), 300*time.Millisecond); res != nil {
		t.Fatalf("blocked source answered %d", res.StatusCode)
	}
	block.Store(false)
	mustAlive(t, s)
}

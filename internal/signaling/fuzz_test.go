package signaling

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/emiago/sipgo/siptest"
)

// addCorpusSeeds adds every corpus message (CRLF and LF-only) as a seed.
func addCorpusSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/corpus/*.sip")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")))
	}
}

// newFuzzServer is a server without sockets, with handlers and a dialog
// so that the router's every branch can be reached.
func newFuzzServer(f *testing.F) *Server {
	s, err := New(Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	ok := func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	for _, m := range []sip.RequestMethod{sip.OPTIONS, sip.REGISTER, sip.INVITE, sip.SUBSCRIBE, sip.NOTIFY} {
		s.Handle(m, ok)
	}
	s.AddDialog("fuzz-call", DialogHandlerFunc(func(req *sip.Request, tx sip.ServerTransaction) {
		if tx != nil {
			ok(req, tx)
		}
	}))
	return s
}

// FuzzRouter drives bytes through what a datagram meets: inspect, then
// sipgo's parser and the router, as sipgo would call it. Whatever inspect
// lets through must parse and be routed without a panic (the router's
// recover would hide one, so its counter is checked); whatever it refuses
// must get an answer that parses.
func FuzzRouter(f *testing.F) {
	addCorpusSeeds(f)
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		out, p := inspect(s.parser, data)
		if p.kind != "" {
			if p.code != 0 {
				// The answer echoes the request's headers as they came
				// (RFC 4475 3.1.2), but never more lines than those.
				res := rawResponse(data, p.code, p.reason, "fuzz")
				head, _, _ := bytes.Cut(res, []byte("\r\n\r\n"))
				if !bytes.HasPrefix(res, []byte("SIP/2.0 ")) || !bytes.HasSuffix(res, []byte("\r\n\r\n")) ||
					bytes.ContainsAny(bytes.ReplaceAll(head, []byte("\r\n"), nil), "\r\n\x00") {
					t.Fatalf("%d answer malformed:\n%q", p.code, res)
				}
			}
			return
		}
		msg, err := s.parser.ParseSIP(out)
		if err != nil {
			t.Fatalf("inspect let through what sipgo cannot parse: %v", err)
		}
		req, isReq := msg.(*sip.Request)
		if !isReq {
			return
		}
		req.SetSource("127.0.0.1:5999")
		req.SetTransport("UDP")
		var tx sip.ServerTransaction
		if req.Method != sip.ACK {
			rec := siptest.NewServerTxRecorder(req)
			defer rec.Terminate()
			tx = rec
		}
		before := counterValue(t, s.guard.panics.WithLabelValues(string(req.Method)))
		s.route(req.Method, req, tx)
		if counterValue(t, s.guard.panics.WithLabelValues(string(req.Method))) != before {
			t.Fatalf("router panicked on %q", out)
		}
	})
}

// FuzzTCPStream feeds a byte stream to a guardConn: framing must never
// panic, and every message it hands sipgo must pass inspect.
func FuzzTCPStream(f *testing.F) {
	addCorpusSeeds(f)
	f.Add([]byte("\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\nContent-Length: 5\r\n\r\nhello\r\n"))
	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		l := newGuardListener(nil, s, TCPLimits{})
		l.total, l.bySource["127.0.0.1"] = 1, 1
		c := newGuardConn(&fakeConn{r: bytes.NewReader(data)}, l, "127.0.0.1")
		buf := make([]byte, 1<<16)
		for i := 0; i < 1000; i++ {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			msg := buf[:n]
			if len(bytes.Trim(msg, "\r\n")) == 0 {
				continue // keep-alive
			}
			if _, p := inspect(s.parser, msg); p.kind != "" {
				t.Fatalf("handed sipgo a refused message (%s): %q", p.kind, msg)
			}
			if _, err := s.parser.ParseSIP(msg); err != nil {
				t.Fatalf("handed sipgo an unparseable message: %v", err)
			}
		}
	})
}

// fakeConn reads from r and discards writes.
type fakeConn struct {
	r *bytes.Reader
}

func (c *fakeConn) Read(b []byte) (int, error) {
	// Small reads exercise framing across read boundaries.
	if len(b) > 7 {
		b = b[:7]
	}
	n, err := c.r.Read(b)
	if err == io.EOF {
		return n, io.EOF
	}
	return n, err
}
func (c *fakeConn) Write(b []byte) (int, error)        { return len(b), nil }
func (c *fakeConn) Close() error                       { return nil }
func (c *fakeConn) LocalAddr() net.Addr                { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060} }
func (c *fakeConn) RemoteAddr() net.Addr               { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5999} }
func (c *fakeConn) SetDeadline(t time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(t time.Time) error { return nil }

// BenchmarkInspect is the cost every datagram pays before sipgo parses it
// (a REGISTER as phones send them).
func BenchmarkInspect(b *testing.B) {
	s, _ := New(Options{Logger: slog.New(slog.DiscardHandler)})
	msg := []byte(strings.ReplaceAll(sipText("REGISTER", "bench", "", "127.0.0.1:5999", "UDP"), "Max-Forwards: 70",
		"Max-Forwards: 70\r\nContact: <sip:HD00001@127.0.0.1:5999;transport=udp>\r\nExpires: 3600\r\nUser-Agent: Bench/1.0\r\n"+
			`Authorization: Digest username="HD00001", realm="hotdesk.local", nonce="abcdef0123456789", uri="sip:hotdesk.local", response="0123456789abcdef0123456789abcdef", algorithm=MD5`))
	if _, p := inspect(s.parser, msg); p.kind != "" {
		b.Fatal(p)
	}
	b.ReportAllocs()
	for b.Loop() {
		inspect(s.parser, msg)
	}
}

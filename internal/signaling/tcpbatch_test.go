package signaling

import (
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// scriptConn is a TCP connection whose peer sent in at once and then
// closed; it records every write.
type scriptConn struct {
	net.Conn // nil: only the methods below are used
	in       []byte
	mu       sync.Mutex
	writes   []string
}

func (c *scriptConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := copy(b, c.in)
	c.in = c.in[n:]
	return n, nil
}

func (c *scriptConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.writes = append(c.writes, string(b))
	c.mu.Unlock()
	return len(b), nil
}

func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }
func (c *scriptConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5070}
}

// Issue 18, REGISTER over one TCP connection: the REGISTERs that arrive
// in one read are all answered (on several goroutines) and their
// responses written with one system call, not one each; a request for
// sipgo among them still reaches sipgo, and a bad one is still refused.
func TestTCPRegistersOfOneReadAnsweredInOneWrite(t *testing.T) {
	s, err := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	s.HandleStateless(sip.REGISTER, func(req *sip.Request, tx sip.ServerTransaction) {
		calls.Add(1)
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	var in strings.Builder
	for i := range 40 {
		in.WriteString(sipText("REGISTER", "batch-"+strconv.Itoa(i), "", "127.0.0.1:5070", "TCP"))
		if i == 29 {
			in.WriteString("REGISTER sip:200@pbx.test SIP/2.0\r\nContent-Length: 0\r\n\r\n") // no Via: dropped
			in.WriteString(sipText("OPTIONS", "for-sipgo", "", "127.0.0.1:5070", "TCP"))
		}
	}
	conn := &scriptConn{in: []byte(in.String())}
	l := newGuardListener(nil, s, TCPLimits{})
	l.total, l.bySource["127.0.0.1"] = 1, 1
	g := newGuardConn(conn, l, "127.0.0.1")
	g.rbuf = make([]byte, maxRead) // the whole script in one read

	buf := make([]byte, 65535)
	n, err := g.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "OPTIONS ") {
		t.Fatalf("sipgo got %q, %v; want the OPTIONS", buf[:n], err)
	}
	conn.mu.Lock()
	writes := append([]string(nil), conn.writes...)
	conn.mu.Unlock()
	if len(writes) != 1 || strings.Count(writes[0], "SIP/2.0 200 OK") != 30 {
		t.Fatalf("%d writes before the OPTIONS, want one with the 30 responses", len(writes))
	}
	if _, err := g.Read(buf); err != io.EOF {
		t.Fatalf("after the script: %v, want EOF", err)
	}
	conn.mu.Lock()
	writes = append([]string(nil), conn.writes...)
	conn.mu.Unlock()
	if len(writes) != 2 || strings.Count(writes[1], "SIP/2.0 200 OK") != 10 {
		t.Fatalf("%d writes in all, want 2 (30 and 10 responses)", len(writes))
	}
	for i := range 40 {
		if !strings.Contains(writes[0]+writes[1], "Call-ID: batch-"+strconv.Itoa(i)+"\r\n") {
			t.Fatalf("no response to REGISTER %d", i)
		}
	}
	if calls.Load() != 40 || g.messages != 41 || !g.registered {
		t.Fatalf("%d REGISTERs handled, %d messages counted (want 40, 41)", calls.Load(), g.messages)
	}
}

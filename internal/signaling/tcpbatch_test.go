package signaling

import (
	"io"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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

// goid is the calling goroutine's id, from its stack's first line.
func goid() string {
	var b [64]byte
	f := strings.Fields(string(b[:runtime.Stack(b[:], false)]))
	return f[1] // "goroutine 123 [running]:"
}

// Issue 18: the requests of a busy connection's reads are served by the
// read loop and the listener's long-lived helpers, not by goroutines
// started for every read: over 20 reads of 40 REGISTERs each, no more
// than the read loop and the helpers serve them, the read loop among
// them.
func TestTCPReadsServedWithoutNewGoroutines(t *testing.T) {
	s, err := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	served := map[string]int{}
	s.HandleStateless(sip.REGISTER, func(req *sip.Request, tx sip.ServerTransaction) {
		mu.Lock()
		served[goid()]++
		mu.Unlock()
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	l := newGuardListener(nil, s, TCPLimits{})
	defer l.once.Do(func() { close(l.done) }) // ends the helpers (no listener to close)
	l.total, l.bySource["127.0.0.1"] = 1, 1
	const reads, perRead = 20, 40
	var in strings.Builder
	for i := range reads * perRead {
		in.WriteString(sipText("REGISTER", "reads-"+strconv.Itoa(i), "", "127.0.0.1:5070", "TCP"))
	}
	script := in.String()
	conn := &scriptConn{}
	g := newGuardConn(conn, l, "127.0.0.1")
	g.rbuf = make([]byte, len(script)/reads) // one read holds 40 REGISTERs
	conn.in = []byte(script)
	if _, err := g.Read(make([]byte, 65535)); err != io.EOF {
		t.Fatalf("after the script: %v, want EOF", err)
	}
	mu.Lock()
	defer mu.Unlock()
	n := 0
	for _, c := range served {
		n += c
	}
	if n != reads*perRead {
		t.Fatalf("%d REGISTERs served, want %d", n, reads*perRead)
	}
	if len(served) > 1+helpers || served[goid()] == 0 {
		t.Fatalf("served on %d goroutines %v (the read loop %s), want at most %d, the read loop among them",
			len(served), served, goid(), 1+helpers)
	}

	// A read of 24 REGISTERs (a connection keeping up at 2,000
	// registrations/s) is served by the read loop alone: no wake-ups.
	clear(served)
	in.Reset()
	const small = 24
	for i := range small {
		in.WriteString(sipText("REGISTER", "small-"+strconv.Itoa(i), "", "127.0.0.1:5070", "TCP"))
	}
	conn.in = []byte(in.String())
	g.rbuf = make([]byte, len(conn.in)+minRead)
	mu.Unlock()
	if _, err := g.Read(make([]byte, 65535)); err != io.EOF {
		t.Fatalf("after the small read: %v, want EOF", err)
	}
	mu.Lock()
	if len(served) != 1 || served[goid()] != small {
		t.Fatalf("a read of %d REGISTERs served on %v, want the read loop (%s) alone", small, served, goid())
	}
}

// BenchmarkTCPReadOf16Registers is one read of a busy connection
// holding 16 REGISTERs: framed, served in shares (servePending) by a
// handler that answers 200, and the responses written in one go.
func BenchmarkTCPReadOf16Registers(b *testing.B) {
	s, err := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	s.HandleStateless(sip.REGISTER, func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	l := newGuardListener(nil, s, TCPLimits{})
	defer l.once.Do(func() { close(l.done) })
	l.total, l.bySource["127.0.0.1"] = 1, 1
	var in strings.Builder
	for i := range 16 {
		in.WriteString(sipText("REGISTER", "bench-"+strconv.Itoa(i), "", "127.0.0.1:5070", "TCP"))
	}
	read := []byte(in.String())
	conn := &scriptConn{}
	g := newGuardConn(conn, l, "127.0.0.1")
	g.rbuf = make([]byte, len(read))
	buf := make([]byte, 65535)
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		conn.in, conn.writes = read, conn.writes[:0]
		if _, err := g.Read(buf); err != io.EOF {
			b.Fatal(err)
		}
	}
	// The process's CPU time (all threads): on a shared box, the wall
	// time of a read served on several goroutines says little.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU is the process's user and system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

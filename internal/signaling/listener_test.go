package signaling

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	dto "github.com/prometheus/client_model/go"
)

// mustServeTCP starts a server with the given TCP limits.
func mustServeTCP(tb testing.TB, l TCPLimits) *Server {
	tb.Helper()
	return mustServeOpts(tb, Options{UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), TCP: l})
}

// closedWithin reports whether the server closes c within d (and how long
// it took).
func closedWithin(c net.Conn, d time.Duration) (bool, time.Duration) {
	start := time.Now()
	c.SetReadDeadline(start.Add(d))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return false, time.Since(start)
		}
		return true, time.Since(start)
	}
}

func TestTCPCapsPerSourceAndTotal(t *testing.T) {
	s := mustServeTCP(t, TCPLimits{MaxPerSource: 3, MaxConns: 5})
	dial := func(local string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
		c, err := d.Dial("tcp", s.TCPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	var kept []net.Conn
	for i := 0; i < 3; i++ {
		kept = append(kept, dial("127.0.0.1"))
	}
	if closed, _ := closedWithin(dial("127.0.0.1"), time.Second); !closed {
		t.Fatal("a 4th connection from one address was kept (cap 3)")
	}
	dial("127.0.0.2")
	dial("127.0.0.2")
	if closed, _ := closedWithin(dial("127.0.0.3"), time.Second); !closed {
		t.Fatal("a 6th connection in total was kept (cap 5)")
	}
	for _, c := range kept {
		if closed, _ := closedWithin(c, 100*time.Millisecond); closed {
			t.Fatal("a connection within the caps was closed")
		}
	}
	// Closing one frees its place.
	kept[0].Close()
	time.Sleep(100 * time.Millisecond)
	c := dial("127.0.0.1")
	if closed, _ := closedWithin(c, 200*time.Millisecond); closed {
		t.Fatal("no place after a connection closed")
	}
	if got := counterValue(t, s.guard.tcpRefuse.WithLabelValues("per_source")); got != 1 {
		t.Errorf("per-source refusals counted %v, want 1", got)
	}
}

// A connection that never sends a whole message closes after
// FirstMessage; one that did stays for Idle, and one that carried a
// REGISTER for RegisteredIdle; a message begun must end within
// MessageRead however slowly its bytes trickle.
func TestTCPIdleAndPartialDeadlines(t *testing.T) {
	s := mustServeTCP(t, TCPLimits{FirstMessage: 300 * time.Millisecond, Idle: 800 * time.Millisecond,
		RegisteredIdle: 3 * time.Second, MessageRead: 500 * time.Millisecond})
	s.Handle("REGISTER", okHandler)
	dial := func() net.Conn {
		c, err := net.Dial("tcp", s.TCPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	roundTrip := func(c net.Conn, method string) {
		t.Helper()
		c.Write([]byte(sipText(method, "idle-"+method, "", c.LocalAddr().String(), "TCP")))
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		r := bufio.NewReader(c)
		line, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "SIP/2.0 200") {
			t.Fatalf("%s: %q %v", method, line, err)
		}
		for line != "\r\n" && err == nil { // rest of the response
			line, err = r.ReadString('\n')
		}
	}

	silent := dial()
	if closed, d := closedWithin(silent, 2*time.Second); !closed || d > time.Second {
		t.Fatalf("silent connection: closed %v after %v, want closed after ~300ms", closed, d)
	}

	used := dial()
	roundTrip(used, "OPTIONS")
	if closed, _ := closedWithin(used, 500*time.Millisecond); closed {
		t.Fatal("connection that sent a message closed before Idle")
	}
	if closed, _ := closedWithin(used, 2*time.Second); !closed {
		t.Fatal("idle connection not closed after Idle")
	}

	reg := dial()
	roundTrip(reg, "REGISTER")
	if closed, _ := closedWithin(reg, 1500*time.Millisecond); closed {
		t.Fatal("registered flow closed before RegisteredIdle")
	}

	slow := dial()
	msg := sipText("OPTIONS", "slow", "", slow.LocalAddr().String(), "TCP")
	start := time.Now()
	closed := false
	for i := 0; i < len(msg) && time.Since(start) < 3*time.Second; i++ {
		if _, err := slow.Write([]byte{msg[i]}); err != nil {
			closed = true
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c, d := closedWithin(slow, 2*time.Second); !closed && !c {
		t.Fatalf("slow message not cut off (%v)", d)
	}
	if time.Since(start) > 2500*time.Millisecond {
		t.Fatalf("slow message cut off after %v, want ~500ms", time.Since(start))
	}
	mustAliveTCP(t, s)
}

func okHandler(req *sip.Request, tx sip.ServerTransaction) {
	tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
}

// errListener fails Accept with err n times, then accepts.
type errListener struct {
	net.Listener
	n   int
	err error
}

func (l *errListener) Accept() (net.Conn, error) {
	if l.n > 0 {
		l.n--
		return nil, l.err
	}
	return l.Listener.Accept()
}

func TestAcceptErrorsBackOffAndServeOn(t *testing.T) {
	s, err := New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newGuardListener(&errListener{Listener: inner, n: 5, err: &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}}, s, TCPLimits{})
	defer l.Close()
	go func() {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err == nil {
			defer c.Close()
			time.Sleep(2 * time.Second)
		}
	}()
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept gave up: %v", err)
	}
	c.Close()
	if got := counterValue(t, s.guard.acceptErr); got != 5 {
		t.Errorf("accept errors counted %v, want 5", got)
	}
	l.Close()
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v", err)
	}
}

// The failure for real: a child process with a small open-file
// limit serves SIP while this test opens more TCP connections than it has
// descriptors; it used to exit with "accept4: too many open files". It
// must keep serving, and answer again once the flood is gone.
func TestFileDescriptorExhaustion(t *testing.T) {
	if os.Getenv("HOTDESK_FD_CHILD") == "1" {
		fdChild()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFileDescriptorExhaustion$")
	cmd.Env = append(os.Environ(), "HOTDESK_FD_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, _ := cmd.StdinPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	r := bufio.NewReader(out)
	addr, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	addr = strings.TrimSpace(addr)
	var flood []net.Conn
	for i := 0; i < 150; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		flood = append(flood, c)
	}
	time.Sleep(300 * time.Millisecond) // the child's accept loop meets EMFILE
	for _, c := range flood {
		c.Close()
	}
	// The child still serves: OPTIONS over a new TCP connection gets 200.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := optionsTCP(addr); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("child no longer serves after the flood: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintln(stdin, "stats")
	line, _ := r.ReadString('\n')
	if !strings.HasPrefix(line, "accept_errors ") || strings.TrimSpace(line) == "accept_errors 0" {
		t.Errorf("child did not meet EMFILE (%q): the test proves nothing", line)
	}
}

func optionsTCP(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.Write([]byte(sipText("OPTIONS", "fd-alive", "", c.LocalAddr().String(), "TCP")))
	c.SetReadDeadline(time.Now().Add(time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "SIP/2.0 200") {
		return fmt.Errorf("answer %q", line)
	}
	return nil
}

// fdChild serves with RLIMIT_NOFILE 64 until stdin closes; "stats" on
// stdin prints the accept errors met.
func fdChild() {
	lim := syscall.Rlimit{Cur: 64, Max: 64}
	var cur syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &cur)
	lim.Max = cur.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Println("setrlimit:", err)
		os.Exit(1)
	}
	s, err := New(Options{UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		err = s.Listen()
	}
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	s.Handle("OPTIONS", okHandler)
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(context.Background()) }()
	fmt.Println(s.TCPAddr().String())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		select {
		case err := <-errc:
			fmt.Println("serve ended:", err)
			os.Exit(1)
		default:
		}
		var m dto.Metric
		s.guard.acceptErr.Write(&m)
		fmt.Printf("accept_errors %v\n", m.GetCounter().GetValue())
	}
	os.Exit(0)
}

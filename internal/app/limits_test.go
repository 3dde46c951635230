package app

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serveLimited serves h with newHTTPServer's limits l on a capped listener.
func serveLimited(tb testing.TB, h http.Handler, l httpLimits) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := newHTTPServer(h, slog.New(slog.DiscardHandler), l)
	go srv.Serve(newLimitListener(ln, l.MaxConns))
	tb.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// A body sent slower than ReadTimeout allows is cut off (slow /signin),
// while a bodiless request's long answer (an event stream) is not.
func TestHTTPSlowBodyClosedStreamKept(t *testing.T) {
	l := httpLimits{ReadHeader: 300 * time.Millisecond, Read: 600 * time.Millisecond, Idle: time.Second, MaxConns: 10}
	addr := serveLimited(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			if _, err := io.ReadAll(r.Body); err != nil {
				return
			}
			fmt.Fprint(w, "read")
			return
		}
		fl := w.(http.Flusher)
		for i := 0; i < 15; i++ { // 1.5 s, past ReadTimeout
			select {
			case <-r.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			fmt.Fprintf(w, "data: %d\n\n", i)
			fl.Flush()
		}
	}), l)

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "POST /signin HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
	start := time.Now()
	for i := 0; i < 40 && time.Since(start) < 4*time.Second; i++ {
		if _, err := c.Write([]byte("a")); err != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	b, _ := io.ReadAll(c)
	if strings.Contains(string(b), "read") || time.Since(start) > 3*time.Second {
		t.Fatalf("slow body read to the end after %v: %q", time.Since(start), b)
	}

	res, err := http.Get("http://" + addr + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	n := 0
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			n++
		}
	}
	if n != 15 {
		t.Fatalf("event stream ended after %d events, want 15", n)
	}
}

// Idle keep-alive connections close after IdleTimeout, and the listener
// holds at most MaxConns: the next waits until one closes.
func TestHTTPIdleAndConnectionCap(t *testing.T) {
	l := httpLimits{ReadHeader: 5 * time.Second, Read: 5 * time.Second, Idle: 5 * time.Second, MaxConns: 2}
	addr := serveLimited(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }), l)
	var held []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	time.Sleep(100 * time.Millisecond)
	cl := http.Client{Timeout: 500 * time.Millisecond}
	if _, err := cl.Get("http://" + addr + "/"); err == nil {
		t.Fatal("a third connection was served with the cap at 2")
	}
	held[0].Close()
	cl.Timeout = 3 * time.Second
	res, err := cl.Get("http://" + addr + "/")
	if err != nil {
		t.Fatalf("no place after a connection closed: %v", err)
	}
	res.Body.Close()

	l = httpLimits{ReadHeader: 300 * time.Millisecond, Read: time.Second, Idle: 300 * time.Millisecond, MaxConns: 10}
	addr = serveLimited(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }), l)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	c.SetReadDeadline(start.Add(3 * time.Second))
	if _, err := io.ReadAll(c); err != nil || time.Since(start) > 2*time.Second {
		t.Fatalf("silent connection not closed after ReadHeaderTimeout: %v after %v", err, time.Since(start))
	}
}

func TestRaiseFileLimit(t *testing.T) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		t.Skip(err)
	}
	if r.Max < 512 {
		t.Skipf("hard limit %d too low to test", r.Max)
	}
	orig := r
	r.Cur = 256
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		t.Skip(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig)
	got, err := RaiseFileLimit()
	if err != nil || got != r.Max {
		t.Fatalf("RaiseFileLimit = %d, %v; want %d", got, err, r.Max)
	}
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r)
	if r.Cur != r.Max {
		t.Fatalf("soft limit %d after raise, hard %d", r.Cur, r.Max)
	}
}

func TestSIPLimitsFromConfig(t *testing.T) {
	l := Config{SIPMaxConns: 7, SIPMaxConnsPerSource: 3}.sipLimits()
	if l.MaxConns != 7 || l.MaxPerSource != 3 {
		t.Fatalf("configured caps: %+v", l)
	}
	l = Config{}.sipLimits()
	if l.MaxConns < 64 || l.MaxConns > 10000 || l.MaxPerSource != 200 {
		t.Fatalf("default caps: %+v", l)
	}
}

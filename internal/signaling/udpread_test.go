package signaling

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Issue 18, eighth pass: one goroutine reads the UDP socket. sipgo's
// four read loops took turns on the socket's read lock, and every
// datagram read woke the next reader (often on another thread) only to
// find the socket empty: on main this counts 4.
func TestUDPSocketHasOneReader(t *testing.T) {
	s := mustServe(t, nil)
	if res := exchange(t, s, request("OPTIONS", "one-reader", ""), 10*time.Second); res == nil || res.StatusCode != 200 {
		t.Fatalf("OPTIONS: %v", res)
	}
	var got int
	for try := 0; try < 50; try++ { // the reader is back in its read soon after answering
		if got = socketReaders(t); got == 1 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%d goroutines read the UDP socket, want 1", got)
}

// socketReaders counts the goroutines in (or waiting for) a read of a
// UDP socket: sipgo's loops in UDPConn.ReadFrom, the PBX's in the raw
// connection's Read (sipgo's loop on passConn reads a channel).
func socketReaders(tb testing.TB) int {
	tb.Helper()
	var b bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&b, 2); err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, g := range strings.Split(b.String(), "\n\n") {
		if strings.Contains(g, "net.(*UDPConn).ReadFrom") || strings.Contains(g, "net.(*rawConn).Read") {
			n++
		}
	}
	return n
}

// Issue 18, eighth pass: datagrams that wait in the socket are read
// together (recvmmsg), up to udpBatch a system call: a burst of 8 read
// while the loop was held costs one or two reads, not 8 (udpBatch 1, a
// datagram per read as sipgo's loop: 9 reads). And the held datagram does
// not stop the others: another loop reads them (TestUDPDatagramsReadWhileOneIsHeld).
func TestUDPBurstReadInOneSystemCall(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	held := ""
	s := mustServe(t, func(src string) bool {
		mu.Lock()
		h := src == held
		mu.Unlock()
		if h {
			once.Do(func() { close(entered); <-release })
		}
		return true
	})
	sock := s.udp.(*udpSock)
	slow, err := net.Dial("udp", s.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	mu.Lock()
	held = slow.LocalAddr().String()
	mu.Unlock()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	reads0 := sock.reads.Load()
	slow.Write([]byte(sipText("OPTIONS", "held", "", slow.LocalAddr().String(), "UDP")))
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the held datagram never reached the read filter")
	}
	c, err := net.Dial("udp", s.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const burst = 8
	for i := range burst {
		c.Write([]byte(sipText("OPTIONS", "burst"+string(rune('a'+i)), "", c.LocalAddr().String(), "UDP")))
	}
	buf := make([]byte, 4096)
	for i := range burst {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Read(buf); err != nil {
			t.Fatalf("answer %d of the burst: %v", i, err)
		}
	}
	close(release)
	slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := slow.Read(buf); err != nil {
		t.Fatalf("the held OPTIONS was not answered once released: %v", err)
	}
	if reads := sock.reads.Load() - reads0; reads > 3 {
		t.Errorf("%d datagrams took %d reads, want at most 3", burst+1, reads)
	}
}

// Issue 18, eighth pass: the raw sendto and recvmmsg convert addresses
// themselves: answers reach an IPv4, an IPv6 and (on a dual-stack
// socket) an IPv4 client at the address they came from.
func TestUDPListenerFamilies(t *testing.T) {
	for _, tc := range []struct{ name, listen, dial string }{
		{"ipv4", "127.0.0.1:0", "127.0.0.1"},
		{"ipv6", "[::1]:0", "::1"},
		{"dual-stack, ipv4 client", ":0", "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustServeOpts(t, Options{UDPAddr: tc.listen, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			addr := net.JoinHostPort(tc.dial, strconv.Itoa(s.UDPAddr().Port))
			c, err := net.Dial("udp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			local := c.LocalAddr().String()
			c.Write([]byte(sipText("OPTIONS", "fam-"+tc.name, "", local, "UDP")))
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 4096)
			n, err := c.Read(buf)
			if err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200 ") {
				t.Fatalf("OPTIONS from %s: %q %v", local, buf[:n], err)
			}
		})
	}
}

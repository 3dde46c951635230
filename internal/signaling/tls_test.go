package signaling

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// TestTLSGarbageHandshakesThenRealClient: 200 connections that send
// garbage, a plain SIP message or nothing at all instead of a ClientHello
// are each closed and counted, logged once for their source, and a real
// TLS client is served after them (and while the silent ones still hang).
func TestTLSGarbageHandshakesThenRealClient(t *testing.T) {
	logs := &siptest.Buffer{}
	cert := siptest.SelfSigned(t)
	// The 5 silent, 200 junk and one real connection all come from
	// 127.0.0.1 and may be open at once: above the default cap of 200 per
	// source, whose refusals are no handshake failures.
	s := mustServeOpts(t, Options{UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", TLSAddr: "127.0.0.1:0",
		TLSConfig: ServerTLSConfig(cert.TLS), TCP: TCPLimits{MaxPerSource: 1000},
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	addr := s.TLSAddr().String()
	silentSince := time.Now()

	// A few silent connections stay open: their handshakes wait, the
	// listener does not.
	for range 5 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	garbage := [][]byte{
		[]byte("OPTIONS sip:x@pbx.test SIP/2.0\r\nContent-Length: 0\r\n\r\n"),
		bytes.Repeat([]byte{0x16, 0x03, 0x01, 0xff, 0xff}, 10), // a record header lying about its length
		{0x16, 0x03, 0x03, 0x00, 0x05, 1, 2, 3, 4, 5},          // a handshake record that is no ClientHello
	}
	siptest.Junk(t, addr, 200, func(i int, c *net.TCPConn) {
		c.Write(garbage[i%len(garbage)])
		if i%len(garbage) == 1 {
			c.CloseWrite() // the server reads EOF mid-record
		}
	})

	start := time.Now()
	conf := &tls.Config{ServerName: "pbx.test", RootCAs: cert.Roots, MinVersion: tls.VersionTLS12}
	c, err := tls.Dial("tcp", addr, conf)
	if err != nil {
		t.Fatalf("real client after garbage: %v", err)
	}
	defer c.Close()
	fmt.Fprint(c, sipText("OPTIONS", "tls-real", "", c.LocalAddr().String(), "TLS"))
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "SIP/2.0 200") {
		t.Fatalf("real client: %q, %v", line, err)
	}
	if d := time.Since(start); d > TLSHandshakeTimeout/2 { // not behind the silent ones' handshakes
		t.Errorf("real client served after %s", d)
	}
	// Counted before the silent ones reach TLSHandshakeTimeout and are
	// counted too.
	deadline := silentSince.Add(TLSHandshakeTimeout - time.Second)
	for counterValue(t, s.guard.tlsFailed) < 200 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := counterValue(t, s.guard.tlsFailed); got != 200 {
		t.Errorf("handshake failures counted %v after %s, want 200", got, time.Since(silentSince).Round(time.Millisecond))
	}
	if got := counterValue(t, s.guard.tcpRefuse.WithLabelValues("per_source")); got != 0 {
		t.Errorf("%v connections refused for the per-source cap, want none", got)
	}
	if n := strings.Count(logs.String(), "TLS handshake failed"); n != 1 {
		t.Errorf("handshake failure logged %d times for one source, want once:\n%s", n, logs)
	}
	if ct := s.Contact("tls"); ct.Address.Port != s.TLSAddr().Port || !strings.Contains(ct.Address.String(), "transport=tls") {
		t.Errorf("TLS contact %s, want the TLS port %d with transport=tls", ct.Address.String(), s.TLSAddr().Port)
	}
}

// TestTLSOldVersionRefused: a TLS 1.1 client gets no session.
func TestTLSOldVersionRefused(t *testing.T) {
	s := mustServeOpts(t, Options{UDPAddr: "127.0.0.1:0", TLSAddr: "127.0.0.1:0",
		TLSConfig: ServerTLSConfig(siptest.SelfSigned(t).TLS), Logger: slog.New(slog.DiscardHandler)})
	c, err := tls.Dial("tcp", s.TLSAddr().String(), &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11})
	if err == nil {
		c.Close()
		t.Fatal("TLS 1.1 handshake succeeded")
	}
	deadline := time.Now().Add(2 * time.Second)
	for counterValue(t, s.guard.tlsFailed) != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := counterValue(t, s.guard.tlsFailed); got != 1 {
		t.Errorf("handshake failures %v, want 1", got)
	}
}

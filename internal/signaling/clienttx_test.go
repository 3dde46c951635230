package signaling

import (
	"context"
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

// countingParser is sipgo's parser with every parse of a Call-ID header
// counted: one per message parsed, by inspect or by sipgo (the server
// hands its parser to both).
func countingParser(n *atomic.Int64) *sip.Parser {
	hp := map[string]sip.HeaderParser{}
	for k, v := range sip.DefaultHeadersParser() {
		hp[k] = v
	}
	for _, name := range []string{"call-id", "i"} {
		next := hp[name]
		hp[name] = func(headerName []byte, headerData string) (sip.Header, error) {
			n.Add(1)
			return next(headerName, headerData)
		}
	}
	p := sip.NewParser(sip.WithHeadersParsers(hp))
	p.MaxMessageLength = MaxMessageSize
	return p
}

// mustServeCounting is mustServe with the server's parses counted in n.
func mustServeCounting(tb testing.TB, n *atomic.Int64) *Server {
	tb.Helper()
	s, err := New(Options{UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	s.parser = countingParser(n)
	if err := s.Listen(); err != nil {
		tb.Fatal(err)
	}
	testrun.Background(tb, s.Serve)
	return s
}

// Issue 18: a UDP response to a request the PBX sent is parsed once
// (inspect) and handed to its client transaction, not parsed again by
// sipgo's read loop; the transaction's index forgets it once it ends. A
// response matching no transaction still reaches sipgo (its stray
// handler), parsed there.
func TestUDPResponseToClientTxParsedOnce(t *testing.T) {
	var parses atomic.Int64
	s := mustServeCounting(t, &parses)
	peer, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	uri := sip.Uri{Scheme: "sip", User: "phone", Host: "127.0.0.1", Port: peer.LocalAddr().(*net.UDPAddr).Port}
	req := s.NewRequest(Out{Method: sip.OPTIONS, URI: uri, Dest: peer.LocalAddr().String()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx, err := s.Client.TransactionRequest(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Terminate()
	buf := make([]byte, 65535)
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := peer.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sip.NewParser().ParseSIP(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	res := sip.NewResponseFromRequest(got.(*sip.Request), 200, "OK", nil)
	before := parses.Load()
	if _, err := peer.WriteTo([]byte(res.String()), from); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-tx.Responses():
		if r.StatusCode != 200 || r.Source() != peer.LocalAddr().String() || r.Transport() != "UDP" {
			t.Fatalf("response %d from %q over %q", r.StatusCode, r.Source(), r.Transport())
		}
	case <-ctx.Done():
		t.Fatal("no response on the transaction")
	}
	if p := parses.Load() - before; p != 1 {
		t.Errorf("the response was parsed %d times, want 1", p)
	}
	tx.Terminate()
	if n := s.clients.len(); n != 0 {
		t.Errorf("%d client transactions indexed after the last ended, want 0", n)
	}

	// A stray response (no transaction) goes on to sipgo: inspect and sipgo parse it.
	stray := strings.Replace(res.String(), "z9hG4bK", "z9hG4bKstray", 1)
	before = parses.Load()
	if _, err := peer.WriteTo([]byte(stray), s.UDPAddr()); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); parses.Load()-before < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if p := parses.Load() - before; p != 2 {
		t.Errorf("a stray response was parsed %d times, want 2 (inspect, sipgo)", p)
	}
}

// A response that comes back at once (a peer on loopback) finds its
// transaction indexed already: it is indexed before the request is sent.
func TestUDPFastResponseParsedOnce(t *testing.T) {
	var parses atomic.Int64
	s := mustServeCounting(t, &parses)
	peer, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	go func() { // answers every request 200 as soon as it is read
		buf := make([]byte, 65535)
		p := sip.NewParser()
		for {
			n, from, err := peer.ReadFrom(buf)
			if err != nil {
				return
			}
			if m, err := p.ParseSIP(buf[:n]); err == nil {
				peer.WriteTo([]byte(sip.NewResponseFromRequest(m.(*sip.Request), 200, "OK", nil).String()), from)
			}
		}
	}()
	uri := sip.Uri{Scheme: "sip", User: "phone", Host: "127.0.0.1", Port: peer.LocalAddr().(*net.UDPAddr).Port}
	const n = 50
	for i := 0; i < n; i++ {
		req := s.NewRequest(Out{Method: sip.OPTIONS, URI: uri, Dest: peer.LocalAddr().String()})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		res, err := s.Client.Do(ctx, req)
		cancel()
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("OPTIONS %d: %v %v", i, res, err)
		}
	}
	if p := parses.Load(); p != n {
		t.Errorf("%d responses parsed %d times, want %d", n, p, n)
	}
}

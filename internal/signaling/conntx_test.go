package signaling

import (
	"bufio"
	"context"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// readTCPMessage reads one SIP message (its Content-Length is 0) from r.
func readTCPMessage(tb testing.TB, c net.Conn, r *bufio.Reader) string {
	tb.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	tp := textproto.NewReader(r)
	for {
		l, err := tp.ReadLine()
		if err != nil {
			tb.Fatalf("read: %v (so far %q)", err, b.String())
		}
		b.WriteString(l + "\r\n")
		if l == "" {
			return b.String()
		}
	}
}

// Issue 18: over TCP a request handled in a server transaction and a
// response to the PBX's client transaction are parsed once (guardConn's
// inspect), not again by sipgo's TCP read loop; the transaction answers
// over the request's connection. Before, each was parsed twice.
func TestTCPRequestAndResponseParsedOnce(t *testing.T) {
	var parses atomic.Int64
	s := mustServeCounting(t, &parses)
	var handled atomic.Int32
	s.Handle(sip.OPTIONS, func(req *sip.Request, tx sip.ServerTransaction) {
		handled.Add(1)
		if req.Transport() != "TCP" || req.Source() == "" {
			t.Errorf("request over %q from %q", req.Transport(), req.Source())
		}
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.To().Params.Add("tag", "pbx")
		tx.Respond(res)
	})
	c, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	before := parses.Load()
	if _, err := c.Write([]byte(sipText("OPTIONS", "tcp-once", "", c.LocalAddr().String(), "TCP"))); err != nil {
		t.Fatal(err)
	}
	if got := readTCPMessage(t, c, r); !strings.HasPrefix(got, "SIP/2.0 200 ") {
		t.Fatalf("OPTIONS answered %q", got)
	}
	if n := parses.Load() - before; n != 1 {
		t.Errorf("the request was parsed %d times, want 1", n)
	}
	if n := handled.Load(); n != 1 {
		t.Errorf("handler called %d times, want 1", n)
	}

	// The PBX's request to the phone goes over the phone's connection;
	// the phone's 200 comes back over it.
	local := c.LocalAddr().(*net.TCPAddr)
	uri := sip.Uri{Scheme: "sip", User: "phone", Host: "127.0.0.1", Port: local.Port}
	req := s.NewRequest(Out{Method: sip.OPTIONS, URI: uri, Dest: local.String(), Transport: "tcp"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tx, err := s.Client.TransactionRequest(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Terminate()
	in := readTCPMessage(t, c, r)
	got, err := sip.NewParser().ParseSIP([]byte(in))
	if err != nil {
		t.Fatalf("parse %q: %v", in, err)
	}
	res := sip.NewResponseFromRequest(got.(*sip.Request), 200, "OK", nil)
	before = parses.Load()
	if _, err := c.Write([]byte(res.String())); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-tx.Responses():
		if r.StatusCode != 200 || r.Source() != local.String() || r.Transport() != "TCP" {
			t.Fatalf("response %d from %q over %q", r.StatusCode, r.Source(), r.Transport())
		}
	case <-ctx.Done():
		t.Fatal("no response on the transaction")
	}
	if p := parses.Load() - before; p != 1 {
		t.Errorf("the response was parsed %d times, want 1", p)
	}
}

// A request in a server transaction of ours holds a reference to its
// TCP connection in sipgo's pool until the transaction ends, then gives
// it back: after 5 more transactions (one of them retransmitted) the
// connection's reference count is what it was after the first.
// (Over TCP a client does not retransmit; a copy that comes while its
// transaction ends goes unanswered, as with sipgo's own layer.)
func TestTCPServerTxReleasesConnection(t *testing.T) {
	var parses atomic.Int64
	s := mustServeCounting(t, &parses)
	s.Handle(sip.OPTIONS, func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	c, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	refs := func() int {
		conn := s.UA.TransportLayer().Pool("tcp").Get(c.LocalAddr().String())
		if conn == nil {
			t.Fatal("the connection is not in sipgo's pool")
		}
		return conn.Ref(-1) // Get's reference given back
	}
	// settled waits until no transaction is left and the count is want
	// (a transaction leaves the index just before it releases).
	settled := func(want int) int {
		got := refs()
		for deadline := time.Now().Add(5 * time.Second); (s.servers.len() > 0 || got != want) && time.Now().Before(deadline); got = refs() {
			time.Sleep(5 * time.Millisecond)
		}
		return got
	}
	send := func(msg string) {
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		readTCPMessage(t, c, r)
	}
	send(sipText("OPTIONS", "ref-first", "", c.LocalAddr().String(), "TCP"))
	for deadline := time.Now().Add(5 * time.Second); s.servers.len() > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	want := refs()
	for i := range 5 {
		msg := sipText("OPTIONS", "ref-"+strconv.Itoa(i), "", c.LocalAddr().String(), "TCP")
		send(msg)
		if i == 2 {
			// A copy: to the transaction (which may have ended: no
			// answer), or a new one once it left the index.
			if _, err := c.Write([]byte(msg)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := settled(want); got != want || want < 1 {
		t.Fatalf("connection references %d after the transactions ended, want %d", got, want)
	}
}

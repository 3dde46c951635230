package signaling

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// goroutinesCreated is how many goroutines the process has started.
func goroutinesCreated(tb testing.TB) uint64 {
	tb.Helper()
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		tb.Skip("runtime/metrics has no /sched/goroutines-created")
	}
	return s[0].Value.Uint64()
}

// nopConn is a transaction's connection that sends nothing.
type nopConn struct{}

func (nopConn) LocalAddr() net.Addr        { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060} }
func (nopConn) WriteMsg(sip.Message) error { return nil }
func (nopConn) Ref(int) int                { return 1 }
func (nopConn) TryClose() (int, error)     { return 1, nil }
func (nopConn) Close() error               { return nil }

// mustParseRequest parses lines joined by CRLF, with an empty body.
func mustParseRequest(tb testing.TB, lines ...string) *sip.Request {
	tb.Helper()
	m, err := sip.NewParser().ParseSIP([]byte(strings.Join(lines, "\r\n") + "\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		tb.Fatal(err)
	}
	return m.(*sip.Request)
}

// mustClientInvite starts an INVITE client transaction over UDP indexed
// in s (as sourceRequester does), sending nothing.
func mustClientInvite(tb testing.TB, s *Server, branch string) (*sip.Request, *sip.ClientTx) {
	tb.Helper()
	req := mustParseRequest(tb, "INVITE sip:callee@127.0.0.1:5099 SIP/2.0",
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK"+branch,
		"From: <sip:pbx@127.0.0.1>;tag=a1", "To: <sip:callee@127.0.0.1>",
		"Call-ID: "+branch, "CSeq: 1 INVITE", "Max-Forwards: 70")
	key, err := sip.ClientTxKeyMake(req)
	if err != nil {
		tb.Fatal(err)
	}
	tx := sip.NewClientTx(key, req, nopConn{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.clients.add(tx)
	if err := tx.Init(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(tx.Terminate)
	return req, tx
}

// Issue 18, ninth pass: the read loop hands a UDP response to the client
// transaction itself while its owner reads (the provisional responses and
// the first final one), in order: no goroutine is started per response
// (there were three a call: the callee's 180 and 200, the 200 to the BYE).
func TestUDPResponsesHandedOverWithoutGoroutine(t *testing.T) {
	s := &Server{}
	req, tx := mustClientInvite(t, s, "wake-answer")
	got := make(chan int, 3)
	owned := make(chan struct{})
	go func() { // the owner, as sipgo's WaitAnswer: reads until the final response
		defer close(owned)
		for {
			select {
			case res := <-tx.Responses():
				got <- res.StatusCode
				if !res.IsProvisional() {
					return
				}
			case <-tx.Done():
				return
			}
		}
	}()
	src := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5099}
	codes := []int{180, 183, 200}
	before := goroutinesCreated(t)
	for _, code := range codes {
		if !s.deliverResponse(sip.NewResponseFromRequest(req, code, "", nil), src) {
			t.Fatalf("%d: no transaction", code)
		}
	}
	// Timer A (T1) may fire once if this machine stalled since Init.
	if n := goroutinesCreated(t) - before; n >= uint64(len(codes)) {
		t.Errorf("%d goroutines started for %d responses, want none", n, len(codes))
	}
	<-owned
	close(got)
	var order []int
	for code := range got {
		order = append(order, code)
	}
	if fmt.Sprint(order) != fmt.Sprint(codes) {
		t.Errorf("owner got %v, want %v (arrival order)", order, codes)
	}
}

// What follows a final response (a retransmission) still gets a goroutine
// of its own: sipgo holds a retransmitted non-2xx final for T2 before
// ACKing it again, and the owner no longer reads.
func TestUDPResponseAfterFinalNotHandedOverInline(t *testing.T) {
	s := &Server{}
	req, tx := mustClientInvite(t, s, "wake-busy")
	src := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5099}
	read := make(chan struct{})
	go func() { <-tx.Responses(); close(read) }() // the owner takes the 486 and leaves
	busy := sip.NewResponseFromRequest(req, 486, "Busy Here", nil)
	busy.To().Params.Add("tag", "b1")
	s.deliverResponse(busy, src)
	<-read
	before := goroutinesCreated(t)
	again := sip.NewResponseFromRequest(req, 486, "Busy Here", nil)
	again.To().Params.Add("tag", "b1")
	if !s.deliverResponse(again, src) { // returns at once: T2 is waited for in a goroutine
		t.Fatal("no transaction")
	}
	if n := goroutinesCreated(t) - before; n < 1 {
		t.Errorf("a retransmitted final response was handed over in the read loop (%d goroutines started)", n)
	}
	tx.Terminate() // ends that goroutine's wait
}

// Issue 18, ninth pass: an ACK that matches no server transaction (the
// ACK of a 2xx) is routed in the read loop: its handlers only take note.
// It had a goroutine of its own, started and woken once a call.
func TestUDPAckRoutedWithoutGoroutine(t *testing.T) {
	s, err := New(Options{UDPAddr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s.txLog = s.log // Listen's; no socket is needed here
	acks := make(chan *sip.Request, 1)
	s.AddDialog("wake-ack", DialogHandlerFunc(func(req *sip.Request, _ sip.ServerTransaction) { acks <- req }))
	ack := mustParseRequest(t, "ACK sip:pbx@127.0.0.1 SIP/2.0",
		"Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKwake-ack-2",
		"From: <sip:caller@127.0.0.1>;tag=c1", "To: <sip:pbx@127.0.0.1>;tag=p1",
		"Call-ID: wake-ack", "CSeq: 1 ACK", "Max-Forwards: 70")
	ack.SetTransport("UDP")
	ack.SetSource("127.0.0.1:5099")
	before := goroutinesCreated(t)
	if !s.runTx(ack, nopConn{}) {
		t.Fatal("ACK left to sipgo")
	}
	if n := goroutinesCreated(t) - before; n != 0 {
		t.Errorf("%d goroutines started for an ACK, want 0", n)
	}
	select {
	case <-acks:
	default:
		t.Error("the ACK's dialog handler had not run when runTx returned")
	}
	if n := s.servers.len(); n != 0 {
		t.Errorf("%d server transactions left after the ACK, want 0", n)
	}
}

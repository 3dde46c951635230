package signaling

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Issue 18: a UDP request handled in a server transaction is parsed once
// (inspect), not again by sipgo's read loop; its retransmission goes to
// the same transaction (the same answer, the handler not called again).
func TestUDPRequestInServerTxParsedOnce(t *testing.T) {
	var parses atomic.Int64
	s := mustServeCounting(t, &parses)
	var handled atomic.Int32
	s.Handle(sip.OPTIONS, func(req *sip.Request, tx sip.ServerTransaction) {
		handled.Add(1)
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.To().Params.Add("tag", "pbx")
		tx.Respond(res)
	})
	p := newUDPPeer(t, s)
	opts := sipText("OPTIONS", "once", "", p.c.LocalAddr().String(), "UDP")
	before := parses.Load()
	p.send(opts)
	first := p.read(5 * time.Second)
	if !strings.HasPrefix(first, "SIP/2.0 200 ") {
		t.Fatalf("OPTIONS answered %q", first)
	}
	if n := parses.Load() - before; n != 1 {
		t.Errorf("the request was parsed %d times, want 1", n)
	}
	p.send(opts) // retransmission: the transaction answers again
	if again := p.read(5 * time.Second); again != first {
		t.Errorf("retransmission answered %q, want %q", again, first)
	}
	if n := handled.Load(); n != 1 {
		t.Errorf("handler called %d times, want 1", n)
	}
}

// A CANCEL of an INVITE whose server transaction serveTx started is
// answered 200 and ends the INVITE with 487, as sipgo's transaction layer
// did; the transactions are terminated when the server stops.
func TestUDPCancelOfServerTx(t *testing.T) {
	var parses atomic.Int64
	s, err := New(Options{UDPAddr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s.parser = countingParser(&parses)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	defer func() {
		cancel()
		<-served
	}()
	canceled := make(chan struct{})
	s.Handle(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
		tx.OnCancel(func(*sip.Request) { close(canceled) })
		res := sip.NewResponseFromRequest(req, 180, "Ringing", nil)
		res.To().Params.Add("tag", "pbx")
		tx.Respond(res)
		<-tx.Done()
	})
	p := newUDPPeer(t, s)
	invite := sipText("INVITE", "cancelled", "", p.c.LocalAddr().String(), "UDP")
	p.send(invite)
	if got := p.read(5 * time.Second); !strings.HasPrefix(got, "SIP/2.0 180 ") {
		t.Fatalf("INVITE answered %q", got)
	}
	cancelReq := strings.Replace(strings.Replace(invite, "INVITE sip:", "CANCEL sip:", 1), " INVITE\r\n", " CANCEL\r\n", 1)
	before := parses.Load()
	p.send(cancelReq)
	got := map[string]bool{}
	for range 2 {
		res := p.read(5 * time.Second)
		got[strings.SplitN(res, "\r\n", 2)[0]+" "+strconv.FormatBool(strings.Contains(res, " CANCEL\r\n"))] = true
	}
	if !got["SIP/2.0 200 OK true"] || !got["SIP/2.0 487 Request Terminated false"] {
		t.Fatalf("CANCEL and INVITE answered %v, want 200 to the CANCEL and 487 to the INVITE", got)
	}
	select {
	case <-canceled:
	case <-time.After(5 * time.Second):
		t.Fatal("the INVITE's transaction saw no CANCEL")
	}
	if n := parses.Load() - before; n != 1 {
		t.Errorf("the CANCEL was parsed %d times, want 1", n)
	}
	p.send(sipText("OPTIONS", "left", "", p.c.LocalAddr().String(), "UDP")) // 405, kept for Timer J
	p.read(5 * time.Second)
	if s.servers.len() == 0 {
		t.Fatal("no transaction kept to absorb retransmissions")
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	served <- nil
	if n := s.servers.len(); n != 0 {
		t.Errorf("%d server transactions left after Serve returned, want 0", n)
	}
}

package signaling

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// challengeServer answers INVITEs without Proxy-Authorization with a 407
// from a handler picked for them (HandleStatelessIf), the rest with the
// INVITE handler's 407; it counts the calls of each handler and the
// stateless transactions each got.
func challengeServer(t *testing.T) (s *Server, stateless, stateful *atomic.Int32) {
	s = mustServe(t, nil)
	stateless, stateful = new(atomic.Int32), new(atomic.Int32)
	answer := func(n *atomic.Int32, want bool) sipgo.RequestHandler {
		return func(req *sip.Request, tx sip.ServerTransaction) {
			if IsStateless(tx) == want {
				n.Add(1)
			}
			tx.Respond(sip.NewResponseFromRequest(req, 407, "Proxy Authentication Required", nil))
		}
	}
	s.Handle(sip.INVITE, answer(stateful, false))
	s.HandleStatelessIf(sip.INVITE, func(req *sip.Request) bool { return req.GetHeader("Proxy-Authorization") == nil },
		answer(stateless, true))
	return s, stateless, stateful
}

// udpPeer is a client socket that sends raw requests and reads responses.
type udpPeer struct {
	t *testing.T
	c net.Conn
}

func newUDPPeer(t *testing.T, s *Server) *udpPeer {
	c, err := net.Dial("udp", s.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &udpPeer{t: t, c: c}
}

func (p *udpPeer) send(raw string) { p.c.Write([]byte(raw)) }

// read returns the next datagram, "" after wait.
func (p *udpPeer) read(wait time.Duration) string {
	buf := make([]byte, 65535)
	p.c.SetReadDeadline(time.Now().Add(wait))
	n, err := p.c.Read(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

// Issue 18: an INVITE the pick selects is answered in the read loop with
// a stateless transaction; its retransmission gets the same response
// without being handled again, and the ACK of that response never
// reaches sipgo (a dialog added meanwhile for its Call-ID would get it).
func TestStatelessIfAnswersPickedInviteAndDropsItsAck(t *testing.T) {
	s, stateless, stateful := challengeServer(t)
	p := newUDPPeer(t, s)
	invite := sipText("INVITE", "challenged", "", p.c.LocalAddr().String(), "UDP")
	p.send(invite)
	first := p.read(5 * time.Second)
	if !strings.HasPrefix(first, "SIP/2.0 407 ") {
		t.Fatalf("INVITE: %q", first)
	}
	p.send(invite) // retransmission
	if again := p.read(5 * time.Second); again != first {
		t.Fatalf("retransmission answered %q, want the same bytes as %q", again, first)
	}
	if stateless.Load() != 1 || stateful.Load() != 0 {
		t.Fatalf("handled %d times statelessly, %d in a transaction; want 1 and 0", stateless.Load(), stateful.Load())
	}

	var acks atomic.Int32
	s.AddDialog("challenged", DialogHandlerFunc(func(req *sip.Request, tx sip.ServerTransaction) {
		if req.Method == sip.ACK {
			acks.Add(1)
		}
	}))
	// The ACK of the 407: the INVITE's Via (branch), CSeq number and From.
	ack := strings.Replace(strings.Replace(invite, "INVITE sip:", "ACK sip:", 1), " INVITE\r\n", " ACK\r\n", 1)
	p.send(ack)
	// An ACK of another INVITE (another branch) does reach the dialog.
	p.send(sipText("ACK", "challenged", "", p.c.LocalAddr().String(), "UDP"))
	for deadline := time.Now().Add(5 * time.Second); acks.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the ACK of the 407 was sent first
	if acks.Load() != 1 {
		t.Fatalf("the dialog got %d ACKs, want 1 (the other INVITE's)", acks.Load())
	}
	mustAlive(t, s)
}

// Requests the pick does not select, or that belong to a dialog, go
// through sipgo's transactions as before.
func TestStatelessIfLeavesTheRestToSipgo(t *testing.T) {
	s, stateless, stateful := challengeServer(t)
	p := newUDPPeer(t, s)
	local := p.c.LocalAddr().String()
	withCreds := strings.Replace(sipText("INVITE", "with-creds", "", local, "UDP"), "Max-Forwards:",
		`Proxy-Authorization: Digest username="a", realm="pbx.test", nonce="n", uri="sip:200@pbx.test", response="0"`+"\r\nMax-Forwards:", 1)
	for _, raw := range []string{
		withCreds,
		sipText("INVITE", "re-invite", "totag", local, "UDP"), // in dialog: To tag
	} {
		p.send(raw)
		if res := p.read(5 * time.Second); !strings.HasPrefix(res, "SIP/2.0 ") {
			t.Fatalf("no answer to %q", raw)
		}
	}
	// A Call-ID with a dialog goes to the dialog.
	var routed atomic.Int32
	s.AddDialog("routed", DialogHandlerFunc(func(req *sip.Request, tx sip.ServerTransaction) {
		routed.Add(1)
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	}))
	p.send(sipText("INVITE", "routed", "", local, "UDP"))
	if res := p.read(5 * time.Second); !strings.HasPrefix(res, "SIP/2.0 200 ") {
		t.Fatalf("INVITE of a routed Call-ID: %q", res)
	}
	if stateless.Load() != 0 || stateful.Load() != 1 || routed.Load() != 1 {
		t.Fatalf("stateless %d, stateful %d, dialog %d; want 0, 1 (the re-INVITE has no dialog: 481), 1",
			stateless.Load(), stateful.Load(), routed.Load())
	}
}

// Over TCP a picked INVITE is answered statelessly on its connection too.
func TestStatelessIfOverTCP(t *testing.T) {
	s, stateless, _ := challengeServer(t)
	line, err := tcpFirstLine(t, s, "INVITE", "tcp-challenged", 5*time.Second)
	if err != nil || !strings.HasPrefix(line, "SIP/2.0 407 ") || stateless.Load() != 1 {
		t.Fatalf("INVITE over TCP: %q %v, %d stateless", line, err, stateless.Load())
	}
}

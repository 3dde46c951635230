package signaling

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Issue 18, ninth pass: a non-INVITE server transaction over UDP ends as
// soon as its final response is out (sipgo kept it 32 s for Timer J,
// whose firing started a goroutine); a retransmission of its request is
// still answered with the same response, without the handler.
func TestUDPAnsweredNonInviteEndsAtOnce(t *testing.T) {
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
	opts := sipText("OPTIONS", "completed", "", p.c.LocalAddr().String(), "UDP")
	p.send(opts)
	first := p.read(5 * time.Second)
	if !strings.HasPrefix(first, "SIP/2.0 200 ") {
		t.Fatalf("OPTIONS answered %q", first)
	}
	for deadline := time.Now().Add(5 * time.Second); s.servers.len() > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if n := s.servers.len(); n != 0 {
		t.Fatalf("%d server transactions kept after the final response, want 0 (Timer J)", n)
	}
	if n := s.completed.len(); n != 1 {
		t.Errorf("%d answered transactions recorded, want 1", n)
	}
	p.send(opts) // a retransmission: the recorded answer
	if again := p.read(5 * time.Second); again != first {
		t.Errorf("retransmission answered %q, want %q", again, first)
	}
	if n := handled.Load(); n != 1 {
		t.Errorf("handler called %d times, want 1", n)
	}
}

// A record answers for 64*T1, as Completed does (RFC 3261 17.2.2), and
// is forgotten after.
func TestCompletedTxsExpire(t *testing.T) {
	var c completedTxs
	defer c.stop()
	t0 := time.Now()
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5099}
	c.put("a", []byte("SIP/2.0 200 OK"), dst, t0)
	c.put("b", []byte("SIP/2.0 200 OK"), dst, t0.Add(time.Second))
	if c.get("a", t0.Add(64*sip.T1-time.Millisecond)) == nil {
		t.Error("a forgotten before 64*T1")
	}
	if c.get("a", t0.Add(64*sip.T1)) != nil {
		t.Error("a still answered at 64*T1")
	}
	c.mu.Lock()
	c.prune(t0.Add(64 * sip.T1))
	c.mu.Unlock()
	if n := c.len(); n != 1 || c.get("b", t0.Add(64*sip.T1)) == nil {
		t.Errorf("after a's expiry: %d records kept, want b's", n)
	}
	c.mu.Lock()
	c.prune(t0.Add(64*sip.T1 + time.Second))
	c.mu.Unlock()
	if n := c.len(); n != 0 {
		t.Errorf("%d records kept after all expired", n)
	}
}

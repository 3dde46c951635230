package signaling

import (
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Issue 18 review: an INVITE answered 2xx whose transaction ended with its
// dialog (sipgo's ReadBye and Bye terminate it) had its late
// retransmission handled as a new INVITE. It is absorbed now, as the
// transaction's Accepted state would have; an INVITE answered non-2xx
// stays sipgo's (its retransmission gets the same answer), and a new
// INVITE is handled.
func TestRetransmissionOfEndedInviteAbsorbed(t *testing.T) {
	s := mustServe(t, nil)
	var handled atomic.Int32
	ended := make(chan struct{}, 1)
	s.Handle(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
		handled.Add(1)
		status, reason := sip.StatusOK, "OK"
		if strings.HasPrefix(req.CallID().Value(), "busy") {
			status, reason = sip.StatusBusyHere, "Busy Here"
		}
		res := sip.NewResponseFromRequest(req, status, reason, nil)
		res.To().Params.Add("tag", "pbx")
		tx.Respond(res)
		if status == sip.StatusOK {
			tx.Terminate() // the call is over: as sipgo's ReadBye does
			ended <- struct{}{}
		}
	})
	p := newUDPPeer(t, s)
	local := p.c.LocalAddr().String()
	// next is the next response to an INVITE of callID within wait ("":
	// none); the 486 is repeated (Timer G, no ACK is sent).
	next := func(callID string, wait time.Duration) string {
		for deadline := time.Now().Add(wait); time.Now().Before(deadline); {
			if got := p.read(time.Until(deadline)); strings.Contains(got, "Call-ID: "+callID+"\r\n") {
				return got
			}
		}
		return ""
	}
	answered := func(invite, callID, want string) {
		t.Helper()
		p.send(invite)
		if got := next(callID, 5*time.Second); !strings.HasPrefix(got, "SIP/2.0 "+want+" ") {
			t.Fatalf("INVITE answered %q, want %s", got, want)
		}
	}
	invite := sipText("INVITE", "accepted", "", local, "UDP")
	answered(invite, "accepted", "200")
	<-ended
	p.send(invite) // the retransmission, after the transaction ended
	busy := sipText("INVITE", "busy", "", local, "UDP")
	answered(busy, "busy", "486")
	answered(busy, "busy", "486") // retransmitted: sipgo's transaction repeats its answer
	if got := next("accepted", time.Second); got != "" {
		t.Errorf("retransmission of the answered INVITE got %q", got)
	}
	if n := handled.Load(); n != 2 {
		t.Errorf("INVITE handler called %d times, want 2 (each INVITE once)", n)
	}
}

// BenchmarkRouteInviteRemember is what routeInvite adds to every UDP
// INVITE handled through sipgo: its transaction's key (made by sipgo
// already) looked up and remembered, 1,500 new ones a second.
func BenchmarkRouteInviteRemember(b *testing.B) {
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = "z9hG4bK-" + strconv.Itoa(i) + "__127.0.0.1:5060__INVITE"
	}
	var a answered
	now := time.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now = now.Add(time.Second / 1500)
		if _, seen := a.begin(keys[i%len(keys)], now); seen && i < len(keys) {
			b.Fatal("a new key seen")
		}
		i++
	}
}

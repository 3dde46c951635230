package b2bua_test

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// wantAbsorbed sends inv (a retransmission) again and fails unless, for a
// second, nothing comes back but the INVITE's final answer again (final).
func (r *rawPhone) wantAbsorbed(t *testing.T, inv string, final *sip.Response) {
	t.Helper()
	r.send(inv)
	for deadline := time.Now().Add(time.Second); ; {
		got := r.read(time.Until(deadline))
		if got == nil {
			return
		}
		if got.StatusCode != final.StatusCode || got.To().Value() != final.To().Value() {
			t.Errorf("retransmission answered %d %s, want nothing or the %d again", got.StatusCode, got.Reason, final.StatusCode)
			return
		}
	}
}

// answeredCall is a call from HD1 (a rawPhone) to 202, answered on HD2:
// the INVITE with credentials as sent, its 200 and the callee's side.
func answeredCall(t *testing.T) (o *office, ph *rawPhone, inv string, res *sip.Response, in *siptest.Incoming) {
	t.Helper()
	o = mustOffice(t)
	ph = newRawPhone(t, o.addr(), "HD1")
	inv, res = ph.call("202", "pw-HD1")
	if res.StatusCode != sip.StatusOK {
		t.Fatalf("call: %d", res.StatusCode)
	}
	return o, ph, inv, res, o.hd2.MustWaitIncoming(t, 2*time.Second)
}

// hangUp sends the BYE of the call answered by res.
func (r *rawPhone) hangUp(res *sip.Response) {
	r.tb.Helper()
	r.send(r.inDialog("BYE", 3, "z9hG4bK-raw3", res))
	if bye := r.final(); bye.StatusCode != sip.StatusOK {
		r.tb.Fatalf("BYE: %d", bye.StatusCode)
	}
}

// Issue 18 review: an answered INVITE's retransmission read after the
// call ended (its transaction gone with the dialog) was challenged 407
// again as a new call attempt (its nonce-count used). Absorbed now.
func TestRetransmittedInviteAfterCallEnded(t *testing.T) {
	t.Parallel()
	o, ph, inv, res, in := answeredCall(t)
	ph.hangUp(res)
	if err := in.WaitEnded(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	o.waitIdle(t, 3*time.Second)
	ph.wantAbsorbed(t, inv, res)
	if _, err := o.hd2.WaitIncoming(500 * time.Millisecond); err == nil {
		t.Error("the callee rang again")
	}
}

// While the call is up sipgo's transaction absorbs the retransmission
// (Accepted state, RFC 6026): nothing reaches the callee.
func TestRetransmittedInviteDuringCall(t *testing.T) {
	t.Parallel()
	_, ph, inv, res, in := answeredCall(t)
	<-in.Confirmed()
	ph.wantAbsorbed(t, inv, res)
	if n := len(in.Received()); n != 0 {
		t.Errorf("callee got %d in-dialog requests", n)
	}
	ph.hangUp(res)
}

// An INVITE answered non-2xx keeps its transaction (Timer H, then I after
// the ACK): the retransmission gets at most the same answer again.
func TestRetransmittedInviteAfterReject(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	o.hd2.SetAnswerMode(siptest.AnswerBusy)
	ph := newRawPhone(t, o.addr(), "HD1")
	inv, res := ph.call("202", "pw-HD1")
	if res.StatusCode != sip.StatusBusyHere {
		t.Fatalf("call: %d", res.StatusCode)
	}
	o.hd2.MustWaitIncoming(t, 2*time.Second)
	o.waitIdle(t, 3*time.Second)
	ph.wantAbsorbed(t, inv, res)
	if _, err := o.hd2.WaitIncoming(500 * time.Millisecond); err == nil {
		t.Error("the callee rang again")
	}
}

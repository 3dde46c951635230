package b2bua

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// A leg's provisional responses cost no CANCEL: it is built from the
// INVITE only when the leg is cancelled (most legs are answered or
// refused), once per INVITE transaction, and is the INVITE's CANCEL (RFC
// 3261 9.1). After a final response (a digest retry rewrites the INVITE)
// there is none until the next provisional one.
func TestLegCancelBuiltOnlyWhenSent(t *testing.T) {
	inv := mustLegInvite(t)
	ringing := sip.NewResponseFromRequest(inv, sip.StatusRinging, "Ringing", nil)
	allocs := testing.AllocsPerRun(100, func() {
		cn := legCancel{prov: make(chan struct{}, 1)}
		cn.saw(ringing, inv)
		cn.saw(ringing, inv)
	})
	if allocs > 2 { // the legCancel and its channel
		t.Errorf("%v allocations for a leg's two provisional responses, want at most 2 (no CANCEL built)", allocs)
	}

	cn := legCancel{prov: make(chan struct{}, 1)}
	if cn.request() != nil {
		t.Fatal("a CANCEL before any provisional response")
	}
	cn.saw(ringing, inv)
	req := cn.request()
	if req == nil {
		t.Fatal("no CANCEL after a provisional response")
	}
	if got, want := req.String(), cancelOf(inv).String(); got != want {
		t.Errorf("CANCEL\n%s\nwant\n%s", got, want)
	}
	cn.saw(ringing, inv)
	if cn.request() != req {
		t.Error("the CANCEL built again for the same INVITE transaction")
	}
	cn.saw(sip.NewResponseFromRequest(inv, sip.StatusProxyAuthRequired, "Proxy Authentication Required", nil), inv)
	if cn.request() != nil {
		t.Error("a CANCEL after a final response")
	}
	inv.CSeq().SeqNo++ // the digest retry
	cn.saw(ringing, inv)
	if got := cn.request(); got == nil || got.CSeq().SeqNo != inv.CSeq().SeqNo || got.CSeq().MethodName != sip.CANCEL {
		t.Errorf("CANCEL after the retry: %v, want CSeq %d CANCEL", got, inv.CSeq().SeqNo)
	}
}

func mustLegInvite(t *testing.T) *sip.Request {
	t.Helper()
	inv := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "202", Host: "10.0.0.2", Port: 5060})
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "10.0.0.1", Port: 5060, Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	inv.AppendHeader(via)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "201", Host: "pbx.test"}, Params: sip.NewParams()}
	from.Params.Add("tag", "abc")
	inv.AppendHeader(from)
	inv.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "202", Host: "pbx.test"}})
	callID := sip.CallIDHeader("leg-1@pbx.test")
	inv.AppendHeader(&callID)
	inv.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.INVITE})
	inv.AppendHeader(sip.NewHeader("Route", "<sip:10.0.0.3;lr>"))
	inv.SetDestination("10.0.0.2:5060")
	inv.SetTransport("UDP")
	return inv
}

package b2bua_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// setTrunkTransport sets Settings.Trunk.Transport.
func (p *pbx) setTrunkTransport(tb testing.TB, transport string) {
	tb.Helper()
	p.updateSettings(tb, func(st *hotdesk.Settings) { st.Trunk.Transport = transport })
}

// TestEmergencyOnUDPOnlyTrunk: the INVITE with its PIDF-LO is too large
// for UDP and goes to TCP first (RFC 3261 18.1.1); the trunk refuses TCP,
// so it falls back to UDP and the call is answered (issue 10: the caller
// got 480 and the trunk nothing).
func TestEmergencyOnUDPOnlyTrunk(t *testing.T) {
	t.Parallel()
	o := trunkOffice(t)
	o.login(t, "201", "HD3")
	prov := o.provider(t, "u1") // sipp on UDP only: TCP to its port is refused
	o.hd3.MustCallAndHangUp(t, "112")
	inv := received(prov.MustWait(t), "INVITE")
	for _, want := range []string{"INVITE sip:112@provider.test", "Via: SIP/2.0/UDP", "<ca:SEAT>HD3</ca:SEAT>",
		"Content-Type: application/pidf+xml"} {
		if !strings.Contains(inv, want) {
			t.Errorf("provider's INVITE lacks %q:\n%s", want, inv)
		}
	}
	if rec := o.waitRecord(t, "201"); !rec.Emergency || rec.Result != hotdesk.ResultAnswered {
		t.Errorf("record %+v, want an answered emergency call", rec)
	}
	o.waitIdle(t, 3*time.Second)
}

// TestEmergencyOnTCPTrunkFallsBackToUDP: a trunk set to TCP or TLS whose
// proxy takes only UDP still gets the emergency call.
func TestEmergencyOnTCPTrunkFallsBackToUDP(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			o := trunkOffice(t)
			prov := o.provider(t, "u1")
			o.setTrunkTransport(t, transport)
			o.hd3.MustCallAndHangUp(t, "112")
			if inv := received(prov.MustWait(t), "INVITE"); !strings.Contains(inv, "<ca:SEAT>HD3</ca:SEAT>") {
				t.Errorf("provider's INVITE:\n%s", inv)
			}
			o.waitIdle(t, 3*time.Second)
		})
	}
}

// TestTrunkTransportTCP: with Trunk.Transport tcp an ordinary call goes to
// a TCP-only provider over TCP, with a TCP Contact.
func TestTrunkTransportTCP(t *testing.T) {
	t.Parallel()
	o := trunkOffice(t)
	prov := o.provider(t, "t1")
	o.setTrunkTransport(t, "tcp")
	o.hd2.MustCallAndHangUp(t, "0205551234")
	inv := received(prov.MustWait(t), "INVITE")
	if !strings.Contains(inv, "Via: SIP/2.0/TCP") || !strings.Contains(inv, ";transport=tcp>") {
		t.Errorf("provider's INVITE should come over TCP with a TCP Contact:\n%s", inv)
	}
	o.waitIdle(t, 3*time.Second)
}

// TestTrunkInviteLeavesFromListeningPort: the trunk's INVITE leaves from
// the PBX's listening UDP port, the one its Via names, though the provider
// never sent anything (issue 10: sipgo used an ephemeral port).
func TestTrunkInviteLeavesFromListeningPort(t *testing.T) {
	t.Parallel()
	o := trunkOffice(t)
	prov, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(providerIP)})
	if err != nil {
		t.Fatal(err)
	}
	defer prov.Close()
	o.withTrunk(t, prov.LocalAddr().(*net.UDPAddr).Port)
	done := make(chan error, 1)
	go func() { _, err := o.hd2.Dial("0205551234"); done <- err }()
	inv, src := siptest.ReadRequest(t, prov)
	want := o.sip.UDPAddr().Port
	if src.Port != want || inv.Via().Port != want {
		t.Errorf("trunk INVITE from port %d, Via port %d; want both %d", src.Port, inv.Via().Port, want)
	}
	if tag, _ := inv.From().Params.Get("tag"); tag == "" || inv.Contact() == nil {
		t.Errorf("INVITE without From tag or Contact:\n%s", inv)
	}
	res := sip.NewResponseFromRequest(inv, sip.StatusServiceUnavailable, "Unavailable", nil)
	res.To().Params.Add("tag", "p1")
	if _, err := prov.WriteToUDP([]byte(res.String()), src); err != nil {
		t.Fatal(err)
	}
	// Take the ACK so nothing is retransmitted at the next test.
	if ack, _ := siptest.ReadRequest(t, prov); !ack.IsAck() {
		t.Errorf("%s after the 503, want ACK", ack.Method)
	}
	if err := <-done; statusOf(err) != sip.StatusServiceUnavailable {
		t.Errorf("caller got %v, want the provider's 503", err)
	}
}

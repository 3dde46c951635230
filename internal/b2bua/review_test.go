package b2bua_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// Found in review: a phone may escape "+" as %2B (RFC 3261 19.1.2). The
// escaped number was taken as a local one (national permission) and sent
// to the provider as it was, who decodes it: an international call by a
// user allowed only national ones.
func TestEscapedPlusNeedsInternationalPermission(t *testing.T) {
	t.Parallel()
	o := trunkOffice(t)
	prov := o.provider(t, "u1")
	if _, err := o.hd2.Dial("%2B4930123456"); statusOf(err) != sip.StatusForbidden {
		t.Errorf("national user dialling %%2B49…: %v, want 403", err)
	}
	o.hd2.MustCallAndHangUp(t, "%2B31205551234")
	if inv := received(prov.MustWait(t), "INVITE"); !strings.HasPrefix(inv, "INVITE sip:+31205551234@provider.test") {
		t.Errorf("provider's INVITE:\n%s\nwant sip:+31205551234@provider.test", inv)
	}
	o.waitIdle(t, 3*time.Second)
}

// Found in review: a tel: Request-URI (RFC 3966) has no user part in
// sipgo's Uri, so every tel: call was 404.
func TestTelURIReachesDID(t *testing.T) {
	t.Parallel()
	o := trunkOffice(t)
	u := sip.Uri{}
	if err := sip.ParseUri("tel:+31-20-555-0202;phone-context=+31", &u); err != nil {
		t.Fatal(err)
	}
	c, err := o.hd1.DialWith("", siptest.DialOptions{URI: &u})
	if err != nil {
		t.Fatalf("dial tel:+31205550202: %v", err)
	}
	if _, err := o.hd2.WaitIncoming(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	o.hangUp(t, c)
}

// Found in review: every leg left with Max-Forwards 70 whatever the caller
// sent, so a call looping through the trunk (or a contact pointing back at
// the PBX) never ended, and 0 was not refused (RFC 3261 16.3, 16.6).
func TestMaxForwardsDecrementedAndZeroRefused(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	zero := sip.MaxForwardsHeader(0)
	if _, err := o.hd1.DialWith("202", siptest.DialOptions{Headers: []sip.Header{&zero}}); statusOf(err) != sip.StatusTooManyHops {
		t.Errorf("Max-Forwards 0: %v, want 483", err)
	}
	if _, err := o.hd2.WaitIncoming(200 * time.Millisecond); err == nil {
		t.Error("callee rang for a looping INVITE")
	}
	ten := sip.MaxForwardsHeader(10)
	c, err := o.hd1.DialWith("202", siptest.DialOptions{Headers: []sip.Header{&ten}})
	if err != nil {
		t.Fatal(err)
	}
	in := o.hd2.MustWaitIncoming(t, 2*time.Second)
	if mf := in.Request.MaxForwards(); mf == nil || mf.Val() != 9 {
		t.Errorf("callee's Max-Forwards %v, want 9", mf)
	}
	o.hangUp(t, c)
}

// Checked in review (fine): a phone cannot present another user to the
// callee with its own P-Asserted-Identity or From display name, and none
// of its routing or identity headers, Via or Call-ID reach the callee.
func TestCallerCannotSpoofIdentity(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	from := &sip.FromHeader{DisplayName: "The Boss", Address: sip.Uri{Scheme: "sip", User: "HD1", Host: realm}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	c, err := o.hd1.DialWith("202", siptest.DialOptions{Headers: []sip.Header{
		from,
		sip.NewHeader("P-Asserted-Identity", "\"The Boss\" <sip:202@"+realm+">"),
		sip.NewHeader("Remote-Party-ID", "\"The Boss\" <sip:202@"+realm+">;party=calling"),
		sip.NewHeader("Diversion", "<sip:202@"+realm+">;reason=unconditional"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	in := o.hd2.MustWaitIncoming(t, 2*time.Second)
	if pais := in.Request.GetHeaders("P-Asserted-Identity"); len(pais) != 1 || !strings.Contains(pais[0].Value(), "sip:201@") {
		t.Errorf("callee's P-Asserted-Identity %v, want only 201's", pais)
	}
	if f := in.Request.From(); f.DisplayName != "User 201" || f.Address.User != "201" {
		t.Errorf("callee's From %q", f.Value())
	}
	for _, name := range []string{"Remote-Party-ID", "Record-Route", "Route", "Diversion"} {
		if h := in.Request.GetHeader(name); h != nil {
			t.Errorf("%s passed through: %q", name, h.Value())
		}
	}
	if vias := in.Request.GetHeaders("Via"); len(vias) != 1 {
		t.Errorf("callee's INVITE has %d Vias, want the PBX's only", len(vias))
	}
	if in.Request.CallID().Value() == c.CallID {
		t.Error("the callee's leg reuses the caller's Call-ID")
	}
	o.hangUp(t, c)
}

// Found in review: when the callee's 200 crossed the caller's CANCEL
// (RFC 3261 9.2: the 200 wins, the caller gets 487 from its own
// transaction), the answer sat in the call's queue and was dropped at
// cleanup: the callee was never ACKed nor hung up and showed a live call
// with nobody on the other end. Either the caller gets the call or the
// callee gets ACK and BYE.
func TestAnswerCrossingCancel(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	o.hd2.SetAnswerMode(siptest.AnswerRing)
	const rounds = 20
	for i := range rounds {
		ctx, cancel := context.WithCancel(context.Background())
		type dialed struct {
			c   *siptest.Call
			err error
		}
		done := make(chan dialed, 1)
		go func() {
			c, err := o.hd1.DialContext(ctx, "202", siptest.DialOptions{})
			done <- dialed{c, err}
		}()
		in := o.hd2.MustWaitIncoming(t, 2*time.Second)
		time.Sleep(50 * time.Millisecond)
		go in.Answer()
		time.Sleep(time.Duration(i%4) * time.Millisecond)
		cancel()
		d := <-done
		if d.err == nil {
			if err := d.c.Hangup(); err != nil {
				t.Errorf("round %d: hang up the answered call: %v", i, err)
			}
		}
		mustEnd(t, in, fmt.Sprintf("round %d (caller got %v): callee's answer was never hung up", i, d.err))
		o.waitIdle(t, 5*time.Second)
	}
	if rec := o.waitRecord(t, "202"); rec.Result != hotdesk.ResultCancelled && rec.Result != hotdesk.ResultAnswered {
		t.Errorf("last record %+v, want cancelled or answered", rec)
	}
}

// Found in review: the PBX answered every relayed request with the
// caller's Contact, so a UDP callee whose caller used TCP was told to send
// its next requests over TCP (and a UDP-only trunk to a TCP phone's call
// likewise). The answer to a leg carries the Contact of that leg's
// transport.
func TestRelayedAnswerContactMatchesLegTransport(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	args := append(deviceArgs(t, "HD1"), "-s", "202", "-t", "t1")
	r := startSippOn(t, "call_uac_update.xml", "127.0.0.1", siptest.FreePort(t, "127.0.0.1"), o.sip.TCPAddr().String(), args...)
	in := o.hd2.MustWaitIncoming(t, 5*time.Second)
	select {
	case <-in.Confirmed():
	case <-time.After(5 * time.Second):
		t.Fatal("callee's answer not ACKed")
	}
	wantCode(t, "callee UPDATE", sip.StatusOK)(in.Send(sip.UPDATE, "application/sdp", []byte(holdSDP)))
	res := in.Responses()
	if len(res) != 1 || res[0].Contact() == nil {
		t.Fatalf("callee got %v", res)
	}
	ct := res[0].Contact().Address
	if tr, _ := ct.UriParams.Get("transport"); tr != "" || ct.Port != o.sip.UDPAddr().Port {
		t.Errorf("UDP callee got Contact %s, want the PBX's UDP address %s", ct.String(), o.sip.UDPAddr())
	}
	r.MustWait(t)
	mustEnd(t, in, "callee got no BYE")
	o.waitIdle(t, 3*time.Second)
}

// Checked in review (fine): a re-INVITE the other side refuses gets that
// refusal back and the call goes on.
func TestRefusedReinviteRelayedAndCallSurvives(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	c, in := o.mustConnect(t)
	o.hd2.SetReofferStatus(sip.StatusNotAcceptableHere)
	wantCode(t, "refused hold", sip.StatusNotAcceptableHere)(c.Request(sip.INVITE, "application/sdp", []byte(holdSDP)))
	o.hd2.SetReofferStatus(0)
	wantCode(t, "hold after a refusal", sip.StatusOK)(c.Request(sip.INVITE, "application/sdp", []byte(holdSDP)))
	wantCode(t, "callee UPDATE after a refusal", sip.StatusOK)(in.Send(sip.UPDATE, "application/sdp", []byte(holdSDP)))
	hangUp(t, c, in)
	o.waitIdle(t, 3*time.Second)
}

// Found in review: a BYE while a relayed re-INVITE was unanswered (a far
// end that never answers it) left the call (its records, the devices'
// in-call marks, the live list) up for the 10 s relay timeout, and the
// caller's re-INVITE was then answered 408. The BYE ends the relay at
// once and the re-INVITE gets 487 (RFC 3261 15.1.2).
func TestByeWhileReinvitePending(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	c, in := o.mustConnect(t)
	o.hd2.SetReofferStatus(-1)
	hold := make(chan int, 1)
	go func() {
		code, _ := c.Request(sip.INVITE, "application/sdp", []byte(holdSDP))
		hold <- code
	}()
	deadline := time.Now().Add(2 * time.Second)
	for len(in.Received()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if len(in.Received()) == 0 {
		t.Fatal("callee did not get the re-INVITE")
	}
	start := time.Now()
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-in.Ended():
	case <-time.After(2 * time.Second):
		t.Fatal("callee got no BYE")
	}
	o.waitIdle(t, 2*time.Second)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("call ended %v after the BYE", d)
	}
	select {
	case code := <-hold:
		if code != sip.StatusRequestTerminated {
			t.Errorf("pending re-INVITE answered %d, want 487", code)
		}
	case <-time.After(2 * time.Second):
		t.Error("pending re-INVITE got no final answer")
	}
}

// Found in review: sipgo ends a server transaction when its handler
// returns without a final answer, and HandleInDialog returned as soon as
// it had queued the request. A re-INVITE the far end took longer than T1
// to answer was retransmitted by the phone, found no transaction, and was
// relayed a second time as a new request.
func TestSlowReinviteRelayedOnce(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	c, in := o.mustConnect(t)
	o.hd2.SetReofferDelay(1200 * time.Millisecond) // past two retransmissions (T1, 2*T1)
	wantCode(t, "hold", sip.StatusOK)(c.Request(sip.INVITE, "application/sdp", []byte(holdSDP)))
	time.Sleep(300 * time.Millisecond)
	if got := in.Received(); len(got) != 1 {
		t.Errorf("callee got %d re-INVITEs, want 1", len(got))
	}
	o.hangUp(t, c)
}

// Found in review: for a re-INVITE without SDP the other side's 200 holds
// the offer and the asker's ACK the answer (RFC 3261 14.1, 13.2.2.4). The
// PBX ACKed the far end at once with an empty ACK and dropped the asker's
// answer: the far end never got an answer to its offer.
func TestOfferlessReinviteAnswerReachesFarEnd(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	c, in := o.mustConnect(t)
	code, offer, err := c.ReinviteWithoutOffer()
	if err != nil || code != sip.StatusOK {
		t.Fatalf("offerless re-INVITE: %d %v", code, err)
	}
	if !strings.Contains(string(offer), "m=audio") {
		t.Fatalf("caller got no offer in the 200:\n%s", offer)
	}
	deadline := time.Now().Add(2 * time.Second)
	var acks []*sip.Request
	for time.Now().Before(deadline) {
		acks = nil
		for _, r := range in.Received() {
			if r.Method == sip.ACK {
				acks = append(acks, r)
			}
		}
		if len(acks) > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(acks) != 1 || !strings.Contains(string(acks[0].Body()), "m=audio") {
		t.Errorf("callee's ACKs with an answer: %v, want the caller's answer", acks)
	}
	o.hangUp(t, c)
}

// Found in review: when the caller vanished while ringing (no CANCEL, UDP)
// the ring timeout's 480 waited for an ACK that never came: the call, its
// records and both devices' in-call marks stayed for Timer H (32 s). The
// transaction absorbs the ACK on its own; the call ends at the timeout.
func TestVanishedCallerReleasedAtRingTimeout(t *testing.T) {
	t.Parallel()
	o := mustOffice(t, hotdesk.User{Extension: "201"}, hotdesk.User{Extension: "202", RingTimeout: 1})
	o.hd2.SetAnswerMode(siptest.AnswerRing)
	args := append(deviceArgs(t, "HD1"), "-s", "202")
	r := startSippOn(t, "call_uac_vanish.xml", "127.0.0.1", siptest.FreePort(t, "127.0.0.1"), o.addr(), args...)
	in := o.hd2.MustWaitIncoming(t, 5*time.Second)
	r.MustWait(t)
	mustEnd(t, in, "ringing phone not cancelled at the ring timeout")
	o.waitIdle(t, 3*time.Second)
	if o.b2b.InCall("HD1") || o.b2b.InCall("HD2") {
		t.Error("a device is still marked in a call")
	}
	o.wantResult(t, "202", hotdesk.ResultNoAnswer)
}

// Checked in review (fine): when two phones answer at once the caller gets
// one and the other's 200 is ACKed and hung up.
func TestTwoAnswersAtOnce(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	soft := o.softphone202(t, siptest.AnswerRing)
	for round := range 5 {
		type dialed struct {
			c   *siptest.Call
			err error
		}
		done := make(chan dialed, 1)
		go func() {
			c, err := o.hd1.Dial("202")
			done <- dialed{c, err}
		}()
		a := o.hd2.MustWaitIncoming(t, 2*time.Second)
		b := soft.MustWaitIncoming(t, 2*time.Second)
		go a.Answer()
		go b.Answer()
		d := <-done
		if d.err != nil {
			t.Fatalf("round %d: %v", round, d.err)
		}
		winner := a // the other is cancelled or, if it answered, ACKed and hung up
		select {
		case <-a.Ended():
			winner = b
		case <-b.Ended():
		case <-time.After(3 * time.Second):
			t.Fatalf("round %d: neither second answer was hung up", round)
		}
		select {
		case <-winner.Ended():
			t.Fatalf("round %d: both answers were hung up", round)
		case <-time.After(100 * time.Millisecond):
		}
		if err := d.c.Hangup(); err != nil {
			t.Fatal(err)
		}
		mustEnd(t, winner, fmt.Sprintf("round %d: winner got no BYE", round))
		o.waitIdle(t, 3*time.Second)
	}
}

// freeEvenUDPPort is an even loopback UDP port that was free a moment ago.
func freeEvenUDPPort(tb testing.TB) int {
	tb.Helper()
	for range 50 {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		if port%2 == 0 && port < 65534 {
			return port
		}
	}
	tb.Fatal("no even UDP port")
	return 0
}

// Found in review: a refusal announcement kept its RTP port (and its
// handler) until the caller ACKed the final 403, for Timer H (32 s) when
// the caller had gone. With one announcement port, the next refused
// caller got no announcement for half a minute.
func TestVanishedCallerReleasesAnnouncementPort(t *testing.T) {
	t.Parallel()
	port := freeEvenUDPPort(t)
	p := mustPBXWith(t, media.NewPortPool(port, port+1))
	p.mustUser(t, hotdesk.User{Extension: "202"})
	hd3 := p.mustDevice(t, hotdesk.Device{ID: "HD3"})
	args := append(deviceArgs(t, "HD3"), "-s", "202")
	startSippOn(t, "call_uac_vanish.xml", "127.0.0.1", siptest.FreePort(t, "127.0.0.1"), p.addr(), args...).MustWait(t)
	deadline := time.Now().Add(12 * time.Second) // the prompt plays out first
	for {
		announced := false
		_, err := hd3.DialWith("202", siptest.DialOptions{OnResponse: func(r *sip.Response) {
			announced = announced || r.StatusCode == sip.StatusSessionInProgress
		}})
		if statusOf(err) != sip.StatusForbidden {
			t.Fatalf("neutral phone: %v, want 403", err)
		}
		if announced {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the announcement port was not released after the vanished caller's prompt")
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// Found in review: when the callee's 200 crossed the PBX's CANCEL and the
// callee (an RFC 3261 phone, its INVITE transaction ended by the 2xx)
// answered the CANCEL 481, sipgo gave up on the INVITE and dropped the
// 200: the callee was never ACKed nor hung up and showed a call with
// nobody for 32 s. The leg keeps waiting for the final answer after its
// CANCEL, and a 200 is ACKed and hung up.
func TestCalleeAnswerCrossingPBXCancel(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	if err := o.store.CreateDevice(context.Background(), &hotdesk.Device{ID: "HD9", Mode: hotdesk.ModeHotdesk, SIPPassword: "pw-HD9", Model: hotdesk.ModelGeneric}); err != nil {
		t.Fatal(err)
	}
	o.login(t, "202", "HD9")
	port := siptest.FreePort(t, "127.0.0.1")
	startSippOn(t, "register_ok.xml", "127.0.0.1", port, o.addr(), append(deviceArgs(t, "HD9"), "-key", "expires", "300")...).MustWait(t)
	callee := startSippOn(t, "call_callee_cancel_glare_uas.xml", "127.0.0.1", port, "")
	time.Sleep(300 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := o.hd1.DialContext(ctx, "202", siptest.DialOptions{OnResponse: func(r *sip.Response) {
		if r.StatusCode == sip.StatusRinging {
			cancel()
		}
	}})
	if err == nil {
		t.Fatal("cancelled dial succeeded")
	}
	callee.MustWait(t)
	o.wantResult(t, "202", hotdesk.ResultCancelled)
	o.waitIdle(t, 3*time.Second)
}

// Found in review: the ACK of a relayed re-INVITE took the dialog's
// latest CSeq (sipgo numbers in-dialog requests itself), so an INFO (a key
// press) relayed while the re-INVITE was pending gave the ACK the INFO's
// number; the far end ignored it, kept retransmitting its 200 and hung up
// after 32 s (RFC 3261 13.2.2.4: the ACK has the INVITE's CSeq).
func TestReinviteAckKeepsItsCSeq(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	c, in := o.mustConnect(t)
	o.hd2.SetReofferDelay(300 * time.Millisecond)
	hold := make(chan int, 1)
	go func() {
		code, _ := c.Request(sip.INVITE, "application/sdp", []byte(holdSDP))
		hold <- code
	}()
	time.Sleep(100 * time.Millisecond)
	wantCode(t, "INFO", sip.StatusOK)(c.SendInfo('5', true))
	if code := <-hold; code != sip.StatusOK {
		t.Fatalf("hold: %d", code)
	}
	var inv *sip.Request
	for _, r := range in.Received() {
		if r.Method == sip.INVITE {
			inv = r
		}
	}
	if inv == nil {
		t.Fatal("callee got no re-INVITE")
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(in.Acks()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	acks := in.Acks() // the initial INVITE's and the re-INVITE's
	if len(acks) < 2 || acks[len(acks)-1].CSeq().SeqNo != inv.CSeq().SeqNo {
		var got []uint32
		for _, a := range acks {
			got = append(got, a.CSeq().SeqNo)
		}
		t.Errorf("ACK CSeqs %v, want the last one %d (the re-INVITE's)", got, inv.CSeq().SeqNo)
	}
	o.hangUp(t, c)
}

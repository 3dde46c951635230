package interop

import (
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	pbxSIP    = netip.MustParseAddrPort("127.0.0.1:5060")
	bs1SIP    = netip.MustParseAddrPort(clientIP + ":5071")
	uriSpaces = regexp.MustCompile(`<[^>]*\s[^>]*>`)
)

// TestInterop runs the issue-10 walk-through with baresip and linphonec
// against the real binary. Outside the namespace it only re-executes itself
// inside one; the steps below run in there, in order, each one building on
// the state the previous ones left.
func TestInterop(t *testing.T) {
	if os.Getenv(envInner) == "" {
		runInNamespace(t)
		return
	}
	start := time.Now()
	setUpNamespace(t)
	wire := startCapture(t)
	pbx := startPBX(t, os.Getenv(envBinary))
	tone := writeTone(t)
	// HD00001 over UDP and HD00003 over TCP on baresip; HD00002 (UDP) and
	// soft205 (TCP) on linphonec.
	bs1 := startBaresip(t, baresipOpts{name: "baresip-HD00001-udp", device: "HD00001", transport: "udp",
		sipPort: 5071, ctrlPort: 4444, rtpLow: 30000, tone: tone})
	bs3 := startBaresip(t, baresipOpts{name: "baresip-HD00003-tcp", device: "HD00003", transport: "tcp",
		sipPort: 5075, ctrlPort: 4445, rtpLow: 30100, tone: tone})
	lp := startLinphone(t, tone)

	t.Run("Register", func(t *testing.T) { testRegister(t, pbx) })
	t.Run("BaresipInlineLogin", func(t *testing.T) { testInlineLogin(t, pbx, wire, bs1) })
	t.Run("NeutralPhoneAnnouncement403", func(t *testing.T) { testNeutral(t, wire, bs3) })
	var promptedFrom time.Time
	t.Run("BaresipPromptedLoginRFC4733", func(t *testing.T) {
		promptedFrom = time.Now()
		testPromptedRFC4733(t, pbx, wire, bs3)
	})
	t.Run("RTPWhileWaitingForDigits", func(t *testing.T) {
		// Issue 10 item 6: the PBX keeps sending RTP (silence or comfort
		// noise) while it waits for the PIN.
		gap, n := maxGap(wire, promptedFrom, bs3.rtpTo)
		if n == 0 {
			t.Fatalf("no RTP reached baresip during the prompted login")
		}
		if gap > time.Second {
			t.Errorf("longest gap in the PBX's RTP to baresip during the prompted login: %s (want ≤ 1s)", gap)
		}
	})
	var infoLogin time.Time
	t.Run("LinphonePromptedLoginSIPInfo", func(t *testing.T) {
		infoLogin = time.Now()
		testPromptedINFO(t, pbx, wire, lp)
	})
	t.Run("LinphoneAnswersCheckSync200", func(t *testing.T) { testCheckSyncLinphone(t, wire, infoLogin) })
	t.Run("CallBetweenClients", func(t *testing.T) { testCall(t, pbx, wire, bs3, lp) })
	t.Run("CallToSoftphoneOverItsTCPFlow", func(t *testing.T) { testCallOverFlow(t, wire, bs3, lp) })
	t.Run("AfterRestartCheckSyncFrom5060", func(t *testing.T) { testAfterRestart(t, pbx, wire, lp) })
	t.Logf("interop steps took %s", time.Since(start).Round(100*time.Millisecond))
}

// testRegister: every account registered, on the transport it was told to
// use, as the PBX sees it.
func testRegister(t *testing.T, pbx *pbx) {
	want := []struct{ device, transport, agent string }{
		{"HD00001", "udp", "baresip"}, {"HD00003", "tcp", "baresip"},
		{"HD00002", "udp", "Linphone"}, {"soft205", "tcp", "Linphone"},
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, w := range want {
		for {
			var d apiDevice
			pbx.get(t, "/api/v1/devices/"+w.device, &d)
			ok := false
			for _, r := range d.Registration {
				ok = ok || strings.EqualFold(r.Transport, w.transport) && strings.Contains(strings.ToLower(r.UserAgent), strings.ToLower(w.agent))
			}
			if ok {
				t.Logf("%s registered over %s: %+v", w.device, w.transport, d.Registration)
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: no %s registration from %s: %+v", w.device, w.transport, w.agent, d.Registration)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// testInlineLogin: *35*201*1234 from a neutral phone.
func testInlineLogin(t *testing.T, pbx *pbx, wire *capture, bs *baresip) {
	from := time.Now()
	bs.dialAnswered(t, "*35*201*1234")
	closed := bs.waitEvent(t, 20*time.Second, "CALL_CLOSED")
	t.Logf("baresip: call closed by the PBX after the prompt: %q", closed.Param)
	all, voiced := wire.RTP(func(p rtpPkt) bool { return p.At.After(from) && bs.rtpTo(p) })
	t.Logf("RTP to baresip during the login call: %d packets, %d with voice", all, voiced)
	if voiced < 50 {
		t.Errorf("confirmation prompt: %d voiced RTP packets reached baresip (want ≥ 50, one second)", voiced)
	}
	pbx.waitLogin(t, "HD00001", "201")
	checkPBXRequestsLeaveFrom5060(t, wire, from)

	// baresip 1.0 answers an unsolicited NOTIFY (no SUBSCRIBE of its own)
	// with 481: by its design, not a PBX fault. Noted, not asserted.
	n, ok := wire.waitSIP(5*time.Second, func(m sipMsg) bool {
		return m.At.After(from) && m.Method() == "NOTIFY" && !m.IsResponse() && m.Dst == bs1SIP &&
			strings.HasPrefix(m.Headers["event"], "check-sync")
	})
	if !ok {
		t.Errorf("no check-sync NOTIFY reached baresip (HD00001) after the login")
		return
	}
	checkNotifyWellFormed(t, n, "HD00001")
	if r, ok := responseTo(wire, n, 3*time.Second); ok {
		t.Logf("baresip 1.0 answered the check-sync NOTIFY with %q (it refuses NOTIFYs outside its own subscriptions by design)", r.First)
	}
}

// testNeutral: a neutral phone dialling an extension hears the
// announcement as early media, then gets 403.
func testNeutral(t *testing.T, wire *capture, bs *baresip) {
	from := time.Now()
	bs.drain()
	bs.cmd(t, "dial", "sip:202@hotdesk.local")
	closed := bs.waitEvent(t, 25*time.Second, "CALL_CLOSED")
	t.Logf("baresip (HD00003, TCP): call closed: %q; events %v", closed.Param, bs.eventsSeen())
	final, ok := wire.waitSIP(time.Second, func(m sipMsg) bool {
		return m.At.After(from) && m.IsResponse() && m.Method() == "INVITE" && m.Status() >= 200 && m.TCP &&
			m.Status() != 401 && m.Status() != 407
	})
	if !ok || final.Status() != 403 {
		t.Errorf("final response to the neutral phone's INVITE: %q, want 403", final.First)
	}
	early := wire.SIP(func(m sipMsg) bool {
		return m.At.After(from) && m.TCP && m.Status() == 183 && strings.Contains(m.Raw, "m=audio")
	})
	if len(early) == 0 {
		t.Errorf("no 183 with SDP (early media) before the 403")
	}
	all, voiced := wire.RTP(func(p rtpPkt) bool { return p.At.After(from) && bs.rtpTo(p) })
	t.Logf("announcement: %d RTP packets reached baresip, %d with voice", all, voiced)
	if voiced < 50 {
		t.Errorf("announcement: %d voiced RTP packets reached the neutral phone (want ≥ 50)", voiced)
	}
}

// testPromptedRFC4733: *35*201, then the PIN as RFC 4733 events, on the TCP
// phone HD00003 — 201 roams there from HD00001.
func testPromptedRFC4733(t *testing.T, pbx *pbx, wire *capture, bs *baresip) {
	from := time.Now()
	bs.dialAnswered(t, "*35*201")
	// Key in the PIN after the prompt has ended, as a person looking for
	// their PIN would: the PBX must keep the call alive with RTP meanwhile.
	time.Sleep(5 * time.Second)
	bs.keypad(t, "1234#")
	closed := bs.waitEvent(t, 25*time.Second, "CALL_CLOSED")
	t.Logf("baresip: prompted login call closed: %q", closed.Param)
	events, _ := wire.RTP(func(p rtpPkt) bool { return p.At.After(from) && bs.rtpFrom(p) && p.PT >= 96 })
	t.Logf("baresip sent %d RFC 4733 telephone-event packets", events)
	if events == 0 {
		t.Errorf("baresip sent no telephone-event RTP: the digits did not go as RFC 4733")
	}
	m := pbx.waitLogin(t, "HD00003", "201")
	if m["HD00001"] == "201" {
		t.Errorf("201 is still logged in at HD00001 after logging in at HD00003: %v", m)
	}
}

// testPromptedINFO: *35*202, then the PIN as SIP INFO from linphonec.
func testPromptedINFO(t *testing.T, pbx *pbx, wire *capture, lp *linphone) {
	from := time.Now()
	lp.skip()
	lp.send(t, "call sip:*35*202@hotdesk.local")
	lp.waitLine(t, 15*time.Second, "connected")
	time.Sleep(time.Second)
	lp.keypad(t, "1234#")
	lp.waitLine(t, 25*time.Second, "ended")
	infos := wire.SIP(func(m sipMsg) bool {
		return m.At.After(from) && m.Method() == "INFO" && !m.IsResponse() && linphoneSIP(m.Src)
	})
	ok := wire.SIP(func(m sipMsg) bool {
		return m.At.After(from) && m.Method() == "INFO" && m.Status() == 200 && linphoneSIP(m.Dst)
	})
	t.Logf("linphonec sent %d INFO requests, %d answered 200", len(infos), len(ok))
	if len(infos) < 5 || len(ok) < len(infos) {
		t.Errorf("INFO digits: %d sent, %d answered 200 (want 5 and all)", len(infos), len(ok))
	}
	pbx.waitLogin(t, "HD00002", "202")
}

// testCheckSyncLinphone: after the login the PBX sends HD00002 a
// well-formed check-sync NOTIFY and linphone answers 200 (issue 10 item 1:
// with a malformed From it answered 400).
func testCheckSyncLinphone(t *testing.T, wire *capture, from time.Time) {
	n, ok := wire.waitSIP(5*time.Second, func(m sipMsg) bool {
		return m.At.After(from) && m.Method() == "NOTIFY" && !m.IsResponse() && linphoneSIP(m.Dst) &&
			strings.HasPrefix(m.Headers["event"], "check-sync")
	})
	if !ok {
		t.Fatalf("no check-sync NOTIFY reached linphonec (HD00002) after the login")
	}
	checkNotifyWellFormed(t, n, "HD00002")
	if n.Src != pbxSIP {
		t.Errorf("check-sync NOTIFY left from %s, want the listening socket %s", n.Src, pbxSIP)
	}
	r, ok := responseTo(wire, n, 5*time.Second)
	if !ok {
		t.Fatalf("linphonec did not answer the check-sync NOTIFY")
	}
	if r.Status() != 200 {
		t.Errorf("linphonec answered the check-sync NOTIFY with %q, want 200\nNOTIFY:\n%s", r.First, n.Raw)
	}
}

// testCall: 201 (baresip on HD00003) calls 202 (linphonec on HD00002, auto
// answer); audio flows both ways; baresip hangs up; both users' history has
// the call.
func testCall(t *testing.T, pbx *pbx, wire *capture, bs *baresip, lp *linphone) {
	from := time.Now()
	callLinphone(t, bs, lp, "202", 4*time.Second)
	in := func(p rtpPkt) bool { return p.At.After(from) }
	_, bsSent := wire.RTP(func(p rtpPkt) bool { return in(p) && bs.rtpFrom(p) })
	_, lpGot := wire.RTP(func(p rtpPkt) bool { return in(p) && linphoneRTP(p.Dst) })
	_, lpSent := wire.RTP(func(p rtpPkt) bool { return in(p) && linphoneRTP(p.Src) })
	_, bsGot := wire.RTP(func(p rtpPkt) bool { return in(p) && bs.rtpTo(p) })
	t.Logf("voiced RTP: baresip sent %d, linphonec received %d; linphonec sent %d, baresip received %d",
		bsSent, lpGot, lpSent, bsGot)
	if lpGot < 100 || bsGot < 100 {
		t.Errorf("audio both ways: linphonec received %d, baresip received %d voiced packets (want ≥ 100 each, 2 s)", lpGot, bsGot)
	}
	// Clean hang-up: baresip's BYE answered 200, and the PBX's BYE to
	// linphonec answered 200.
	for _, leg := range []struct {
		name string
		bye  func(sipMsg) bool
	}{
		{"baresip → PBX", func(m sipMsg) bool { return m.TCP && m.Dst == pbxSIP }},
		{"PBX → linphonec", func(m sipMsg) bool { return linphoneSIP(m.Dst) }},
	} {
		byes := wire.SIP(func(m sipMsg) bool { return m.At.After(from) && m.Method() == "BYE" && !m.IsResponse() && leg.bye(m) })
		if len(byes) == 0 {
			t.Errorf("%s: no BYE", leg.name)
			continue
		}
		if r, ok := responseTo(wire, byes[0], 3*time.Second); !ok || r.Status() != 200 {
			t.Errorf("%s: BYE answered %q, want 200", leg.name, r.First)
		}
	}
	for _, u := range []struct{ ext, dir, peer string }{{"201", "outbound", "202"}, {"202", "inbound", "201"}} {
		deadline := time.Now().Add(5 * time.Second)
		for {
			var calls []apiCall
			pbx.get(t, "/api/v1/users/"+u.ext+"/calls", &calls)
			found := false
			for _, c := range calls {
				found = found || c.Direction == u.dir && c.Peer == u.peer && c.Result == "answered" && c.Answer != nil && c.End != nil
			}
			if found {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("GET /api/v1/users/%s/calls: no answered, ended %s call with %s: %+v", u.ext, u.dir, u.peer, calls)
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// testCallOverFlow: 201 calls 205, whose softphone (linphonec's soft205
// account) registered over TCP from an ephemeral port: the INVITE must come
// down the connection the phone opened (RFC 5626 flow; a phone behind NAT
// or a firewall accepts nothing else), and the call carries audio.
func testCallOverFlow(t *testing.T, wire *capture, bs *baresip, lp *linphone) {
	regs := wire.SIP(func(m sipMsg) bool {
		return m.TCP && m.Method() == "REGISTER" && !m.IsResponse() && strings.Contains(m.Headers["from"], "soft205@")
	})
	if len(regs) == 0 {
		t.Fatalf("no REGISTER of soft205 over TCP seen")
	}
	flow := regs[len(regs)-1].Src
	from := time.Now()
	callLinphone(t, bs, lp, "205", 2*time.Second)
	invites := wire.SIP(func(m sipMsg) bool {
		return m.At.After(from) && m.Method() == "INVITE" && !m.IsResponse() && m.Src == pbxSIP && m.TCP
	})
	if len(invites) == 0 {
		t.Fatalf("no INVITE from the PBX to the softphone over TCP")
	}
	if invites[0].Dst != flow {
		t.Errorf("INVITE to soft205 went to %s, not down the connection it registered on (%s)", invites[0].Dst, flow)
	}
	_, heard := wire.RTP(func(p rtpPkt) bool { return p.At.After(from) && linphoneRTP(p.Dst) })
	if heard < 50 {
		t.Errorf("linphonec (soft205) received %d voiced RTP packets, want ≥ 50", heard)
	}
}

// testAfterRestart: the PBX restarts; registrations and logins survive, and
// the first request it sends the phone — the check-sync NOTIFY after an
// admin logs 202 out — leaves from the listening socket (issue 10 item 3:
// after a restart it left from an ephemeral port while Via said 5060) and
// linphonec answers it.
func testAfterRestart(t *testing.T, pbx *pbx, wire *capture, lp *linphone) {
	pbx.restart(t)
	if m := pbx.loginsByDevice(t); m["HD00002"] != "202" {
		t.Fatalf("after a restart GET /api/v1/logins has %v, want 202 still at HD00002", m)
	}
	from := time.Now()
	pbx.post(t, "/api/v1/users/202/logout")
	n, ok := wire.waitSIP(5*time.Second, func(m sipMsg) bool {
		return m.At.After(from) && m.Method() == "NOTIFY" && !m.IsResponse() && linphoneSIP(m.Dst) &&
			strings.HasPrefix(m.Headers["event"], "check-sync")
	})
	if !ok {
		t.Fatalf("no check-sync NOTIFY reached linphonec after the restart and logout: the registration did not survive the restart, or no NOTIFY was sent")
	}
	if n.Src != pbxSIP {
		t.Errorf("first NOTIFY after a restart left from %s, want the listening socket %s", n.Src, pbxSIP)
	}
	checkNotifyWellFormed(t, n, "HD00002")
	if r, ok := responseTo(wire, n, 5*time.Second); !ok || r.Status() != 200 {
		t.Errorf("linphonec answered the check-sync NOTIFY after the restart with %q, want 200", r.First)
	}
}

// checkNotifyWellFormed: what Snom, Yealink and Grandstream phones need of
// an unsolicited check-sync NOTIFY.
func checkNotifyWellFormed(t *testing.T, n sipMsg, device string) {
	t.Helper()
	for _, h := range []string{"from", "to", "contact"} {
		v := n.Headers[h]
		if v == "" || uriSpaces.MatchString(v) || !strings.Contains(v, "sip:") {
			t.Errorf("check-sync NOTIFY %s header %q is not a well-formed SIP URI", h, v)
		}
	}
	if !strings.Contains(n.Headers["from"], ";tag=") {
		t.Errorf("check-sync NOTIFY From %q has no tag", n.Headers["from"])
	}
	if !strings.Contains(n.Headers["to"], device) {
		t.Errorf("check-sync NOTIFY To %q is not %s's AOR", n.Headers["to"], device)
	}
	if ev := n.Headers["event"]; !strings.HasPrefix(ev, "check-sync") {
		t.Errorf("check-sync NOTIFY Event %q", ev)
	}
}

// checkPBXRequestsLeaveFrom5060: every UDP request the PBX sent since from
// left from its listening socket (issue 10 item 3).
func checkPBXRequestsLeaveFrom5060(t *testing.T, wire *capture, from time.Time) {
	t.Helper()
	bad := wire.SIP(func(m sipMsg) bool {
		return m.At.After(from) && !m.TCP && !m.IsResponse() && m.Src.Addr() == pbxSIP.Addr() && m.Src != pbxSIP
	})
	for _, m := range bad {
		t.Errorf("the PBX sent %s from %s, not from its listening port %s", m.First, m.Src, pbxSIP)
	}
}

// responseTo waits for the final response to request req (same Call-ID and
// CSeq, travelling the other way).
func responseTo(wire *capture, req sipMsg, timeout time.Duration) (sipMsg, bool) {
	return wire.waitSIP(timeout, func(m sipMsg) bool {
		return m.IsResponse() && m.Status() >= 200 && m.Headers["call-id"] == req.Headers["call-id"] &&
			m.Headers["cseq"] == req.Headers["cseq"]
	})
}

// maxGap is the longest pause between the RTP packets matching keep after
// from, and how many there were.
func maxGap(wire *capture, from time.Time, keep func(rtpPkt) bool) (gap time.Duration, n int) {
	wire.mu.Lock()
	defer wire.mu.Unlock()
	var last time.Time
	for _, p := range wire.rtp {
		if !p.At.After(from) || !keep(p) {
			continue
		}
		n++
		if !last.IsZero() && p.At.Sub(last) > gap {
			gap = p.At.Sub(last)
		}
		last = p.At
	}
	return gap, n
}

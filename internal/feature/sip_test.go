package feature_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/media/mediatest"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// checkPrompt asserts that rec is speech as long as the named prompts.
func checkPrompt(t *testing.T, p *pbx, rec *mediatest.Recording, names ...string) {
	t.Helper()
	checkAudio(t, rec, p.promptLen(names...), strings.Join(names, "+"))
}

// checkAudio asserts that rec is paced speech lasting want.
func checkAudio(t *testing.T, rec *mediatest.Recording, want time.Duration, what string) {
	t.Helper()
	got := rec.Duration()
	// Play pads the last frame to 20 ms.
	if got < want || got > want+40*time.Millisecond {
		t.Errorf("received %v of audio, want %v (%s)", got, want, what)
	}
	if rms := rec.RMS(); rms < 300 {
		t.Errorf("RMS %.0f: silence, want speech", rms)
	}
	if len(rec.Problems) > 0 {
		t.Errorf("RTP problems: %v", rec.Problems[:min(5, len(rec.Problems))])
	}
	if span := rec.Last.Sub(rec.First); span < got*8/10 {
		t.Errorf("%v of audio arrived within %v: not paced at 20 ms", got, span)
	}
}

func TestInlineLoginPlaysConfirmationAndHangsUp(t *testing.T) {
	t.Parallel()
	p, ph := deskPBX(t)
	c := mustDial(t, ph, "*35*201*1234")
	// The login is stored before the 200 OK.
	if got := p.loginAt(t, "HD00001"); got != "201" {
		t.Fatalf("after 200 OK: %q logged in, want 201", got)
	}
	rec := c.Record(toEnd, 10*time.Second)
	checkPrompt(t, p, rec, loggedIn201...)
	if rec.PayloadType != 0 {
		t.Errorf("payload type %d, want 0 (PCMU offered first)", rec.PayloadType)
	}
	mustBye(t, c)
	if _, err := ph.WaitNotify(1, "check-sync", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	n := ph.Notifies()[0]
	if ev := n.GetHeader("Event").Value(); ev != "check-sync;reboot=false" {
		t.Errorf("Event %q", ev)
	}
	if ss := n.GetHeader("Subscription-State"); ss == nil || !strings.HasPrefix(ss.Value(), "terminated") {
		t.Errorf("Subscription-State %v", ss)
	}
	p.waitIdle(t, 2*time.Second)
}

func TestInlineLoginPCMA(t *testing.T) {
	t.Parallel()
	p, ph := deskPBX(t)
	c, err := ph.DialWith("%2A35%2A201%2A1234%23", siptest.DialOptions{PayloadTypes: []string{"8"}})
	if err != nil {
		t.Fatal(err)
	}
	rec := c.Record(toEnd, 10*time.Second)
	if rec.PayloadType != 8 {
		t.Errorf("payload type %d, want 8", rec.PayloadType)
	}
	checkPrompt(t, p, rec, loggedIn201...)
	p.wantLogin(t, "HD00001", "201")
}

// TestLoginCallsEndedByThePBX: calls the PBX ends itself after its
// announcement, and who is logged in on the phone then.
func TestLoginCallsEndedByThePBX(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, code, device, mode string
		hear                     []string
		want                     string
	}{
		{"wrong inline PIN", "*35*201*9999", "HD00001", hotdesk.ModeHotdesk, []string{"incorrect_pin"}, ""},
		{"personal phone", "*35*201*1234", "SOFT201", hotdesk.ModePersonal, []string{"not_enabled_phone"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mustPBX(t)
			p.mustUser(t, "201", "1234", true)
			c := mustDial(t, p.mustPhone(t, tt.device, tt.mode), tt.code)
			p.hear(t, c, toEnd, tt.hear...)
			mustBye(t, c)
			p.wantLogin(t, tt.device, tt.want)
		})
	}
}

func TestPromptedLoginWithSIPInfo(t *testing.T) {
	t.Parallel()
	p, ph := deskPBX(t)
	c := mustDial(t, ph, "*35")
	p.hear(t, c, toPrompt, "enter_extension")
	if err := c.SendKeysInfo("201#"); err != nil {
		t.Fatal(err)
	}
	p.hear(t, c, toPrompt, "enter_pin")
	// application/dtmf as well as dtmf-relay.
	for _, k := range "1234#" {
		if code, err := c.SendInfo(k, false); err != nil || code != 200 {
			t.Fatalf("INFO %c: %d %v", k, code, err)
		}
	}
	p.hear(t, c, toEnd, loggedIn201...)
	mustBye(t, c)
	p.wantLogin(t, "HD00001", "201")
}

func TestPromptedLoginWithRTPEventsAndRetry(t *testing.T) {
	t.Parallel()
	p := mustPBX(t)
	p.mustUser(t, "202", "5678", true)
	c := mustDial(t, p.mustPhone(t, "HD00001", hotdesk.ModeHotdesk), "*77*202*")
	p.hear(t, c, toPrompt, "enter_pin")
	if err := c.SendKeysRTP("1111#"); err != nil {
		t.Fatal(err)
	}
	// Two plays back to back: no gap between them.
	checkAudio(t, c.Record(toPrompt, 10*time.Second), p.promptLen("incorrect_pin")+p.promptLen("enter_pin"), "incorrect_pin, enter_pin")
	if err := c.SendKeysRTP("5678#"); err != nil {
		t.Fatal(err)
	}
	p.hear(t, c, toEnd, "logged_in_as", "digit_2", "digit_0", "digit_2")
	mustBye(t, c)
	p.wantLogin(t, "HD00001", "202")
}

func TestCallerHangsUpMidPrompt(t *testing.T) {
	t.Parallel()
	p, ph := deskPBX(t)
	c := mustDial(t, ph, "*35")
	if rec := c.Record(time.Second, 200*time.Millisecond); rec.Packets == 0 {
		t.Fatal("no prompt playing")
	}
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p.waitIdle(t, 5*time.Second)
	// No more RTP after the BYE. What the phone has not read yet was sent
	// before the PBX handled the BYE (a loaded CPU may take a while): read
	// it first, then listen.
	c.Record(60*time.Millisecond, 300*time.Millisecond)
	rec := c.Record(200*time.Millisecond, time.Second)
	if rec.Packets > 2 { // at most what was in flight
		t.Errorf("%d RTP packets after BYE", rec.Packets)
	}
	t.Logf("idle %v after BYE", time.Since(start))
}

func TestCancelBeforeAnswerAnd488(t *testing.T) {
	t.Parallel()
	p, ph := deskPBX(t)
	_, err := ph.DialWith("*35*201*1234", siptest.DialOptions{PayloadTypes: []string{"18"}})
	var de *sipgo.ErrDialogResponse
	if !errors.As(err, &de) || de.Res.StatusCode != sip.StatusNotAcceptableHere {
		t.Fatalf("G.729 only: err %v, want 488", err)
	}
	p.wantLogin(t, "HD00001", "") // the call was refused
	p.waitIdle(t, time.Second)
}

func TestRoamingNotifiesBothPhones(t *testing.T) {
	t.Parallel()
	p, a := deskPBX(t)
	b := p.mustPhone(t, "HD00002", hotdesk.ModeHotdesk)
	for _, ph := range []*siptest.Phone{a, b} {
		_ = mustDial(t, ph, "*35*201*1234").Hangup()
		if ph == a {
			// Let A's first NOTIFY go out before roaming: the notifier
			// rightly folds events still queued together into one NOTIFY
			// per phone, and a busy machine would queue both.
			if _, err := a.WaitNotify(1, "check-sync", 3*time.Second); err != nil {
				t.Error(err)
			}
		}
	}
	p.wantLogin(t, "HD00001", "") // roamed away
	p.wantLogin(t, "HD00002", "201")
	if _, err := a.WaitNotify(2, "check-sync", 3*time.Second); err != nil {
		t.Error(err) // login, then roamed away
	}
	if _, err := b.WaitNotify(1, "check-sync", 3*time.Second); err != nil {
		t.Error(err)
	}
	// Toggle out with the same code: logged out, and told so.
	p.hear(t, mustDial(t, b, "*35*201*1234"), toEnd, "logged_out")
	p.wantLogin(t, "HD00002", "")
	if _, err := b.WaitNotify(2, "check-sync", 3*time.Second); err != nil {
		t.Error(err)
	}
}

func TestInDialogRequests(t *testing.T) {
	t.Parallel()
	_, ph := deskPBX(t)
	c := mustDial(t, ph, "*35")
	defer c.Hangup()
	tests := []struct {
		method sip.RequestMethod
		ct     string
		body   []byte
		want   int
	}{
		{sip.INVITE, "application/sdp", c.Media.Offer("8"), 200},
		{sip.INVITE, "application/sdp", c.Media.Offer("18"), 488},
		{sip.OPTIONS, "", nil, 200},
		{sip.MESSAGE, "text/plain", []byte("hi"), 405},
		{sip.INFO, "application/x-unknown", []byte("x"), 415},
		{sip.INFO, "application/dtmf-relay", []byte("Duration=10"), 400},
	}
	for _, tt := range tests {
		code, err := c.Request(tt.method, tt.ct, tt.body)
		if err != nil || code != tt.want {
			t.Errorf("%s %s: %d %v, want %d", tt.method, tt.ct, code, err, tt.want)
		}
	}
}

// rawInfo is an in-dialog INFO of call c with the given CSeq, sent from
// conn rather than the phone's dialog so the test picks the numbers.
func rawInfo(c *siptest.Call, conn *net.UDPConn, cseq uint32, key rune) string {
	branch := fmt.Sprintf("z9hG4bK-raw-%d-%d", cseq, rand.Uint32())
	body := fmt.Sprintf("Signal=%c\r\nDuration=160\r\n", key)
	return fmt.Sprintf("INFO %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s\r\nMax-Forwards: 70\r\n"+
		"From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d INFO\r\nContent-Type: application/dtmf-relay\r\n"+
		"Content-Length: %d\r\n\r\n%s",
		c.Response.Contact().Address.String(), conn.LocalAddr(), branch, c.Response.From().Value(),
		c.Response.To().Value(), c.CallID, cseq, len(body), body)
}

// TestInfoDigitsAppliedInCSeqOrder sends a PIN's INFOs last first, with a
// retransmitted one, as a phone that does not wait for each 200 can have
// them handled (sipgo runs each request in its own goroutine): the PBX
// applies them in CSeq order, once each.
func TestInfoDigitsAppliedInCSeqOrder(t *testing.T) {
	t.Parallel()
	p, ph := deskPBX(t)
	c := mustDial(t, ph, "*35*201")
	p.hear(t, c, toPrompt, "enter_pin")
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pbxAddr := p.sip.UDPAddr()
	base := c.Response.CSeq().SeqNo // the INVITE's; the INFOs follow it
	keys := "1234#"
	order := []int{4, 3, 1, 2, 1, 0} // '#' first, '2' twice
	for _, i := range order {
		if _, err := conn.WriteToUDP([]byte(rawInfo(c, conn, base+1+uint32(i), rune(keys[i]))), pbxAddr); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 4096)
	for range order {
		_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("INFO response: %v", err)
		}
		if !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
			t.Errorf("INFO answered %q", strings.SplitN(string(buf[:n]), "\r\n", 2)[0])
		}
	}
	p.hear(t, c, toEnd, loggedIn201...)
	p.wantLogin(t, "HD00001", "201")
}

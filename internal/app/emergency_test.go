package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

// Issue 16 end to end: the demo office, sipp as each site's emergency
// trunk (test/sipp/emergency_trunk_uas.xml), test phones for desks and
// alert extensions.

// startPeer runs one call of scenario on ip:port (remote "" for a UAS).
func startPeer(tb testing.TB, scenario, ip string, port int, remote string, args ...string) *siptest.SippRun {
	tb.Helper()
	return siptest.Sipp{Scenario: scenario, IP: ip, Port: port, Remote: remote, Args: args}.Start(tb)
}

// invite waits for sipp and returns the INVITE it received (the whole
// trace for a UAC); a failed call fails the test.
func invite(tb testing.TB, r *siptest.SippRun) string {
	tb.Helper()
	msgs := r.MustWait(tb)
	for _, block := range strings.Split(msgs, "----------------------------------------------- ") {
		if _, msg, ok := strings.Cut(block, "\n\n"); ok && strings.Contains(block, "message received") &&
			strings.HasPrefix(strings.TrimLeft(msg, "\r\n "), "INVITE ") {
			return msg
		}
	}
	return msgs
}

// emergencyPBX starts the demo office with two trunks: the default one
// (Amsterdam) at 127.0.0.2 and "utrecht" at 127.0.0.3, on fresh ports.
func emergencyPBX(t *testing.T, emergency string) (r *running, ams, utr int) {
	t.Helper()
	r = mustStart(t, testConfig(t.TempDir(), true))
	ams, utr = siptest.FreePort(t, "127.0.0.2"), siptest.FreePort(t, "127.0.0.3")
	body := fmt.Sprintf(`{"trunk":{"enabled":true,"proxy":"127.0.0.2:%d","domain":"ams.provider.test","sources":["127.0.0.2"],"transport":"tcp"},
		"trunks":[{"name":"utrecht","enabled":true,"proxy":"127.0.0.3:%d","domain":"utr.provider.test","sources":["127.0.0.3"],"transport":"tcp"}],
		"emergency":%s}`, ams, utr, emergency)
	if code := r.api(t, "PUT", "/settings", body, nil); code != 200 {
		t.Fatalf("PUT settings: %d", code)
	}
	return r, ams, utr
}

func (r *running) mustSite(tb testing.TB, body string) {
	tb.Helper()
	if code := r.api(tb, "POST", "/sites", body, nil); code != 201 {
		tb.Fatalf("POST /sites %s: %d", body, code)
	}
}

func wantIn(tb testing.TB, what, msg string, wants ...string) {
	tb.Helper()
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			tb.Errorf("%s lacks %q:\n%s", what, w, msg)
		}
	}
}

func wantNotIn(tb testing.TB, what, msg string, nots ...string) {
	tb.Helper()
	for _, w := range nots {
		if strings.Contains(msg, w) {
			tb.Errorf("%s has %q:\n%s", what, w, msg)
		}
	}
}

// Per-site routing and moved phones: 201 logged in at Amsterdam's HD00001
// goes out through the default trunk with the user's caller ID and the
// Amsterdam address plus the desk's floor and room; neutral HD00003 of
// Utrecht (on Utrecht's network) through the utrecht trunk with the site's
// callback and address; HD00002 of Rotterdam, registering from Utrecht's
// network, is flagged as moved (audited) and its 112 carries Utrecht's
// address, through Utrecht's trunk, with a warning note.
func TestEmergencyPerSiteTrunkAndMovedPhone(t *testing.T) {
	r, ams, utr := emergencyPBX(t, `{}`)
	r.mustSite(t, `{"name":"Amsterdam","location":{"country":"NL","a3":"Amsterdam","street":"Keizersgracht","house_no":"1"},"devices":["HD00001"]}`)
	r.mustSite(t, `{"name":"Rotterdam","location":{"country":"NL","a3":"Rotterdam","street":"Coolsingel","house_no":"40"},
		"networks":["10.3.0.0/16"],"devices":["HD00002"]}`)
	r.mustSite(t, `{"name":"Utrecht","location":{"country":"NL","a3":"Utrecht","street":"Oudegracht","house_no":"100"},
		"networks":["127.0.0.1/32"],"trunk":"utrecht","callback":"+31301234000","devices":["HD00003"]}`)
	if code := r.api(t, "PATCH", "/devices/HD00003", `{"emergency_callback":""}`, nil); code != 200 {
		t.Fatalf("PATCH: %d", code)
	}
	hd1, hd3 := demoPhone(t, r, "HD00001"), demoPhone(t, r, "HD00003")
	loginByPhone(t, hd1, "*35*201*1234")

	p := startPeer(t, "emergency_trunk_uas.xml", "127.0.0.2", ams, "", "-t", "t1")
	hd1.MustCallAndHangUp(t, "112")
	inv := invite(t, p)
	wantIn(t, "Amsterdam's INVITE", inv, "INVITE sip:112@ams.provider.test", "<sip:+31201234201@ams.provider.test>",
		"<ca:A3>Amsterdam</ca:A3>", "<ca:RD>Keizersgracht</ca:RD>", "<ca:FLR>1</ca:FLR>", "<ca:ROOM>1.01</ca:ROOM>")
	wantNotIn(t, "Amsterdam's INVITE", inv, "<note")

	p = startPeer(t, "emergency_trunk_uas.xml", "127.0.0.3", utr, "", "-t", "t1")
	hd3.MustCallAndHangUp(t, "112")
	inv = invite(t, p)
	wantIn(t, "Utrecht's INVITE", inv, "INVITE sip:112@utr.provider.test", "<sip:+31301234000@utr.provider.test>",
		"<ca:A3>Utrecht</ca:A3>", "<ca:RD>Oudegracht</ca:RD>", "<ca:FLR>2</ca:FLR>")
	wantNotIn(t, "Utrecht's INVITE", inv, "<note")

	// HD00002 (Rotterdam) registers from 127.0.0.1, Utrecht's network.
	hd2 := demoPhone(t, r, "HD00002")
	waitAudit(t, r, hotdesk.KindPhoneMoved, "HD00002")
	p = startPeer(t, "emergency_trunk_uas.xml", "127.0.0.3", utr, "", "-t", "t1")
	hd2.MustCallAndHangUp(t, "112")
	inv = invite(t, p)
	wantIn(t, "the moved phone's INVITE", inv, "INVITE sip:112@utr.provider.test", "<ca:A3>Utrecht</ca:A3>", "<ca:RD>Oudegracht</ca:RD>",
		"<note xml:lang=\"en\">WARNING: phone HD00002 of site Rotterdam is on the network of site Utrecht")
	wantNotIn(t, "the moved phone's INVITE", inv, "Coolsingel", "<ca:FLR>")

	// The record is written beside the outgoing INVITE (emergency.Started),
	// so the trunk can see the call before the list does.
	var calls []hotdesk.EmergencyCall
	testrun.Eventually(t, 10*time.Second, "three emergency calls listed", func() bool {
		calls = nil
		code := r.api(t, "GET", "/emergency-calls", "", &calls)
		if code != 200 {
			t.Fatalf("GET /emergency-calls: %d", code)
		}
		return len(calls) == 3
	})
	if c := calls[0]; c.Device != "HD00002" || c.Trunk != "utrecht" || c.Warning == "" || c.Location.A3 != "Utrecht" {
		t.Errorf("moved phone's record %+v", c)
	}
	if c := calls[2]; c.Device != "HD00001" || c.Extension != "201" || c.Callback != "+31201234201" || c.Trunk != "" {
		t.Errorf("logged-in desk's record %+v", c)
	}
}

// waitAudit waits for an audit row of kind for device.
func waitAudit(tb testing.TB, r *running, kind, device string) *hotdesk.AuditEvent {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		es, err := r.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{kind}, Device: device})
		if err != nil {
			tb.Fatal(err)
		}
		if len(es) > 0 {
			return es[0]
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no %s audit for %s", kind, device)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The test number runs the whole path without a PSAP: the caller hears the
// test confirmation, alert extension 205 (Eva's softphone) is called within
// a second and hears the alert, presses 1, hears the thanks and is hung
// up on; the acknowledgement (who, when, how) is stored and audited, and
// the desk's last test is listed.
func TestEmergencyTestCallAlertsAndDTMFAck(t *testing.T) {
	r, ams, _ := emergencyPBX(t, `{"alert_extensions":["205"],"test_number":"933"}`)
	trunk := startPeer(t, "emergency_trunk_uas.xml", "127.0.0.2", ams, "", "-t", "t1", "-timeout", "5s")
	alertee := demoPhone(t, r, "soft205")
	hd1 := demoPhone(t, r, "HD00001")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	dialing := hd1.DialAsync(ctx, "933", siptest.DialOptions{})
	in := alertee.MustWaitIncoming(t, 5*time.Second)
	alertAfter := time.Since(start)
	t.Logf("alert call %v after dialling", alertAfter)
	if alertAfter > time.Second {
		t.Errorf("alert call %v after dialling, want within 1 s", alertAfter)
	}
	c, err := dialing.Result()
	if err == nil || !strings.Contains(err.Error(), "480") {
		t.Fatalf("test call: %v, want 480 after the announcement", err)
	}
	if rec := c.Record(300*time.Millisecond, 10*time.Second); rec.Packets < 50 {
		t.Errorf("test caller heard %d packets, want the emergency_test prompt", rec.Packets)
	}
	<-in.Confirmed()
	if rec := in.Media.Record(200*time.Millisecond, 10*time.Second); rec.Packets < 100 || rec.RMS() < 500 {
		t.Errorf("alert: %d packets RMS %.0f, want the message read out", rec.Packets, rec.RMS())
	}
	if err := in.Media.SendDigits("1"); err != nil {
		t.Fatal(err)
	}
	if err := in.WaitEnded(10 * time.Second); err != nil {
		t.Fatalf("the PBX did not hang up the acknowledged alert: %v", err)
	}
	ack := waitAudit(t, r, hotdesk.KindEmergencyAck, "HD00001")
	if ack.Reason != "phone" || !strings.Contains(ack.Detail, "acknowledged by 205 via phone") {
		t.Errorf("ack audit %+v", ack)
	}
	var calls []hotdesk.EmergencyCall
	r.api(t, "GET", "/emergency-calls?test=true", "", &calls)
	if len(calls) != 1 || calls[0].AckedBy != "205" || calls[0].AckedVia != "phone" || calls[0].AckedAt == nil || !calls[0].Test {
		t.Fatalf("records %+v", calls)
	}
	emerg := waitAudit(t, r, hotdesk.KindEmergency, "HD00001")
	if emerg.Reason != "test" || !strings.Contains(emerg.Detail, "TEST (no PSAP called)") {
		t.Errorf("emergency audit %+v", emerg)
	}
	// The trunk saw nothing: sipp times out waiting for an INVITE.
	if _, err := trunk.Wait(); err == nil {
		t.Error("the test call reached the trunk")
	}
	last, err := r.store.LastEmergencyTests(context.Background())
	if err != nil || last["HD00001"].IsZero() {
		t.Errorf("last tests %v %v", last, err)
	}
}

// Bad input never stops the call: an alert extension that is busy, one
// with no phone and a webhook nobody answers; the INVITE reaches the
// trunk, and the failed alerts are audited.
func TestEmergencyGoesOutWhenAlertsFail(t *testing.T) {
	r, ams, _ := emergencyPBX(t, `{"alert_extensions":["205","204"]}`)
	if code := r.api(t, "POST", "/webhooks", `{"url":"https://127.0.0.1:1/hook","kinds":["emergency_call"]}`, nil); code != 201 {
		t.Fatalf("webhook: %d", code)
	}
	busy := demoPhone(t, r, "soft205")
	busy.SetAnswerMode(siptest.AnswerBusy)
	hd3 := demoPhone(t, r, "HD00003")
	if code := r.api(t, "PATCH", "/devices/HD00003", `{"location":{}}`, nil); code != 200 {
		t.Fatalf("PATCH: %d", code)
	}
	p := startPeer(t, "emergency_trunk_uas.xml", "127.0.0.2", ams, "", "-t", "t1")
	hd3.MustCallAndHangUp(t, "112")
	inv := invite(t, p)
	wantIn(t, "INVITE without an address", inv, "INVITE sip:112@ams.provider.test", "<sip:+31201234000@ams.provider.test>", "<ca:civicAddress></ca:civicAddress>")
	for _, ext := range []string{"205", "204"} {
		deadline := time.Now().Add(5 * time.Second)
		for {
			es, _ := r.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindEmergencyAlertFailed}, Extension: ext})
			if len(es) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no failed-alert audit for %s", ext)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// The callback window: 201 dials 112 at HD00001, then roams to HD00002
// (HD00001 is neutral now); the PSAP calling back the callback sent
// (201's number) within the window rings both the desk that made the call
// and the user where they are now.
func TestEmergencyCallbackRingsDeskAndUserAfterLogout(t *testing.T) {
	r, ams, _ := emergencyPBX(t, `{"callback_minutes":60}`)
	hd1, hd2 := demoPhone(t, r, "HD00001"), demoPhone(t, r, "HD00002")
	loginByPhone(t, hd1, "*35*201*1234")
	p := startPeer(t, "emergency_trunk_uas.xml", "127.0.0.2", ams, "", "-t", "t1")
	hd1.MustCallAndHangUp(t, "112")
	invite(t, p)
	loginByPhone(t, hd2, "*35*201*1234") // roams: HD00001 is neutral
	if got := r.logins(t); got != "201@HD00002" {
		t.Fatalf("logins %q", got)
	}
	hd1.SetAnswerMode(siptest.AnswerRing)
	hd2.SetAnswerMode(siptest.AnswerRing)
	psap := startPeer(t, "call_trunk_in.xml", "127.0.0.2", siptest.FreePort(t, "127.0.0.2"), r.SIPAddr(), "-s", "0201234201", "-key", "caller", "112")
	in1, err := hd1.WaitIncoming(5 * time.Second)
	if err != nil {
		t.Fatalf("the desk that made the emergency call did not ring: %v", err)
	}
	in2, err := hd2.WaitIncoming(5 * time.Second)
	if err != nil {
		t.Fatalf("the user's desk now did not ring: %v", err)
	}
	in1.Answer()
	invite(t, psap)
	if err := in2.WaitEnded(5 * time.Second); err != nil { // cancelled: the first answer won
		t.Errorf("the other phone kept ringing: %v", err)
	}
}

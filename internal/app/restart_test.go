package app

import (
	"net"
	"strconv"
	"testing"
	"time"
)

// TestRequestsAfterRestartLeaveFromSIPPort: after a restart, the first
// requests to phones that have not sent anything since (a check-sync
// NOTIFY, an INVITE) leave from the PBX's SIP port, not an ephemeral one
// (issue 10: phones behind NAT, or accepting only their proxy, lost them).
func TestRequestsAfterRestartLeaveFromSIPPort(t *testing.T) {
	dir := t.TempDir()
	r := mustStart(t, testConfig(dir, true))
	hd1 := demoPhone(t, r, "HD00001")
	r.stop()

	r2 := mustStart(t, testConfig(dir, false))
	_, port, _ := net.SplitHostPort(r2.SIPAddr())
	sourcePort := func(src string) string { _, p, _ := net.SplitHostPort(src); return p }

	if code := r2.api(t, "POST", "/logins", `{"extension":"201","device":"HD00001"}`, nil); code >= 300 {
		t.Fatalf("POST /logins: %d", code)
	}
	got, err := hd1.WaitNotify(1, "check-sync", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if p := sourcePort(got[0].Source()); p != port {
		t.Errorf("check-sync NOTIFY from port %s, want the SIP port %s", p, port)
	}
	if v := got[0].Via(); v == nil || strconv.Itoa(v.Port) != port {
		t.Errorf("NOTIFY Via %v, want port %s", v, port)
	}

	hd2 := demoPhone(t, r2, "HD00002")
	loginByPhone(t, hd2, "*35*202*1234")
	done := make(chan error, 1)
	go func() {
		c, err := hd2.Dial("201")
		if err == nil {
			err = c.Hangup()
		}
		done <- err
	}()
	in := hd1.MustWaitIncoming(t, 5*time.Second)
	if p := sourcePort(in.Request.Source()); p != port {
		t.Errorf("INVITE to HD00001 from port %s, want the SIP port %s", p, port)
	}
	if err := <-done; err != nil {
		t.Errorf("call 202 to 201: %v", err)
	}
}

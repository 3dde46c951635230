package b2bua_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// TestSippCallerReachesGoPhone: sipp as HD1 (201 logged in) authenticates
// its INVITE (407) and calls 202, whose Go phone answers; sipp hangs up.
func TestSippCallerReachesGoPhone(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	args := append(deviceArgs(t, "HD1"), "-s", "202")
	r := startSippOn(t, "call_uac.xml", "127.0.0.1", siptest.FreePort(t, "127.0.0.1"), o.addr(), args...)
	in := o.hd2.MustWaitIncoming(t, 5*time.Second)
	if f := in.Request.From(); f.Address.User != "201" || f.DisplayName != "User 201" {
		t.Errorf("callee sees From %q, want 201's identity (not the device's)", f.Value())
	}
	if !strings.Contains(string(in.Request.Body()), "o=sipp 1 2") {
		t.Errorf("callee's offer is not sipp's:\n%s", in.Request.Body())
	}
	r.MustWait(t)
	mustEnd(t, in, "callee got no BYE")
	if rec := o.waitRecord(t, "201"); rec.Result != hotdesk.ResultAnswered || rec.Device != "HD1" {
		t.Errorf("caller record %+v", rec)
	}
	o.waitIdle(t, 3*time.Second)
}

// TestSippCalleeEarlyMediaPassesThrough: 202 logs in on a desk phone that
// is sipp; its 183 with SDP reaches the caller as early media, unchanged.
func TestSippCalleeEarlyMediaPassesThrough(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	if err := o.store.CreateDevice(context.Background(), &hotdesk.Device{ID: "HD9", Mode: hotdesk.ModeHotdesk, SIPPassword: "pw-HD9", Model: hotdesk.ModelGeneric}); err != nil {
		t.Fatal(err)
	}
	o.login(t, "202", "HD9") // roams from HD2
	port := siptest.FreePort(t, "127.0.0.1")
	startSippOn(t, "register_ok.xml", "127.0.0.1", port, o.addr(), append(deviceArgs(t, "HD9"), "-key", "expires", "300")...).MustWait(t)
	if len(o.reg.Contacts("HD9")) != 1 {
		t.Fatal("sipp did not register HD9")
	}
	callee := startSippOn(t, "call_callee_uas.xml", "127.0.0.1", port, "")
	time.Sleep(300 * time.Millisecond)
	var early *sip.Response
	c, err := o.hd1.DialWith("202", siptest.DialOptions{OnResponse: func(r *sip.Response) {
		if r.StatusCode == sip.StatusSessionInProgress {
			early = r
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if early == nil || !strings.Contains(string(early.Body()), "o=callee 7 7") {
		t.Fatalf("caller got no 183 with the callee's SDP: %v", early)
	}
	if !strings.Contains(string(c.Response.Body()), "o=callee 7 7") {
		t.Errorf("200 SDP is not the callee's:\n%s", c.Response.Body())
	}
	if _, err := o.hd2.WaitIncoming(100 * time.Millisecond); err == nil {
		t.Error("the phone 202 roamed away from rang")
	}
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	inv := received(callee.MustWait(t), "INVITE")
	if !strings.Contains(inv, `"User 201" <sip:201@pbx.test>`) {
		t.Errorf("callee's INVITE does not present 201:\n%s", inv)
	}
	if rec := o.waitRecord(t, "202"); rec.Device != "HD9" || rec.Result != hotdesk.ResultAnswered {
		t.Errorf("callee record %+v", rec)
	}
}

package b2bua_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/b2bua"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/media/mediatest"
	"github.com/hotdesk-pbx/hotdesk/internal/relay"
)

// mustAnchoredOffice is mustOffice whose B2BUA has a media relay in mode
// (--media) and the given no-media timeout setting.
func mustAnchoredOffice(t *testing.T, mode string, noMediaSeconds int) (*office, *relay.Relay) {
	t.Helper()
	o := mustOffice(t)
	return o, anchor(t, o, mode, noMediaSeconds)
}

// anchor gives o's B2BUA a media relay in mode (--media) and the given
// no-media timeout setting.
func anchor(t *testing.T, o *office, mode string, noMediaSeconds int) *relay.Relay {
	t.Helper()
	ctx := context.Background()
	o.updateSettings(t, func(st *hotdesk.Settings) {
		st.NAT.NoMediaSeconds = noMediaSeconds // below the API's minimum: the store does not check
	})
	r, err := relay.New(relay.Options{Pool: media.NewPortPool(0, 0), BindIP: "127.0.0.1", Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := b2bua.New(b2bua.Options{Store: o.store, Desk: o.desk, Bus: o.bus, SIP: o.sip, Contacts: o.reg.Contacts,
		Settings: func(ctx context.Context) hotdesk.Settings {
			st, _ := o.store.GetSettings(ctx)
			return st
		},
		Domain: realm, Logger: testLogger(), MaxCallDuration: maxCall, Relay: r, Media: mode})
	if err != nil {
		t.Fatal(err)
	}
	o.setB2B(b) // the harness's INVITE handler calls it; no call is up yet
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = b.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

// An anchored emergency call keeps its PIDF-LO: only the SDP part of the
// multipart body is the relay's.
func TestAnchoredEmergencyKeepsLocation(t *testing.T) {
	o := trunkOffice(t)
	anchor(t, o, b2bua.MediaAnchor, 0)
	prov := o.provider(t, "t1")
	o.hd3.MustCallAndHangUp(t, "112")
	inv := received(prov.MustWait(t), "INVITE")
	for _, want := range []string{"Content-Type: multipart/mixed;boundary=", "Content-Type: application/pidf+xml",
		"<ca:SEAT>HD3</ca:SEAT>", "Content-Type: application/sdp", "a=rtcp:"} {
		if !strings.Contains(inv, want) {
			t.Errorf("anchored emergency INVITE lacks %q:\n%s", want, inv)
		}
	}
	o.waitIdle(t, 3*time.Second)
}

// mediaPort is the audio port and address an SDP body names.
func mediaPort(t *testing.T, body []byte) (string, int) {
	t.Helper()
	var d sdp.SessionDescription
	if err := d.Unmarshal(body); err != nil {
		t.Fatalf("SDP %q: %v", body, err)
	}
	return d.ConnectionInformation.Address.Address, d.MediaDescriptions[0].MediaName.Port.Value
}

// heard reports whether m received RTP within a second.
func heard(m *mediatest.Phone) bool { return len(m.Watch(time.Second)) > 0 }

// --media anchor: each phone is told the relay's port, audio goes both
// ways through it, hold and resume are re-INVITEs through it, and the
// ports are free after the call.
func TestAnchoredCallHoldResume(t *testing.T) {
	o, r := mustAnchoredOffice(t, b2bua.MediaAnchor, 0)
	c, in := o.mustConnect(t)
	_, callerPort := mediaPort(t, c.Media.Offer())
	ip, told := mediaPort(t, in.Request.Body())
	if ip != "127.0.0.1" || told == callerPort {
		t.Fatalf("callee told %s:%d, the caller's own port is %d: not anchored", ip, told, callerPort)
	}
	if _, p := mediaPort(t, c.Response.Body()); p == in.Media.Port() {
		t.Fatalf("caller told the callee's own port %d", p)
	}
	if r.Active() != 1 {
		t.Fatalf("relay sessions %d", r.Active())
	}
	both := func(when string) {
		t.Helper()
		go func() { _ = c.SendKeysRTP("1") }()
		if !heard(in.Media) {
			t.Fatalf("%s: callee heard nothing from the caller", when)
		}
		go func() { _ = in.Media.SendDigits("2") }()
		if !heard(c.Media) {
			t.Fatalf("%s: caller heard nothing from the callee", when)
		}
	}
	both("answered")

	hold := fmt.Appendf(nil, "v=0\r\no=x 1 2 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=sendonly\r\n", c.Media.Port())
	if code, err := c.Request(sip.INVITE, "application/sdp", hold); err != nil || code != sip.StatusOK {
		t.Fatalf("hold: %d %v", code, err)
	}
	got := in.Received()
	if len(got) != 1 || !strings.Contains(string(got[0].Body()), "a=sendonly") {
		t.Fatalf("callee got %v", got)
	}
	if _, p := mediaPort(t, got[0].Body()); p != told {
		t.Fatalf("hold re-INVITE names port %d, want the relay's %d", p, told)
	}
	if code, err := c.Request(sip.INVITE, "application/sdp", c.Media.Offer()); err != nil || code != sip.StatusOK {
		t.Fatalf("resume: %d %v", code, err)
	}
	both("resumed")

	o.hangUp(t, c)
	if r.Active() != 0 {
		t.Fatalf("relay sessions after hang-up: %d", r.Active())
	}
}

// --media auto with both phones on one network and neither behind NAT:
// SDP passes through unchanged.
func TestAutoMediaDirectOnOneNetwork(t *testing.T) {
	o, r := mustAnchoredOffice(t, b2bua.MediaAuto, 0)
	c, in := o.mustConnect(t)
	if _, p := mediaPort(t, in.Request.Body()); p != c.Media.Port() {
		t.Fatalf("callee told port %d, want the caller's %d (direct)", p, c.Media.Port())
	}
	if r.Active() != 0 {
		t.Fatalf("relay sessions %d for a direct call", r.Active())
	}
	_ = c.Hangup()
	o.waitIdle(t, 3*time.Second)
}

// An anchored call through which nothing flows is ended after the
// no-media timeout, both phones get a BYE and the records say no_media.
func TestNoMediaEndsCall(t *testing.T) {
	o, r := mustAnchoredOffice(t, b2bua.MediaAnchor, 1)
	c, in := o.mustConnect(t)
	if err := c.WaitBye(4 * time.Second); err != nil {
		t.Fatalf("caller: %v", err)
	}
	select {
	case <-in.Ended():
	case <-time.After(3 * time.Second):
		t.Fatal("callee got no BYE")
	}
	o.waitIdle(t, 3*time.Second)
	for _, ext := range []string{"201", "202"} {
		if rec := o.waitRecord(t, ext); rec.Result != hotdesk.ResultNoMedia || rec.Answer == nil {
			t.Errorf("%s's record: result %q, answered %v", ext, rec.Result, rec.Answer != nil)
		}
	}
	if r.Active() != 0 {
		t.Fatalf("relay sessions %d", r.Active())
	}
}

package b2bua_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/b2bua"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// trunkOffice is an office with user 201 (internal only, caller ID
// +31205550201) on HD1, 202 (national, DID +31205550202) on HD2, and a
// neutral desk HD3 with a location and emergency callback.
func trunkOffice(t *testing.T) *office {
	t.Helper()
	o := mustOffice(t,
		hotdesk.User{Extension: "201", CallerID: "+31205550201", Outbound: hotdesk.OutboundInternal},
		hotdesk.User{Extension: "202", Name: "Ada Lovelace", CallerID: "+31205550202", DIDs: []string{"+31205550202"}})
	loc := hotdesk.Location{Text: "3rd floor east", Country: "NL", A1: "Noord-Holland", A3: "Amsterdam", Street: "Herengracht",
		HouseNo: "1", Postcode: "1015BA", Building: "R&D <North>", Floor: "3", Room: "3.14", Seat: "HD3"}
	cb := "+31205550999"
	if _, err := o.store.UpdateDevice(context.Background(), "HD3", hotdesk.DeviceUpdate{Location: &loc, EmergencyCallback: &cb}); err != nil {
		t.Fatal(err)
	}
	return o
}

// dialAnnounced403 dials number from ph and wants it refused with 403
// after a 183 (the announcement, which the returned call records); what
// names the case in failures.
func dialAnnounced403(t *testing.T, ph *siptest.Phone, number, what string) *siptest.Call {
	t.Helper()
	var codes []int
	c, err := ph.DialWith(number, siptest.DialOptions{OnResponse: func(r *sip.Response) { codes = append(codes, r.StatusCode) }})
	if statusOf(err) != sip.StatusForbidden {
		t.Fatalf("%s: %v, want 403", what, err)
	}
	if len(codes) < 2 || codes[len(codes)-2] != sip.StatusSessionInProgress {
		t.Errorf("%s: responses %v, want 183 then 403", what, codes)
	}
	return c
}

func TestNeutralPhoneRefusedWithAnnouncement(t *testing.T) {
	t.Parallel()
	o := mustOffice(t)
	c := dialAnnounced403(t, o.hd3, "202", "neutral phone dialling 202")
	rec := c.Record(300*time.Millisecond, 10*time.Second)
	if rec.Packets < 50 || rec.RMS() < 500 {
		t.Errorf("announcement: %d packets, RMS %.0f; want the neutral_phone prompt", rec.Packets, rec.RMS())
	}
	if _, err := o.hd2.WaitIncoming(100 * time.Millisecond); err == nil {
		t.Error("callee rang for a neutral phone")
	}
}

func TestEmergencyFromNeutralPhoneCarriesLocation(t *testing.T) {
	t.Parallel()
	o := trunkOffice(t)
	prov := o.provider(t, "t1") // with the PIDF-LO the INVITE is too large for UDP
	o.hd3.MustCallAndHangUp(t, "112")
	trace := prov.MustWait(t)
	inv := received(trace, "INVITE")
	for _, want := range []string{
		"INVITE sip:112@provider.test",
		"<sip:+31205550999@provider.test>", // device's emergency callback as caller ID
		"Geolocation: <cid:", "Geolocation-Routing: no",
		"Content-Type: multipart/mixed;boundary=", "Content-Type: application/sdp", "Content-Type: application/pidf+xml",
		"<ca:country>NL</ca:country>", "<ca:A3>Amsterdam</ca:A3>", "<ca:RD>Herengracht</ca:RD>", "<ca:HNO>1</ca:HNO>",
		"<ca:PC>1015BA</ca:PC>", "<ca:BLD>R&amp;D &lt;North&gt;</ca:BLD>", "<ca:FLR>3</ca:FLR>", "<ca:ROOM>3.14</ca:ROOM>",
		"<ca:SEAT>HD3</ca:SEAT>",
	} {
		if !strings.Contains(inv, want) {
			t.Errorf("provider's INVITE lacks %q:\n%s", want, inv)
		}
	}
	if !strings.Contains(trace, "Authorization: Digest") {
		t.Error("the PBX did not answer the provider's 401")
	}
	// The Content-ID the Geolocation header names is the PIDF part's.
	_, after, _ := strings.Cut(inv, "Geolocation: <cid:")
	cid, _, _ := strings.Cut(after, ">")
	if cid == "" || !strings.Contains(inv, "Content-ID: <"+cid+">") {
		t.Errorf("Geolocation cid %q has no matching Content-ID part", cid)
	}
	audits, err := o.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindEmergency}})
	if err != nil || len(audits) != 1 || audits[0].Device != "HD3" || !strings.Contains(audits[0].Detail, "112") {
		t.Errorf("emergency audit %v %v", audits, err)
	}
	o.waitIdle(t, 3*time.Second)
}

func TestEmergencyWithUserCallerIDAndNoPermission(t *testing.T) {
	t.Parallel()
	o := trunkOffice(t)
	o.login(t, "201", "HD3") // internal-only user at the desk with the location
	prov := o.provider(t, "t1")
	o.hd3.MustCallAndHangUp(t, "911")
	inv := received(prov.MustWait(t), "INVITE")
	if !strings.Contains(inv, "<sip:+31205550201@provider.test>") || !strings.Contains(inv, "<ca:SEAT>HD3</ca:SEAT>") {
		t.Errorf("provider's INVITE should carry 201's caller ID and HD3's location:\n%s", inv)
	}
	if rec := o.waitRecord(t, "201"); !rec.Emergency || rec.Peer != "911" || rec.Result != hotdesk.ResultAnswered {
		t.Errorf("record %+v", rec)
	}
}

func TestEmergencyWithoutTrunkIs503AndAudited(t *testing.T) {
	t.Parallel()
	o := trunkOffice(t)
	if _, err := o.hd3.Dial("112"); statusOf(err) != sip.StatusServiceUnavailable {
		t.Fatalf("no trunk: %v, want 503", err)
	}
	audits, err := o.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindEmergency}})
	if err != nil || len(audits) != 1 || !strings.Contains(audits[0].Detail, "no trunk") {
		t.Errorf("emergency audit %v %v", audits, err)
	}
}

func TestOutboundTrunkCallerIDAndPermission(t *testing.T) {
	t.Parallel()
	o := trunkOffice(t)
	prov := o.provider(t, "u1")
	// 201 may only call internally: refused with the announcement.
	if _, err := o.hd1.Dial("0205551234"); statusOf(err) != sip.StatusForbidden {
		t.Errorf("internal-only user calling out: %v, want 403", err)
	}
	// 202 is national: international is refused, national goes out.
	if _, err := o.hd2.Dial("004930123456"); statusOf(err) != sip.StatusForbidden {
		t.Errorf("national user calling abroad: %v, want 403", err)
	}
	o.hd2.MustCallAndHangUp(t, "0205551234")
	inv := received(prov.MustWait(t), "INVITE")
	for _, want := range []string{"INVITE sip:+31205551234@provider.test", `"Ada Lovelace" <sip:+31205550202@provider.test>`,
		"P-Asserted-Identity: \"Ada Lovelace\" <sip:+31205550202@provider.test>"} {
		if !strings.Contains(inv, want) {
			t.Errorf("provider's INVITE lacks %q:\n%s", want, inv)
		}
	}
	if rec := o.waitRecord(t, "202"); rec.Direction != hotdesk.DirectionOutbound || rec.Peer != "0205551234" || rec.Result != hotdesk.ResultAnswered {
		t.Errorf("record %+v", rec)
	}
	o.waitIdle(t, 3*time.Second)
}

func TestInboundDIDReachesUserWhereverLoggedIn(t *testing.T) {
	t.Parallel()
	o := trunkOffice(t)
	o.withTrunk(t, 5060)
	o.login(t, "202", "HD3") // roamed: the DID follows
	r := startSipp(t, "call_trunk_in.xml", siptest.FreePort(t, providerIP), o.addr(), "-s", "0205550202", "-key", "caller", "0612345678")
	in := o.hd3.MustWaitIncoming(t, 5*time.Second)
	if u := in.Request.From().Address.User; u != "+31612345678" {
		t.Errorf("callee sees caller %q, want +31612345678", u)
	}
	r.MustWait(t)
	mustEnd(t, in, "callee got no BYE")
	if rec := o.waitRecord(t, "202"); rec.Direction != hotdesk.DirectionInbound || rec.Peer != "+31612345678" || rec.Device != "HD3" {
		t.Errorf("record %+v", rec)
	}
	// Unknown DID: 404.
	startSipp(t, "call_trunk_in_unknown.xml", siptest.FreePort(t, providerIP), o.addr(), "-s", "0205550000").MustWait(t)
	o.waitIdle(t, 3*time.Second)
}

func TestFromTrunkOnlyForConfiguredSources(t *testing.T) {
	t.Parallel()
	o := trunkOffice(t)
	o.withTrunk(t, 5060)
	for src, want := range map[string]bool{"127.0.0.2:5060": true, "127.0.0.1:5060": false, "10.0.0.1:5060": false} {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "0205550202", Host: "pbx.test"})
		req.SetSource(src)
		if got := o.b2b.FromTrunk(req); got != want {
			t.Errorf("FromTrunk(%s) = %v, want %v", src, got, want)
		}
	}
}

// A provider entry with a port leaves the other ports of that address to
// phones (interop: baresip on the demo trunk's address got 404 for *35,
// unchallenged, because every INVITE from the address was the trunk's).
func TestFromTrunkWithPortLeavesPhonesOnItsAddress(t *testing.T) {
	t.Parallel()
	o := trunkOffice(t)
	o.withTrunk(t, 5060)
	o.updateSettings(t, func(st *hotdesk.Settings) { st.Trunk.Sources = []string{"127.0.0.2:5060"} })
	for src, want := range map[string]bool{"127.0.0.2:5060": true, "127.0.0.2:40000": false} {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "0205550202", Host: "pbx.test"})
		req.SetSource(src)
		if got := o.b2b.FromTrunk(req); got != want {
			t.Errorf("FromTrunk(%s) = %v, want %v", src, got, want)
		}
	}
}

func TestSourceAllowed(t *testing.T) {
	srcs := []string{"192.0.2.10", "198.51.100.0/24", "2001:db8::/32", "bogus", "10.0.0.0/33", "203.0.113.5:5060", "[2001:db9::5]:5080"}
	for ip, want := range map[string]bool{
		"192.0.2.10": true, "192.0.2.11": false, "198.51.100.77": true, "2001:db8::1": true, "[2001:db8::1]": true,
		"10.0.0.1": false, "": false, "x": false,
		// Sources as req.Source gives them; address:port entries match that port only.
		"192.0.2.10:40000": true, "[2001:db8::1]:5060": true, "203.0.113.5:5060": true, "203.0.113.5:40000": false,
		"203.0.113.5": false, "[2001:db9::5]:5080": true, "[2001:db9::5]:5060": false,
	} {
		if got := b2bua.SourceAllowed(ip, srcs); got != want {
			t.Errorf("SourceAllowed(%q) = %v, want %v", ip, got, want)
		}
	}
}

func TestPIDFLOEscapesAndOrders(t *testing.T) {
	doc := string(b2bua.PIDFLO("HD1@pbx.test", hotdesk.Location{Country: "NL", Street: `A "quoted" & <odd> street`, Seat: "7"},
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	for _, want := range []string{`<ca:RD>A &#34;quoted&#34; &amp; &lt;odd&gt; street</ca:RD>`, "<dm:timestamp>2026-01-02T03:04:05Z</dm:timestamp>",
		`entity="pres:HD1@pbx.test"`, `xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("PIDF-LO lacks %q:\n%s", want, doc)
		}
	}
	if strings.Index(doc, "<ca:country>") > strings.Index(doc, "<ca:RD>") || strings.Index(doc, "<ca:RD>") > strings.Index(doc, "<ca:SEAT>") {
		t.Errorf("civic address out of RFC 5139 order:\n%s", doc)
	}
	if strings.Contains(doc, "<ca:A1>") {
		t.Error("empty elements should be left out")
	}
	// Compact (issue 10): no indentation or line breaks, and well formed.
	if strings.ContainsAny(doc, "\n\t") || strings.Contains(doc, "  ") {
		t.Errorf("PIDF-LO has needless whitespace:\n%s", doc)
	}
	if err := xml.Unmarshal([]byte(doc), new(struct{})); err != nil {
		t.Errorf("PIDF-LO is not well-formed XML: %v", err)
	}
	_ = fmt.Sprint()
}

func TestTrunkFailurePassesThrough(t *testing.T) {
	t.Parallel()
	o := trunkOffice(t)
	port := siptest.FreePort(t, providerIP)
	o.withTrunk(t, port)
	prov := startSipp(t, "call_trunk_busy_uas.xml", port, "")
	time.Sleep(300 * time.Millisecond)
	c, err := o.hd2.Dial("0205551234")
	if statusOf(err) != sip.StatusBusyHere || c == nil || c.Response.Reason != "Number Busy" {
		t.Fatalf("provider busy: %v, want its 486 Number Busy", err)
	}
	prov.MustWait(t)
	o.wantResult(t, "202", hotdesk.ResultBusy)
}

// TestOwnDIDStaysInside: dialling a colleague's DID reaches the colleague
// directly, even for a user who may not call out.
func TestOwnDIDStaysInside(t *testing.T) {
	t.Parallel()
	o := trunkOffice(t) // 201 is internal only; no trunk configured
	c, err := o.hd1.Dial("0205550202")
	if err != nil {
		t.Fatalf("dialling 202's DID: %v", err)
	}
	defer c.Hangup()
	if _, err := o.hd2.WaitIncoming(2 * time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestNotAllowedIsAnnounced(t *testing.T) {
	t.Parallel()
	o := trunkOffice(t)
	c := dialAnnounced403(t, o.hd1, "0205551234", "internal-only user calling out")
	if rec := c.Record(300*time.Millisecond, 10*time.Second); rec.Packets < 25 {
		t.Errorf("not_allowed prompt: %d packets", rec.Packets)
	}
}

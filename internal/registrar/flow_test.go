package registrar

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// keepEvery is Options.KeepAlive for these tests.
func keepEvery(d time.Duration) func(*Options) {
	return func(o *Options) { o.KeepAlive = func() time.Duration { return d } }
}

// A phone behind NAT (its Contact names a private address) is stored with
// its flow and gets OPTIONS keep-alives at the flow, the address its
// REGISTER came from; a phone not behind NAT gets none (issue 15 item 1).
func TestKeepalivesToNattedPhone(t *testing.T) {
	store := newFakeStore()
	store.addDevice("HD1", "pw1")
	store.addDevice("HD2", "pw2")
	h := mustStart(t, store, newClock(), keepEvery(150*time.Millisecond))
	natted := h.mustPhone(t, "udp", "HD1", "pw1")
	mustStatus(t, natted.register("Contact: <sip:HD1@192.168.1.20:5060>\r\n", "MD5"), 200)
	direct := h.mustPhone(t, "udp", "HD2", "pw2")
	mustStatus(t, direct.register(direct.contact(), "MD5"), 200)

	bs := h.reg.Contacts("HD1")
	if len(bs) != 1 || !bs[0].NAT || bs[0].Source != natted.conn.LocalAddr().String() {
		t.Fatalf("HD1 bindings %+v: want one behind NAT with source %s", bs, natted.conn.LocalAddr())
	}
	if bs := h.reg.Contacts("HD2"); len(bs) != 1 || bs[0].NAT {
		t.Fatalf("HD2 bindings %+v: want one not behind NAT", bs)
	}
	got := 0
	deadline := time.Now().Add(2 * time.Second)
	for got < 2 && time.Now().Before(deadline) {
		req := readRequest(t, natted, time.Second)
		if req == nil {
			continue
		}
		if req.Method != sip.OPTIONS || !strings.Contains(req.Recipient.Host, "192.168.1.20") {
			t.Fatalf("keep-alive %s %s", req.Method, req.Recipient.String())
		}
		got++
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		if _, err := natted.conn.Write([]byte(res.String())); err != nil {
			t.Fatal(err)
		}
	}
	if got < 2 {
		t.Fatalf("%d keep-alives within 2s at a 150ms interval", got)
	}
	if req := readRequest(t, direct, 300*time.Millisecond); req != nil {
		t.Fatalf("the phone not behind NAT got %s", req.Method)
	}
}

// readRequest reads one request sent to a UDP test phone, nil on timeout.
func readRequest(t *testing.T, p *phone, wait time.Duration) *sip.Request {
	t.Helper()
	buf := make([]byte, 65535)
	_ = p.conn.SetReadDeadline(time.Now().Add(wait))
	n, err := p.conn.Read(buf)
	if err != nil {
		return nil
	}
	msg, err := sip.NewParser().ParseSIP(buf[:n])
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, buf[:n])
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		t.Fatalf("got a response: %s", msg)
	}
	return req
}

// RFC 5626 outbound over TCP: the 200 says Require: outbound and the
// Flow-Timer, a re-registration of the same instance and reg-id from
// another Contact replaces the binding, a CRLF ping gets a pong, and a
// phone behind NAT is sent CRLF pings on its connection.
func TestOutboundFlowOverTCP(t *testing.T) {
	store := newFakeStore()
	store.addDevice("HD1", "pw1")
	h := mustStart(t, store, newClock(), keepEvery(200*time.Millisecond))
	p := h.mustPhone(t, "tcp", "HD1", "pw1")
	const inst = `"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>"`
	res := p.register("Supported: path, outbound\r\nContact: <sip:HD1@10.0.0.5:5060;transport=tcp>;reg-id=1;+sip.instance="+inst+"\r\n", "MD5")
	mustStatus(t, res, 200)
	if h := res.GetHeader("Require"); h == nil || h.Value() != "outbound" {
		t.Fatalf("200 without Require: outbound:\n%s", res)
	}
	if h := res.GetHeader("Flow-Timer"); h == nil || h.Value() != "1" {
		t.Fatalf("200 without Flow-Timer:\n%s", res)
	}
	// The same flow re-registers with another Contact: one binding.
	res = p.register("Supported: outbound\r\nContact: <sip:HD1@10.0.0.6:5062;transport=tcp>;reg-id=1;+sip.instance="+inst+"\r\n", "MD5")
	mustStatus(t, res, 200)
	bs := h.reg.Contacts("HD1")
	if len(bs) != 1 || !strings.Contains(bs[0].Contact, "10.0.0.6") || bs[0].RegID != 1 || bs[0].Instance == "" || !bs[0].NAT {
		t.Fatalf("bindings after the same flow re-registered: %+v", bs)
	}

	// Keep-alive: the PBX pings the phone behind NAT with CRLF CRLF; the
	// phone's ping gets a pong.
	buf := make([]byte, 64)
	_ = p.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err := io.ReadAtLeast(p.rd, buf, 4)
	if err != nil || !bytes.Equal(buf[:4], []byte("\r\n\r\n")) {
		t.Fatalf("no CRLF ping from the PBX: %q, %v", buf[:n], err)
	}
	// A phone's ping (on a connection of its own, free of the PBX's
	// pings) gets a pong.
	other := h.mustPhone(t, "tcp", "HD1", "pw1")
	if _, err := other.conn.Write([]byte("\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = other.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := io.ReadAtLeast(other.rd, buf, 2); err != nil || string(buf[:n]) != "\r\n" {
		t.Fatalf("pong %q, %v", buf[:n], err)
	}
}

// Without Supported: outbound the instance and reg-id are ignored (RFC
// 5626 section 6): no Require: outbound, a plain binding.
func TestOutboundOnlyWhenAsked(t *testing.T) {
	store := newFakeStore()
	store.addDevice("HD1", "pw1")
	h := mustStart(t, store, newClock(), nil)
	p := h.mustPhone(t, "udp", "HD1", "pw1")
	res := p.register("Contact: <sip:HD1@"+p.conn.LocalAddr().String()+">;reg-id=1;+sip.instance=\"<urn:uuid:1>\"\r\n", "MD5")
	mustStatus(t, res, 200)
	if res.GetHeader("Require") != nil {
		t.Fatalf("Require without Supported: outbound:\n%s", res)
	}
	if bs := h.reg.Contacts("HD1"); len(bs) != 1 || bs[0].Instance != "" || bs[0].NAT {
		t.Fatalf("bindings %+v", bs)
	}
}

package signaling

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestBehindNAT(t *testing.T) {
	for _, c := range []struct {
		via, contact, source string
		want                 bool
	}{
		{"127.0.0.1:5062", "<sip:HD1@127.0.0.1:5062>", "127.0.0.1:5062", false},
		{"127.0.0.1:5062", "<sip:HD1@127.0.0.1:5062>", "127.0.0.1:40000", false}, // port only: same host
		{"192.168.1.20:5060", "<sip:HD1@192.168.1.20:5060>", "203.0.113.7:40000", true},
		{"203.0.113.7:5060", "<sip:HD1@192.168.1.20:5060>", "203.0.113.7:40000", true}, // Contact private
		{"[2001:db8::1]:5060", "<sip:HD1@[2001:db8::1]:5060>", "[2001:db8::1]:5060", false},
		{"phone.invalid", "<sip:HD1@phone.invalid;transport=ws>", "127.0.0.1:40000", true},
	} {
		raw := "REGISTER sip:pbx SIP/2.0\r\nVia: SIP/2.0/UDP " + c.via + ";branch=z9hG4bK1;rport\r\n" +
			"From: <sip:HD1@pbx>;tag=1\r\nTo: <sip:HD1@pbx>\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\n" +
			"Contact: " + c.contact + "\r\nContent-Length: 0\r\n\r\n"
		msg, err := sip.ParseMessage([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		req := msg.(*sip.Request)
		req.SetSource(c.source)
		if got := BehindNAT(req); got != c.want {
			t.Errorf("Via %s, Contact %s from %s: BehindNAT %v, want %v", c.via, c.contact, c.source, got, c.want)
		}
	}
}

// RFC 3261 18.2.1: a Via whose host is not the source gets received=;
// with an empty rport sipgo fills received and rport when responding.
func TestMarkReceived(t *testing.T) {
	for _, c := range []struct{ via, source, want string }{
		{"192.168.1.20:5060;branch=z9hG4bK1", "203.0.113.7:40000", "192.168.1.20:5060;branch=z9hG4bK1;received=203.0.113.7"},
		{"203.0.113.7:5060;branch=z9hG4bK1", "203.0.113.7:5060", "203.0.113.7:5060;branch=z9hG4bK1"},
		{"192.168.1.20:5060;branch=z9hG4bK1;rport", "203.0.113.7:40000", "192.168.1.20:5060;branch=z9hG4bK1;rport=40000;received=203.0.113.7"},
	} {
		raw := "OPTIONS sip:pbx SIP/2.0\r\nVia: SIP/2.0/UDP " + c.via + "\r\n" +
			"From: <sip:HD1@pbx>;tag=1\r\nTo: <sip:pbx>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
		msg, err := sip.ParseMessage([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		req := msg.(*sip.Request)
		req.SetSource(c.source)
		markReceived(req)
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		if got := res.Via().Value(); got != "SIP/2.0/UDP "+c.want {
			t.Errorf("Via %s from %s: response Via %q, want %q", c.via, c.source, got, "SIP/2.0/UDP "+c.want)
		}
	}
}

func TestSourceAddr(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"127.0.0.1:5060", "127.0.0.1"},
		{"127.0.0.1", "127.0.0.1"},
		{"[::1]:5060", "::1"},
		{"[::1]", "::1"},
		{"::1", "::1"},
		{"2001:db8::7", "2001:db8::7"},
		{"[::ffff:192.0.2.1]:5060", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"phone.invalid", "invalid IP"},
		{"phone.invalid:5060", "invalid IP"},
		{"", "invalid IP"},
		{":", "invalid IP"},
		{"[", "invalid IP"},
		{"]", "invalid IP"},
		{"[::1]:x", "invalid IP"},
	} {
		if got := SourceAddr(c.in).String(); got != c.want {
			t.Errorf("SourceAddr(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	// A bare host, as the registrar passes a Via's or Contact's per
	// REGISTER, costs no allocation (ParseAddrPort's error did).
	for _, h := range []string{"192.168.1.20", "2001:db8::1", "[2001:db8::1]"} {
		if n := testing.AllocsPerRun(100, func() { SourceAddr(h) }); n != 0 {
			t.Errorf("SourceAddr(%q): %v allocations, want 0", h, n)
		}
	}
}

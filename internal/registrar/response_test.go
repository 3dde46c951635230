package registrar

import (
	"regexp"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/hotdesk-pbx/hotdesk"
)

func parseRequest(t testing.TB, raw, transport, src string) *sip.Request {
	t.Helper()
	m, err := sip.NewParser().ParseSIP([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*sip.Request)
	req.SetTransport(transport)
	req.SetSource(src)
	return req
}

const respondRegister = "REGISTER sip:pbx.test SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1;rport\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.8:5060;branch=z9hG4bK-0\r\n" +
	"Max-Forwards: 70\r\n" +
	"From: \"Desk 1000\" <sip:1000@pbx.test>;tag=abc\r\n" +
	"To: \"Desk 1000\" <sip:1000@pbx.test>\r\n" +
	"Call-ID: reg-1@192.0.2.7\r\n" +
	"CSeq: 2 REGISTER\r\n" +
	"Contact: <sip:1000@192.0.2.7:5070>\r\n" +
	"Content-Length: 0\r\n\r\n"

var toTagParam = regexp.MustCompile(`(To: [^\r]*;tag=)[^;\r]*`)

// The registrar's 401s and 200s are what sipgo's NewResponseFromRequest
// builds (but for the To tag's value), and building them changes
// nothing in the request whose headers they share.
func TestResponseIsSipgos(t *testing.T) {
	r, err := New(Options{Store: newFakeStore(), Realm: testRealm, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, raw, transport, src string }{
		{"udp rport", respondRegister, "UDP", "198.51.100.9:40000"},
		{"rport with a value", regexp.MustCompile(`;rport`).ReplaceAllString(respondRegister, ";rport=5070"), "UDP", "198.51.100.9:40000"},
		{"no rport", regexp.MustCompile(`;rport`).ReplaceAllString(respondRegister, ""), "UDP", "198.51.100.9:40000"},
		{"tcp, To tagged", regexp.MustCompile(`To: ([^\r]*)`).ReplaceAllString(respondRegister, "To: $1;tag=given"), "TCP", "[2001:db8::1]:5060"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, status := range []int{200, 401} {
				req := parseRequest(t, c.raw, c.transport, c.src)
				want := sip.NewResponseFromRequest(parseRequest(t, c.raw, c.transport, c.src), status, "Why", nil)
				before := req.String()
				got := r.response(req, status, "Why")
				if after := req.String(); after != before {
					t.Fatalf("request changed:\n%s\nnow\n%s", before, after)
				}
				norm := func(s string) string { return toTagParam.ReplaceAllString(s, "${1}T") }
				if g, w := norm(got.String()), norm(want.String()); g != w {
					t.Fatalf("%d:\n%s\nwant (sipgo's)\n%s", status, g, w)
				}
				if got.Transport() != want.Transport() || got.Destination() != want.Destination() {
					t.Fatalf("%d: transport %q to %q, want %q to %q", status, got.Transport(), got.Destination(), want.Transport(), want.Destination())
				}
				if tag, _ := got.To().Params.Get("tag"); tag == "" {
					t.Fatalf("%d: no To tag", status)
				}
			}
		})
	}
}

// The 200 to a REGISTER costs few allocations: sipgo's
// NewResponseFromRequest cloned five headers and made a uuid To tag
// (21 allocations for this 200 with it, 12 without).
func TestOKResponseAllocations(t *testing.T) {
	r, err := New(Options{Store: newFakeStore(), Realm: testRealm, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	req := parseRequest(t, respondRegister, "UDP", "198.51.100.9:40000")
	now := time.Now()
	bs := []hotdesk.Binding{{Device: "1000", Contact: "sip:1000@192.0.2.7:5070", Expires: now.Add(time.Hour)}}
	r.date(now)
	n := testing.AllocsPerRun(200, func() { r.okResponse(req, bs, now) })
	t.Logf("%.0f allocations", n)
	if n > 14 {
		t.Fatalf("okResponse: %.0f allocations, want at most 14", n)
	}
}

// BenchmarkResponse is the 200 to a REGISTER's headers built by
// response and, for comparison, by sipgo's NewResponseFromRequest (with
// its uuid To tag), each rendered as the transport writes it.
func BenchmarkResponse(b *testing.B) {
	r, err := New(Options{Store: newFakeStore(), Realm: testRealm, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	req := parseRequest(b, respondRegister, "UDP", "198.51.100.9:40000")
	b.Run("registrar", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = r.response(req, 200, "OK").String()
		}
	})
	b.Run("sipgo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = sip.NewResponseFromRequest(req, 200, "OK", nil).String()
		}
	})
}

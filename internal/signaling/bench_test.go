package signaling

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// benchRegister is the authenticated REGISTER of the side-by-side bench
// (sipp's register.xml), as it arrives over UDP.
var benchRegister = []byte("REGISTER sip:127.0.0.1:5080 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-12345-1-2\r\n" +
	"Max-Forwards: 70\r\n" +
	"From: <sip:1000@127.0.0.1:5080>;tag=12345SIPpTag001\r\n" +
	"To: <sip:1000@127.0.0.1:5080>\r\n" +
	"Call-ID: 1-12345@127.0.0.1\r\n" +
	"CSeq: 2 REGISTER\r\n" +
	"Contact: <sip:1000@127.0.0.1:5060;transport=UDP>\r\n" +
	"Authorization: Digest username=\"1000\",realm=\"bench.test\",uri=\"sip:127.0.0.1:5080\"," +
	"nonce=\"AAAAAGdYc2kAAAAAb2J2bDJ2YjN1ZjN2Y3Z5dXY\",response=\"0123456789abcdef0123456789abcdef\"," +
	"algorithm=MD5,cnonce=\"6b8b4567\",qop=auth,nc=00000001\r\n" +
	"Expires: 3600\r\n" +
	"User-Agent: sipp-bench\r\n" +
	"Content-Length: 0\r\n\r\n")

// BenchmarkInspectRegister is the check every datagram gets before sipgo parses it.
func BenchmarkInspectRegister(b *testing.B) {
	p := sip.NewParser()
	b.ReportAllocs()
	for b.Loop() {
		if _, pr := inspect(p, benchRegister); pr.kind != "" {
			b.Fatal(pr)
		}
	}
}

// BenchmarkParseSIP is sipgo's own parse of the same message.
func BenchmarkParseSIP(b *testing.B) {
	p := sip.NewParser()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.ParseSIP(benchRegister); err != nil {
			b.Fatal(err)
		}
	}
}

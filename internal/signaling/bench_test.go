package signaling

import (
	"bytes"
	"net"
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

// statelessBench is a server on loopback whose REGISTERs are answered
// statelessly with a fixed response (the registrar's own work left out),
// and a REGISTER datagram whose branch numbers successive requests.
func statelessBench(tb testing.TB) (s *Server, next func() []byte, from *net.UDPAddr) {
	tb.Helper()
	s = mustServe(tb, nil)
	res := sip.NewResponse(200, "OK")
	s.HandleStateless(sip.REGISTER, func(req *sip.Request, tx sip.ServerTransaction) { tx.Respond(res) })
	sink, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sink.Close() })
	go func() { // drains the responses
		buf := make([]byte, 65535)
		for {
			if _, _, err := sink.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	from = sink.LocalAddr().(*net.UDPAddr)
	data := bytes.Replace(benchRegister, []byte("z9hG4bK-12345-1-2"), []byte("z9hG4bK-000000000"), 1)
	data = bytes.Replace(data, []byte("127.0.0.1:5060;"), []byte(from.String()+";rport;"), 1)
	digits := data[bytes.Index(data, []byte("z9hG4bK-"))+len("z9hG4bK-"):][:9]
	n := 0
	next = func() []byte {
		n++
		v := n
		for i := len(digits) - 1; i >= 0; i-- {
			digits[i] = byte('0' + v%10)
			v /= 10
		}
		return data
	}
	return s, next, from
}

// BenchmarkReadFilterStatelessRegister is the signaling side of a
// REGISTER over UDP: the read filter's checks and parse, the stateless
// transaction, the retransmission cache and the response written.
func BenchmarkReadFilterStatelessRegister(b *testing.B) {
	s, next, from := statelessBench(b)
	info := sip.TransportReadProps{Transport: "UDP", LocalAddr: s.UDPAddr(), RemoteAddr: from}
	b.ReportAllocs()
	for b.Loop() {
		if out, _ := s.readFilter(info, next()); out != nil {
			b.Fatal("not answered statelessly")
		}
	}
}

package signaling

import (
	"net"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// serverTxKey is sipgo's key (the server transactions serveTx starts and
// the stateless cache must match as sipgo's did), in one allocation.
func TestServerTxKeyIsSipgos(t *testing.T) {
	p := sip.NewParser()
	for _, tt := range []struct{ name, via, cseq string }{
		{"rfc3261", "SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-a1;rport", "1 INVITE"},
		{"no port udp", "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKx", "2 BYE"},
		{"no port tls", "SIP/2.0/TLS phone.example;branch=z9hG4bKx", "2 OPTIONS"},
		{"no port ws", "SIP/2.0/WSS phone.example;branch=z9hG4bKx", "2 OPTIONS"},
		{"no port sctp", "SIP/2.0/SCTP phone.example;branch=z9hG4bKx", "2 OPTIONS"},
		{"ack is invite", "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK77", "1 ACK"},
		{"rfc2543", "SIP/2.0/UDP 10.0.0.5:5060;branch=1234", "3 INVITE"},
		{"bare cookie", "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK", "3 INVITE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			method := strings.Fields(tt.cseq)[1]
			raw := method + " sip:200@pbx.test SIP/2.0\r\nVia: " + tt.via + "\r\nFrom: <sip:100@pbx.test>;tag=f1\r\n" +
				"To: <sip:200@pbx.test>\r\nCall-ID: k1\r\nCSeq: " + tt.cseq + "\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
			m, err := p.ParseSIP([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			req := m.(*sip.Request)
			want, err := sip.ServerTxKeyMake(req)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := serverTxKey(req, "", ""); err != nil || got != want {
				t.Errorf("key %q, %v; sipgo's %q", got, err, want)
			}
			if got, _ := serverTxKey(req, "|", "127.0.0.1:5060"); got != want+"|127.0.0.1:5060" {
				t.Errorf("key with source %q", got)
			}
			if hasRFC3261Branch(req) {
				if n := testing.AllocsPerRun(100, func() { serverTxKey(req, "|", "127.0.0.1:5060") }); n != 1 {
					t.Errorf("%v allocations per key, want 1", n)
				}
			}
		})
	}
}

// Issue 18: inspect adds no allocation to sipgo's parse of a REGISTER
// (its request-line check split a copy of the line, and it made the
// transaction key only to see that it could: 6 allocations).
func TestInspectAllocatesNoMoreThanTheParse(t *testing.T) {
	p := sip.NewParser()
	parse := testing.AllocsPerRun(200, func() { p.ParseSIP(benchRegister) })
	check := testing.AllocsPerRun(200, func() { inspect(p, benchRegister) })
	if check != parse {
		t.Errorf("inspect: %v allocations, sipgo's parse alone %v", check, parse)
	}
}

// Issue 18: the signaling side of a stateless UDP REGISTER (read filter,
// stateless transaction, retransmission cache, response written) costs at
// most statelessAllocs allocations beyond sipgo's parse: the key made
// once in one allocation with its source, the response written by the
// transaction without a closure (before: 19).
func TestStatelessRegisterAllocations(t *testing.T) {
	const statelessAllocs = 8
	s := mustServe(t, nil)
	res := sip.NewResponse(200, "OK")
	s.HandleStateless(sip.REGISTER, func(req *sip.Request, tx sip.ServerTransaction) { tx.Respond(res) })
	sink, err := net.ListenPacket("udp", "127.0.0.1:0") // never read: the kernel drops what overflows
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	from := sink.LocalAddr().(*net.UDPAddr)
	data := []byte(strings.Replace(string(benchRegister), "127.0.0.1:5060;", from.String()+";rport;", 1))
	data = []byte(strings.Replace(string(data), "z9hG4bK-12345-1-2", "z9hG4bK-000000000", 1))
	digits := data[strings.Index(string(data), "z9hG4bK-")+len("z9hG4bK-"):][:9]
	n := 0
	info := sip.TransportReadProps{Transport: "UDP", LocalAddr: s.UDPAddr(), RemoteAddr: from}
	p := sip.NewParser()
	parse := testing.AllocsPerRun(200, func() { p.ParseSIP(data) })
	got := testing.AllocsPerRun(200, func() {
		n++
		for i, v := len(digits)-1, n; i >= 0; i, v = i-1, v/10 {
			digits[i] = byte('0' + v%10)
		}
		if out, _ := s.readFilter(info, data); out != nil {
			t.Fatal("not answered statelessly")
		}
	})
	if got-parse > statelessAllocs {
		t.Errorf("%v allocations per REGISTER beyond the parse's %v, want at most %d", got-parse, parse, statelessAllocs)
	}
	t.Logf("%v allocations per REGISTER, %v of them the parse's", got, parse)
}

package signaling

import (
	"strconv"
	"strings"
	"testing"
)

// contentLengthByMap is how contentLength read the header before it
// scanned the lines in place: the rule the scan must keep.
func contentLengthByMap(head []byte) (int, bool) {
	vs := rawHeaders(head)["content-length"]
	if len(vs) == 0 {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(vs[0]))
	if err != nil || n < 0 {
		return 0, false
	}
	for _, v := range vs[1:] {
		if strings.TrimSpace(v) != vs[0] {
			return 0, false
		}
	}
	return n, true
}

func TestContentLengthScan(t *testing.T) {
	const start = "REGISTER sip:bench.test SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5;branch=z9hG4bK1\r\n"
	cases := []struct {
		name, head string
		want       int
		ok         bool
	}{
		{"long", start + "Content-Length: 12\r\n\r\n", 12, true},
		{"compact", start + "l: 7\r\n\r\n", 7, true},
		{"case and spaces", start + "content-LENGTH :   3  \r\n\r\n", 3, true},
		{"missing", start + "Max-Forwards: 70\r\n\r\n", 0, false},
		{"repeated equal", start + "Content-Length: 5\r\nl: 5\r\n\r\n", 5, true},
		{"repeated differently", start + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 0, false},
		{"negative", start + "Content-Length: -1\r\n\r\n", 0, false},
		{"not a number", start + "Content-Length: x\r\n\r\n", 0, false},
		{"empty", start + "Content-Length:\r\n\r\n", 0, false},
		{"folded", start + "Content-Length:\r\n 9\r\n\r\n", 9, true},
		{"folded into two", start + "Content-Length: 1\r\n 2\r\n\r\n", 0, false},
		{"bare LF", "REGISTER sip:x SIP/2.0\nContent-Length: 4\n\n", 4, true},
		{"start line only", "Content-Length: 4\r\n\r\n", 0, false},
		{"line without colon between", start + "Content-Length: 2\r\nbogus\r\n 5\r\n\r\n", 2, true},
		{"other header folded", start + "Subject: a\r\n b\r\nl: 0\r\n\r\n", 0, true},
		{"content-length-ish name", start + "Content-Lengthx: 4\r\n\r\n", 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := contentLength([]byte(c.head))
			if got != c.want || ok != c.ok {
				t.Errorf("contentLength = %d, %v; want %d, %v", got, ok, c.want, c.ok)
			}
			if mg, mok := contentLengthByMap([]byte(c.head)); mg != got || mok != ok {
				t.Errorf("the map's rule says %d, %v; the scan %d, %v", mg, mok, got, ok)
			}
		})
	}
}

// FuzzContentLengthScan checks the scan against the map's rule on any input.
func FuzzContentLengthScan(f *testing.F) {
	f.Add([]byte("REGISTER sip:x SIP/2.0\r\nContent-Length: 12\r\n\r\n"))
	f.Add([]byte("INVITE sip:x SIP/2.0\r\nl: 3\r\n 4\r\nl:3\r\n\r\n"))
	f.Fuzz(func(t *testing.T, head []byte) {
		got, ok := contentLength(head)
		if mg, mok := contentLengthByMap(head); mg != got || mok != ok {
			t.Errorf("%q: the map's rule says %d, %v; the scan %d, %v", head, mg, mok, got, ok)
		}
	})
}

func BenchmarkContentLength(b *testing.B) {
	head := []byte("REGISTER sip:bench.test SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK-1;rport\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:B00001@bench.test>;tag=1\r\nTo: <sip:B00001@bench.test>\r\nCall-ID: c1\r\n" +
		"CSeq: 2 REGISTER\r\nContact: <sip:B00001@127.0.0.1:5060;transport=tcp>\r\nAuthorization: Digest username=\"B00001\"\r\n" +
		"Expires: 3600\r\nUser-Agent: tcpload\r\nContent-Length: 0\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := contentLength(head); !ok {
			b.Fatal("no length")
		}
	}
}

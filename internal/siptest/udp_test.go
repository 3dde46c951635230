package siptest

import (
	"net"
	"testing"
)

// TestReadRequest: a request sent to the socket comes back parsed, with
// the sender's address.
func TestReadRequest(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	from, err := net.DialUDP("udp", nil, c.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer from.Close()
	from.Write([]byte("OPTIONS sip:200@pbx.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-1\r\n" +
		"From: <sip:100@pbx.test>;tag=f1\r\nTo: <sip:200@pbx.test>\r\nCall-ID: r1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	req, src := ReadRequest(t, c)
	if req.Method != "OPTIONS" || req.CallID().Value() != "r1" || src.Port != from.LocalAddr().(*net.UDPAddr).Port {
		t.Fatalf("%s %s from %v", req.Method, req.CallID().Value(), src)
	}
}

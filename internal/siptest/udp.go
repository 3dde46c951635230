package siptest

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// ReadRequest reads one datagram from c, a raw UDP peer of the PBX (a
// provider, a phone), within 5 s and returns it as a SIP request with its
// source; anything else fails the test.
func ReadRequest(tb testing.TB, c *net.UDPConn) (*sip.Request, *net.UDPAddr) {
	tb.Helper()
	buf := make([]byte, 65535)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, src, err := c.ReadFromUDP(buf)
	if err != nil {
		tb.Fatal(err)
	}
	msg, err := sip.ParseMessage(buf[:n])
	if err != nil {
		tb.Fatal(err)
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		line, _, _ := strings.Cut(msg.String(), "\r\n")
		tb.Fatalf("got %s, want a request", line)
	}
	return req, src
}

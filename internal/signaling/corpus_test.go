package signaling

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk/internal/signaling/sipcorpus"
)

// The corpus of malformed and torture messages (RFC 4475 and issue 11),
// over UDP and TCP against a real server: each gets the answer in
// testdata/corpus/EXPECT, and the server still answers afterwards.
func TestCorpus(t *testing.T) {
	cases, err := sipcorpus.Load("testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	s := mustServe(t, nil)
	s.Handle(sip.REGISTER, func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	t.Run("corpus", func(t *testing.T) { sipcorpus.Run(t, s.UDPAddr().String(), cases, 300*time.Millisecond) })
	mustAlive(t, s)
	mustAliveTCP(t, s)
}

// mustAliveTCP checks that an OPTIONS over a new TCP connection gets 200.
func mustAliveTCP(tb testing.TB, s *Server) {
	tb.Helper()
	line, err := tcpFirstLine(tb, s, "OPTIONS", "alive-tcp", 2*time.Second)
	if err != nil || !strings.HasPrefix(line, "SIP/2.0 200") {
		tb.Fatalf("OPTIONS over TCP: %q %v", line, err)
	}
}

// tcpFirstLine sends a method request (sipText) over a new TCP connection
// and returns the first line of the answer read within wait.
func tcpFirstLine(tb testing.TB, s *Server, method, callID string, wait time.Duration) (string, error) {
	tb.Helper()
	c, err := net.Dial("tcp", s.TCPAddr().String())
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(sipText(method, callID, "", c.LocalAddr().String(), "TCP")))
	c.SetReadDeadline(time.Now().Add(wait))
	return bufio.NewReader(c).ReadString('\n')
}

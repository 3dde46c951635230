package b2bua_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// rawPhone is a phone written by hand over one UDP socket, so that a test
// can send a request again byte for byte (a retransmission).
type rawPhone struct {
	tb     testing.TB
	c      *net.UDPConn
	pbx    *net.UDPAddr
	user   string
	callID string
	tag    string
}

func newRawPhone(tb testing.TB, pbxAddr, user string) *rawPhone {
	tb.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	to, err := net.ResolveUDPAddr("udp", pbxAddr)
	if err != nil {
		tb.Fatal(err)
	}
	return &rawPhone{tb: tb, c: c, pbx: to, user: user, callID: "raw-" + sip.GenerateTagN(12), tag: sip.GenerateTagN(8)}
}

func (r *rawPhone) send(msg string) {
	r.tb.Helper()
	if _, err := r.c.WriteToUDP([]byte(msg), r.pbx); err != nil {
		r.tb.Fatal(err)
	}
}

// read returns the next response within d, or nil.
func (r *rawPhone) read(d time.Duration) *sip.Response {
	r.tb.Helper()
	buf := make([]byte, 65535)
	deadline := time.Now().Add(d)
	for {
		r.c.SetReadDeadline(deadline)
		n, _, err := r.c.ReadFromUDP(buf)
		if err != nil {
			return nil
		}
		msg, err := sip.ParseMessage(buf[:n])
		if err != nil {
			r.tb.Fatal(err)
		}
		if res, ok := msg.(*sip.Response); ok {
			return res
		}
		// A request from the PBX (a BYE): answer it 200.
		req := msg.(*sip.Request)
		if req.Method != sip.ACK {
			res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
			r.c.WriteToUDP([]byte(res.String()), r.pbx)
		}
	}
}

// final reads responses until a final one (within 5 s each).
func (r *rawPhone) final() *sip.Response {
	r.tb.Helper()
	for {
		res := r.read(5 * time.Second)
		if res == nil {
			r.tb.Fatal("no final response within 5 s")
		}
		if !res.IsProvisional() {
			return res
		}
	}
}

func (r *rawPhone) local() string { return r.c.LocalAddr().String() }

// invite is the INVITE to number with CSeq seq, Via branch and, when set,
// Proxy-Authorization.
func (r *rawPhone) invite(number string, seq int, branch, auth string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INVITE sip:%s@%s SIP/2.0\r\n", number, realm)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=%s;rport\r\n", r.local(), branch)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=%s\r\n", r.user, realm, r.tag)
	fmt.Fprintf(&b, "To: <sip:%s@%s>\r\n", number, realm)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", r.callID)
	fmt.Fprintf(&b, "CSeq: %d INVITE\r\n", seq)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\n", r.user, r.local())
	if auth != "" {
		fmt.Fprintf(&b, "Proxy-Authorization: %s\r\n", auth)
	}
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	fmt.Fprintf(&b, "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(sdp), sdp)
	return b.String()
}

// inDialog is a request of the call (ACK, BYE) with the To of res.
func (r *rawPhone) inDialog(method string, seq int, branch string, res *sip.Response) string {
	number := res.To().Address.User
	var b strings.Builder
	fmt.Fprintf(&b, "%s sip:%s@%s SIP/2.0\r\n", method, number, realm)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=%s;rport\r\n", r.local(), branch)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=%s\r\n", r.user, realm, r.tag)
	fmt.Fprintf(&b, "To: %s\r\n", res.To().Value())
	fmt.Fprintf(&b, "Call-ID: %s\r\n", r.callID)
	fmt.Fprintf(&b, "CSeq: %d %s\r\nContent-Length: 0\r\n\r\n", seq, method)
	return b.String()
}

// call dials number: the 407, its ACK, the INVITE with credentials (as
// password) until its final response, and the ACK of that. It returns the
// authenticated INVITE as sent and its final response.
func (r *rawPhone) call(number, password string) (string, *sip.Response) {
	r.tb.Helper()
	r.send(r.invite(number, 1, "z9hG4bK-raw1", ""))
	res := r.final()
	if res.StatusCode != sip.StatusProxyAuthRequired {
		r.tb.Fatalf("first INVITE: %d, want 407", res.StatusCode)
	}
	r.send(r.inDialog("ACK", 1, "z9hG4bK-raw1", res))
	chal, err := digest.ParseChallenge(res.GetHeader("Proxy-Authenticate").Value())
	if err != nil {
		r.tb.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: "sip:" + number + "@" + realm,
		Username: r.user, Password: password, Count: 1})
	if err != nil {
		r.tb.Fatal(err)
	}
	inv := r.invite(number, 2, "z9hG4bK-raw2", cred.String())
	r.send(inv)
	res = r.final()
	if res.IsSuccess() {
		r.send(r.inDialog("ACK", 2, "z9hG4bK-raw2ack", res))
	} else {
		r.send(r.inDialog("ACK", 2, "z9hG4bK-raw2", res))
	}
	return inv, res
}

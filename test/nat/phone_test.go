package nat

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/hotdesk-pbx/hotdesk/internal/media/dtmf"
)

const domain = "hotdesk.local"

// phone is a raw-text SIP phone on a UDP socket opened in a namespace. It
// writes its own (private) address in Via, Contact and SDP as a phone
// behind NAT does, asks for rport, answers OPTIONS keep-alives, BYEs and
// re-INVITEs by itself, and counts the RTP it receives.
type phone struct {
	t          *testing.T
	user, pass string
	ip         string
	sip, rtp   *net.UDPConn
	pbx        *net.UDPAddr

	reqs     chan *sip.Request  // initial INVITEs
	ress     chan *sip.Response // responses to our requests
	options  atomic.Int32       // keep-alive OPTIONS answered
	rtpIn    atomic.Int32       // RTP packets received
	mu       sync.Mutex
	inDialog []*sip.Request // INVITEs (initial and re-) and BYEs the phone answered
	seq      atomic.Int64
}

func newPhone(t *testing.T, ns, ip, user, pass string) *phone {
	p := &phone{t: t, user: user, pass: pass, ip: ip,
		sip: listenUDP(t, ns, ip+":5060"), rtp: listenUDP(t, ns, ip+":0"),
		pbx:  &net.UDPAddr{IP: net.ParseIP(pbxIP), Port: 5060},
		reqs: make(chan *sip.Request, 8), ress: make(chan *sip.Response, 64)}
	go p.readSIP()
	go p.readRTP()
	return p
}

func (p *phone) rtpPort() int { return p.rtp.LocalAddr().(*net.UDPAddr).Port }

func (p *phone) readRTP() {
	buf := make([]byte, 2048)
	for {
		n, _, err := p.rtp.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if n >= 12 && buf[0]>>6 == 2 {
			p.rtpIn.Add(1)
		}
	}
}

func (p *phone) readSIP() {
	buf := make([]byte, 65535)
	for {
		n, _, err := p.sip.ReadFromUDP(buf)
		if err != nil {
			return
		}
		msg, err := sip.NewParser().ParseSIP(buf[:n])
		if err != nil {
			continue
		}
		switch m := msg.(type) {
		case *sip.Response:
			select {
			case p.ress <- m:
			default:
			}
		case *sip.Request:
			p.onRequest(m)
		}
	}
}

func (p *phone) onRequest(req *sip.Request) {
	_, hasTag := req.To().Params.Get("tag")
	switch {
	case req.Method == sip.OPTIONS:
		p.options.Add(1)
		p.respond(req, 200, nil)
	case req.Method == sip.ACK:
	case req.Method == sip.BYE || (req.Method == sip.INVITE && hasTag):
		p.mu.Lock()
		p.inDialog = append(p.inDialog, req)
		p.mu.Unlock()
		var body []byte
		if req.Method == sip.INVITE {
			body = p.sdp(answerDir(string(req.Body())))
		}
		p.respond(req, 200, body)
	case req.Method == sip.INVITE:
		p.reqs <- req
	default:
		p.respond(req, 405, nil)
	}
}

// answerDir mirrors an offer's direction (RFC 3264 6.1).
func answerDir(offer string) string {
	switch {
	case strings.Contains(offer, "a=sendonly"):
		return "recvonly"
	case strings.Contains(offer, "a=recvonly"):
		return "sendonly"
	case strings.Contains(offer, "a=inactive"):
		return "inactive"
	}
	return "sendrecv"
}

func (p *phone) received() []*sip.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*sip.Request(nil), p.inDialog...)
}

func (p *phone) write(msg string) {
	if _, err := p.sip.WriteToUDP([]byte(msg), p.pbx); err != nil && !errors.Is(err, net.ErrClosed) {
		p.t.Errorf("%s: send: %v", p.user, err) // closed: the reader answered as the test ended
	}
}

// respond answers req; a 200 to an INVITE carries our Contact and SDP.
func (p *phone) respond(req *sip.Request, code int, body []byte) {
	reason := "OK"
	if code != 200 {
		reason = "Method Not Allowed"
	}
	res := sip.NewResponseFromRequest(req, code, reason, body)
	if to := res.To(); to != nil {
		if _, ok := to.Params.Get("tag"); !ok {
			to.Params.Add("tag", "tag-"+p.user)
		}
	}
	if req.Method == sip.INVITE && code == 200 {
		res.AppendHeader(sip.NewHeader("Contact", "<sip:"+p.user+"@"+p.ip+":5060>"))
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	p.write(res.String())
}

// sdp is the phone's description with its private address.
func (p *phone) sdp(dir string) []byte {
	return fmt.Appendf(nil, "v=0\r\no=%[1]s %[4]d %[4]d IN IP4 %[2]s\r\ns=-\r\nc=IN IP4 %[2]s\r\nt=0 0\r\n"+
		"m=audio %[3]d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=%[5]s\r\n",
		p.user, p.ip, p.rtpPort(), p.seq.Add(1), dir)
}

// dialog is one call of the phone: what its in-dialog requests carry.
type dialog struct {
	callID, fromTag, toTag, remote string // remote: the PBX's Contact URI
	fromURI, toURI                 string
	cseq                           int
	sdp                            string // the PBX's last SDP
}

func (p *phone) branch() string { return fmt.Sprintf("z9hG4bK-%s-%d", p.user, p.seq.Add(1)) }

// request writes one request; auth is an Authorization line or "".
func (p *phone) request(method, ruri string, d *dialog, extra string, body []byte) string {
	branch := p.branch()
	to := "<" + d.toURI + ">"
	if d.toTag != "" {
		to += ";tag=" + d.toTag
	}
	ct := ""
	if len(body) > 0 {
		ct = "Content-Type: application/sdp\r\n"
	}
	p.write(fmt.Sprintf("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=%s;rport\r\nMax-Forwards: 70\r\n"+
		"From: <%s>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:%s@%s:5060>\r\n%s%sContent-Length: %d\r\n\r\n%s",
		method, ruri, p.ip, branch, d.fromURI, d.fromTag, to, d.callID, d.cseq, method, p.user, p.ip, extra, ct, len(body), body))
	return branch
}

// final waits for the final response to CSeq n of d.
func (p *phone) final(d *dialog, wait time.Duration) *sip.Response {
	p.t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case res := <-p.ress:
			if res.CallID().Value() != d.callID || int(res.CSeq().SeqNo) != d.cseq || res.IsProvisional() {
				continue
			}
			return res
		case <-deadline:
			p.t.Fatalf("%s: no final response to CSeq %d within %v", p.user, d.cseq, wait)
			return nil
		}
	}
}

// authorize answers a 401/407 challenge in res for method.
func (p *phone) authorize(res *sip.Response, method, uri string) string {
	p.t.Helper()
	chalName, credName := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		chalName, credName = "Proxy-Authenticate", "Proxy-Authorization"
	}
	h := res.GetHeader(chalName)
	if h == nil {
		p.t.Fatalf("%s: %d without %s", p.user, res.StatusCode, chalName)
	}
	chal, err := digest.ParseChallenge(h.Value())
	if err != nil {
		p.t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: method, URI: uri, Username: p.user, Password: p.pass, Count: 1})
	if err != nil {
		p.t.Fatal(err)
	}
	return credName + ": " + cred.String() + "\r\n"
}

// register registers the phone's private Contact for 300 s.
func (p *phone) register() *sip.Response {
	p.t.Helper()
	aor := "sip:" + p.user + "@" + domain
	d := &dialog{callID: "reg-" + p.user, fromTag: "r" + p.user, fromURI: aor, toURI: aor, cseq: 1}
	p.request("REGISTER", "sip:"+domain, d, "Expires: 300\r\n", nil)
	res := p.final(d, 3*time.Second)
	if res.StatusCode == 401 {
		d.cseq++
		p.request("REGISTER", "sip:"+domain, d, "Expires: 300\r\n"+p.authorize(res, "REGISTER", "sip:"+domain), nil)
		res = p.final(d, 3*time.Second)
	}
	return res
}

// dial calls number with an SDP offer, answering a digest challenge, and
// ACKs the 200; it returns the dialog and the 200.
func (p *phone) dial(number string) (*dialog, *sip.Response) {
	p.t.Helper()
	ruri := "sip:" + number + "@" + domain
	d := &dialog{callID: fmt.Sprintf("call-%s-%d@%s", p.user, p.seq.Add(1), p.ip), fromTag: "f" + p.user,
		fromURI: "sip:" + p.user + "@" + domain, toURI: ruri, cseq: 1}
	body := p.sdp("sendrecv")
	branch := p.request("INVITE", ruri, d, "", body)
	res := p.final(d, 5*time.Second)
	if res.StatusCode == 401 || res.StatusCode == 407 {
		p.ackFailure(ruri, d, branch, res)
		auth := p.authorize(res, "INVITE", ruri)
		d.cseq++
		p.request("INVITE", ruri, d, auth, body)
		res = p.final(d, 10*time.Second)
	}
	if res.StatusCode != 200 {
		p.t.Fatalf("%s: dial %s: %d %s", p.user, number, res.StatusCode, res.Reason)
	}
	d.toTag, _ = res.To().Params.Get("tag")
	d.remote = res.Contact().Address.String()
	d.sdp = string(res.Body())
	p.ack(d)
	return d, res
}

// ackFailure acknowledges a non-2xx final response (RFC 3261 17.1.1.3).
func (p *phone) ackFailure(ruri string, d *dialog, branch string, res *sip.Response) {
	tag, _ := res.To().Params.Get("tag")
	p.write(fmt.Sprintf("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=%s;rport\r\nMax-Forwards: 70\r\n"+
		"From: <%s>;tag=%s\r\nTo: <%s>;tag=%s\r\nCall-ID: %s\r\nCSeq: %d ACK\r\nContent-Length: 0\r\n\r\n",
		ruri, p.ip, branch, d.fromURI, d.fromTag, d.toURI, tag, d.callID, d.cseq))
}

func (p *phone) ack(d *dialog) {
	p.write(fmt.Sprintf("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=%s;rport\r\nMax-Forwards: 70\r\n"+
		"From: <%s>;tag=%s\r\nTo: <%s>;tag=%s\r\nCall-ID: %s\r\nCSeq: %d ACK\r\nContent-Length: 0\r\n\r\n",
		d.remote, p.ip, p.branch(), d.fromURI, d.fromTag, d.toURI, d.toTag, d.callID, d.cseq))
}

// reinvite sends an in-dialog INVITE with our SDP in direction dir.
func (p *phone) reinvite(d *dialog, dir string) *sip.Response {
	p.t.Helper()
	d.cseq++
	p.request("INVITE", d.remote, d, "", p.sdp(dir))
	res := p.final(d, 5*time.Second)
	if res.StatusCode == 200 {
		d.sdp = string(res.Body())
		p.ack(d)
	}
	return res
}

func (p *phone) bye(d *dialog) *sip.Response {
	p.t.Helper()
	d.cseq++
	p.request("BYE", d.remote, d, "", nil)
	return p.final(d, 5*time.Second)
}

// answer waits for an incoming INVITE and answers it 200 with our SDP.
func (p *phone) answer(wait time.Duration) *sip.Request {
	p.t.Helper()
	select {
	case req := <-p.reqs:
		p.mu.Lock()
		p.inDialog = append(p.inDialog, req) // its offer, for lastOffer
		p.mu.Unlock()
		p.respond(req, 200, p.sdp("sendrecv"))
		return req
	case <-time.After(wait):
		p.t.Fatalf("%s: no incoming call within %v", p.user, wait)
		return nil
	}
}

// mediaAddr is the audio address an SDP body names.
func mediaAddr(t *testing.T, body string) *net.UDPAddr {
	t.Helper()
	var ip string
	port := 0
	for _, line := range strings.Split(body, "\r\n") {
		if strings.HasPrefix(line, "c=IN IP4 ") {
			ip = strings.TrimPrefix(line, "c=IN IP4 ")
		}
		if strings.HasPrefix(line, "m=audio ") {
			port, _ = strconv.Atoi(strings.Fields(line)[1])
		}
	}
	if ip == "" || port == 0 {
		t.Fatalf("no audio address in SDP:\n%s", body)
	}
	return &net.UDPAddr{IP: net.ParseIP(ip), Port: port}
}

// stream sends n 20 ms PCMU packets to addr.
func (p *phone) stream(addr *net.UDPAddr, n int) {
	pkt := make([]byte, 12+160)
	pkt[0] = 0x80
	ssrc := uint32(p.seq.Add(1))
	for i := range n {
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		binary.BigEndian.PutUint32(pkt[4:], uint32(i*160))
		binary.BigEndian.PutUint32(pkt[8:], ssrc)
		if _, err := p.rtp.WriteToUDP(pkt, addr); err != nil {
			p.t.Errorf("%s: rtp: %v", p.user, err)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sendDigits sends keys to addr as RFC 4733 telephone-events (payload type
// 101), as a phone does: three updates and three end packets per key.
func (p *phone) sendDigits(addr *net.UDPAddr, keys string) {
	ssrc := uint32(p.seq.Add(1))
	seq := uint16(1)
	ts := uint32(1000)
	for _, k := range keys {
		code, ok := dtmf.Code(k)
		if !ok {
			p.t.Errorf("not a key: %q", k)
			return
		}
		for i, end := range []bool{false, false, false, true, true, true} {
			ev := dtmf.Event{Code: code, End: end, Volume: 10, Duration: uint16(160 * min(i+1, 4))}
			hdr := make([]byte, 12)
			hdr[0], hdr[1] = 0x80, 101
			if i == 0 {
				hdr[1] |= 0x80 // marker
			}
			binary.BigEndian.PutUint16(hdr[2:], seq)
			binary.BigEndian.PutUint32(hdr[4:], ts)
			binary.BigEndian.PutUint32(hdr[8:], ssrc)
			if !end || i == 3 {
				seq++
			}
			if _, err := p.rtp.WriteToUDP(ev.Marshal(hdr), addr); err != nil {
				p.t.Errorf("%s: rtp: %v", p.user, err)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		ts += 1600
		time.Sleep(60 * time.Millisecond)
	}
}

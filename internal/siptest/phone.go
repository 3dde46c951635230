// Package siptest is a scriptable SIP test phone on sipgo for protocol
// tests against the PBX over loopback: it registers with digest auth (MD5
// preferred), dials with a PCMU/PCMA offer (answering 407), records the RTP
// it receives, sends DTMF as SIP INFO or RFC 4733 RTP, answers or rejects
// incoming calls, records NOTIFYs and hangs up. Every wait is bounded.
package siptest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// DefaultTimeout bounds each request/response exchange.
const DefaultTimeout = 5 * time.Second

// Options configures a Phone.
type Options struct {
	Server   string // PBX address host:port
	User     string // device id (SIP username)
	Password string
	Domain   string // SIP domain / realm; defaults to the server host
	Logger   *slog.Logger
}

// Phone is one SIP user agent on a loopback UDP port.
type Phone struct {
	tb   testing.TB
	opts Options
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	cli  *sipgo.Client
	conn net.PacketConn
	port int
	dua  *sipgo.DialogUA

	mu       sync.Mutex
	calls    map[string]*Call // by Call-ID
	notifies []*sip.Request
	notifyCh chan struct{} // poked on every NOTIFY
	answer   AnswerMode
	reoffer  int // SetReofferStatus
	// reofferDelay is SetReofferDelay.
	reofferDelay time.Duration
	incoming     chan *Incoming
	regCSeq      uint32
	regCall      string
}

// AnswerMode says what the phone does with an incoming INVITE.
type AnswerMode int

// Answer modes.
const (
	AnswerOK   AnswerMode = iota // 200 OK with an SDP answer
	AnswerBusy                   // 486 Busy Here
	AnswerRing                   // 180 Ringing and wait (until CANCEL)
)

// New starts a phone listening on 127.0.0.1 UDP; it stops when the test ends.
func New(tb testing.TB, o Options) *Phone {
	tb.Helper()
	if o.Domain == "" {
		host, _, _ := net.SplitHostPort(o.Server)
		o.Domain = host
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("siptest: listen: %v", err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(o.User), sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(o.Logger)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(o.Logger)))
	if err != nil {
		tb.Fatalf("siptest: ua: %v", err)
	}
	srv, _ := sipgo.NewServer(ua, sipgo.WithServerLogger(o.Logger))
	cli, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(port), sipgo.WithClientLogger(o.Logger))
	p := &Phone{tb: tb, opts: o, ua: ua, srv: srv, cli: cli, conn: conn, port: port,
		calls: map[string]*Call{}, notifyCh: make(chan struct{}, 1), incoming: make(chan *Incoming, 16),
		regCall: fmt.Sprintf("reg-%s-%d", o.User, port)}
	p.dua = &sipgo.DialogUA{Client: cli, ContactHDR: p.contactHeader()}
	p.routes()
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeUDP(conn) }()
	tb.Cleanup(func() {
		p.hangupAll()
		conn.Close()
		<-done
		ua.Close()
	})
	return p
}

// Addr is the phone's SIP address (127.0.0.1:port).
func (p *Phone) Addr() string { return fmt.Sprintf("127.0.0.1:%d", p.port) }

// SetServer points the phone at another PBX address, as a phone failing
// over to another node does; its contact stays the same. Call it between
// requests, not during one.
func (p *Phone) SetServer(addr string) { p.opts.Server = addr }

// User is the phone's SIP username.
func (p *Phone) User() string { return p.opts.User }

func (p *Phone) contactHeader() sip.ContactHeader {
	return sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: p.opts.User, Host: "127.0.0.1", Port: p.port}}
}

func (p *Phone) serverURI(user string) sip.Uri {
	host, port, _ := sip.ParseAddr(p.opts.Server)
	return sip.Uri{Scheme: "sip", User: user, Host: host, Port: port}
}

func (p *Phone) routes() {
	p.srv.OnNotify(p.onNotify)
	p.srv.OnBye(p.onBye)
	p.srv.OnInvite(p.onInvite)
	p.srv.OnAck(p.onAck)
	p.srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
	})
	p.srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	})
	p.srv.OnInfo(func(req *sip.Request, tx sip.ServerTransaction) {
		if !p.onReoffer(req, tx) {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
		}
	})
	p.srv.OnUpdate(func(req *sip.Request, tx sip.ServerTransaction) {
		if !p.onReoffer(req, tx) {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		}
	})
}

// Register registers the phone's contact for expires seconds (0
// unregisters), answering a 401 with digest. It returns the final response.
func (p *Phone) Register(expires int) (*sip.Response, error) {
	p.mu.Lock()
	p.regCSeq++
	cseq := p.regCSeq
	p.mu.Unlock()
	req := p.newRegister(cseq, expires)
	res, err := p.do(req)
	if err != nil || res.StatusCode != sip.StatusUnauthorized {
		return res, err
	}
	p.mu.Lock()
	p.regCSeq++
	cseq = p.regCSeq
	p.mu.Unlock()
	req = p.newRegister(cseq, expires)
	if err := p.authorize(req, res, "WWW-Authenticate", "Authorization"); err != nil {
		return nil, err
	}
	return p.do(req)
}

// MustRegister registers for an hour and fails the test unless it gets 200.
func (p *Phone) MustRegister(tb testing.TB) {
	tb.Helper()
	res, err := p.Register(3600)
	if err != nil {
		tb.Fatalf("siptest: register %s: %v", p.opts.User, err)
	}
	if res.StatusCode != sip.StatusOK {
		tb.Fatalf("siptest: register %s: %d %s", p.opts.User, res.StatusCode, res.Reason)
	}
}

func (p *Phone) newRegister(cseq uint32, expires int) *sip.Request {
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: p.opts.Domain})
	req.SetDestination(p.opts.Server)
	aor := sip.Uri{Scheme: "sip", User: p.opts.User, Host: p.opts.Domain}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	callID := sip.CallIDHeader(p.regCall)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.REGISTER})
	c := p.contactHeader()
	req.AppendHeader(&c)
	req.AppendHeader(sip.NewHeader("Expires", fmt.Sprint(expires)))
	return req
}

// do sends req and waits for its final response.
func (p *Phone) do(req *sip.Request) (*sip.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("siptest: %s: %w", req.Method, err)
	}
	return res, nil
}

// authorize adds credentials answering res's challenge, preferring MD5.
func (p *Phone) authorize(req *sip.Request, res *sip.Response, chalHeader, credHeader string) error {
	var chal *digest.Challenge
	for _, h := range res.GetHeaders(chalHeader) {
		c, err := digest.ParseChallenge(h.Value())
		if err != nil {
			continue
		}
		if chal == nil || strings.EqualFold(c.Algorithm, "MD5") {
			chal = c
		}
	}
	if chal == nil {
		return fmt.Errorf("siptest: no usable %s in %d response", chalHeader, res.StatusCode)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: req.Method.String(), URI: req.Recipient.Addr(),
		Username: p.opts.User, Password: p.opts.Password, Count: 1})
	if err != nil {
		return fmt.Errorf("siptest: digest: %w", err)
	}
	req.RemoveHeader(credHeader)
	req.AppendHeader(sip.NewHeader(credHeader, cred.String()))
	req.RemoveHeader("Via")
	return nil
}

// onNotify records a NOTIFY and answers 200.
func (p *Phone) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	p.mu.Lock()
	p.notifies = append(p.notifies, req)
	p.mu.Unlock()
	select {
	case p.notifyCh <- struct{}{}:
	default:
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
}

// Notifies returns the NOTIFYs received so far.
func (p *Phone) Notifies() []*sip.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*sip.Request(nil), p.notifies...)
}

// WaitNotify waits until n NOTIFYs with an Event header starting with event
// ("" = any) have arrived, and returns them.
func (p *Phone) WaitNotify(n int, event string, timeout time.Duration) ([]*sip.Request, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		var got []*sip.Request
		for _, r := range p.Notifies() {
			if h := r.GetHeader("Event"); event == "" || (h != nil && strings.HasPrefix(h.Value(), event)) {
				got = append(got, r)
			}
		}
		if len(got) >= n {
			return got, nil
		}
		select {
		case <-p.notifyCh:
		case <-deadline.C:
			return got, fmt.Errorf("siptest: %s: %d NOTIFY %q after %v, want %d", p.opts.User, len(got), event, timeout, n)
		}
	}
}

// hangupAll ends the calls still up when the test ends.
func (p *Phone) hangupAll() {
	p.mu.Lock()
	calls := make([]*Call, 0, len(p.calls))
	for _, c := range p.calls {
		calls = append(calls, c)
	}
	p.mu.Unlock()
	for _, c := range calls {
		_ = c.Hangup()
	}
}

var errNoCall = errors.New("siptest: no such call")

package registrar

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/icholy/digest"
)

const testRealm = "pbx.test"

// fakeClock is the shared test clock.
type fakeClock = siptest.Clock

// harness is a real signaling server with a registrar on loopback ports.
type harness struct {
	store *fakeStore
	clock *fakeClock
	reg   *Registrar
	srv   *signaling.Server
	bus   *events.Bus
	stop  func()
}

func quietLogger() *slog.Logger { return siptest.QuietLogger() }

// mustStart starts store+signaling+registrar; opts may tweak the options.
func mustStart(tb testing.TB, store *fakeStore, clock *fakeClock, tweak func(*Options)) *harness {
	tb.Helper()
	bus := events.New()
	o := Options{Store: store, Bus: bus, Realm: testRealm, Now: clock.Now, Logger: quietLogger(), Node: "n1"}
	if tweak != nil {
		tweak(&o)
	}
	reg, err := New(o)
	if err != nil {
		tb.Fatal(err)
	}
	if err := reg.Load(context.Background()); err != nil {
		tb.Fatal(err)
	}
	srv, err := signaling.New(signaling.Options{UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0",
		Logger: quietLogger(), ReadFilter: reg.Allow})
	if err != nil {
		tb.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		tb.Fatal(err)
	}
	reg.Register(srv)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); srv.Serve(ctx) }()
	go func() { defer wg.Done(); reg.Run(ctx) }()
	h := &harness{store: store, clock: clock, reg: reg, srv: srv, bus: bus}
	h.stop = sync.OnceFunc(func() { cancel(); wg.Wait() })
	tb.Cleanup(h.stop)
	return h
}

// phone is a scripted SIP client speaking raw text over UDP or TCP.
type phone struct {
	tb      testing.TB
	network string
	conn    net.Conn
	rd      *bufio.Reader
	user    string
	pass    string
	callID  string
	cseq    int
	nc      int
}

var branchSeq atomic.Int64

func (h *harness) mustPhone(tb testing.TB, network, user, pass string) *phone {
	tb.Helper()
	addr := h.srv.UDPAddr().String()
	if network == "tcp" {
		addr = h.srv.TCPAddr().String()
	}
	c, err := net.Dial(network, addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return &phone{tb: tb, network: network, conn: c, rd: bufio.NewReader(c), user: user, pass: pass,
		callID: fmt.Sprintf("call-%s-%d@test", user, branchSeq.Add(1))}
}

// request sends a request with extra header lines and returns the response,
// or nil if none came within wait.
func (p *phone) request(method, extra string, wait time.Duration) *sip.Response {
	p.tb.Helper()
	p.cseq++
	local := p.conn.LocalAddr().String()
	raw := fmt.Sprintf("%s sip:%s SIP/2.0\r\n"+
		"Via: SIP/2.0/%s %s;branch=z9hG4bK-%d;rport\r\n"+
		"From: <sip:%s@%s>;tag=ft%d\r\nTo: <sip:%s@%s>\r\n"+
		"Call-ID: %s\r\nCSeq: %d %s\r\nMax-Forwards: 70\r\nUser-Agent: testphone/1\r\n%s"+
		"Content-Length: 0\r\n\r\n",
		method, testRealm, strings.ToUpper(p.network), local, branchSeq.Add(1),
		p.user, testRealm, p.cseq, p.user, testRealm, p.callID, p.cseq, method, extra)
	if _, err := p.conn.Write([]byte(raw)); err != nil {
		p.tb.Fatal(err)
	}
	return p.read(wait)
}

func (p *phone) read(wait time.Duration) *sip.Response {
	p.tb.Helper()
	p.conn.SetReadDeadline(time.Now().Add(wait))
	var data []byte
	if p.network == "udp" {
		buf := make([]byte, 65535)
		n, err := p.conn.Read(buf)
		if err != nil {
			return nil
		}
		data = buf[:n]
	} else {
		for {
			line, err := p.rd.ReadString('\n')
			if err != nil {
				return nil
			}
			data = append(data, line...)
			if line == "\r\n" {
				break
			}
		}
	}
	msg, err := sip.NewParser().ParseSIP(data)
	if err != nil {
		p.tb.Fatalf("parse response: %v\n%s", err, data)
	}
	return msg.(*sip.Response)
}

// authorization answers the challenge in res for algorithm alg.
func (p *phone) authorization(res *sip.Response, header, method, alg string) string {
	p.tb.Helper()
	for _, h := range res.GetHeaders(header) {
		chal, err := digest.ParseChallenge(h.Value())
		if err != nil {
			p.tb.Fatal(err)
		}
		if chal.Algorithm != alg {
			continue
		}
		p.nc++
		cred, err := digest.Digest(chal, digest.Options{Method: method, URI: "sip:" + testRealm,
			Username: p.user, Password: p.pass, Count: p.nc})
		if err != nil {
			p.tb.Fatal(err)
		}
		return cred.String()
	}
	p.tb.Fatalf("no %s challenge in %s", alg, res)
	return ""
}

// register does REGISTER, answers the 401 with alg, and returns the final response.
func (p *phone) register(extra, alg string) *sip.Response {
	p.tb.Helper()
	res := p.request("REGISTER", extra, 2*time.Second)
	if res == nil || res.StatusCode != 401 {
		p.tb.Fatalf("first REGISTER: want 401, got %v", res)
	}
	p.nc = 0
	auth := p.authorization(res, "WWW-Authenticate", "REGISTER", alg)
	res = p.request("REGISTER", "Authorization: "+auth+"\r\n"+extra, 2*time.Second)
	if res == nil {
		p.tb.Fatal("no response to authenticated REGISTER")
	}
	return res
}

func (p *phone) contact() string {
	return "Contact: <sip:" + p.user + "@" + p.conn.LocalAddr().String() + ">\r\n"
}

func mustStatus(tb testing.TB, res *sip.Response, want int) {
	tb.Helper()
	if res == nil {
		tb.Fatalf("no response, want %d", want)
	}
	if res.StatusCode != want {
		tb.Fatalf("status %d %s, want %d\n%s", res.StatusCode, res.Reason, want, res)
	}
}

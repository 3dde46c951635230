package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/media/g711"
	"github.com/hotdesk-pbx/hotdesk/internal/media/prompts"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

// tlsPhone is a SIP phone over TLS (sipgo) that trusts the PBX's
// certificate, with an RTP socket on loopback.
type tlsPhone struct {
	t    *testing.T
	id   string
	pbx  string // the PBX's TLS address
	cli  *sipgo.Client
	dua  *sipgo.DialogUA
	rtp  *net.UDPConn
	key  []byte // our SRTP master key and salt
	byes chan struct{}
	// notifies counts NOTIFYs the PBX sent over the phone's TLS flow.
	notifies chan string
}

func newTLSPhone(t *testing.T, pbx, id string, roots *x509.CertPool) *tlsPhone {
	t.Helper()
	p, srv := startTLSPhone(t, pbx, id, roots, "tls-test-phone", "phone-key-0123456789-salt-0123")
	srv.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
		respondOK(req, tx)
		select {
		case p.notifies <- req.Transport():
		default:
		}
	})
	srv.OnOptions(respondOK)
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		respondOK(req, tx)
		p.byes <- struct{}{}
	})
	return p
}

// startTLSPhone makes a tlsPhone with the user agent name agent and the
// SRTP key key, and returns it with its server side for the caller's
// handlers.
func startTLSPhone(t *testing.T, pbx, id string, roots *x509.CertPool, agent, key string) (*tlsPhone, *sipgo.Server) {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(agent), sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgenTLSConfig(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(ua)
	cli, _ := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); ua.Close() })
	p := &tlsPhone{t: t, id: id, pbx: pbx, cli: cli, rtp: conn, key: []byte(key), byes: make(chan struct{}, 4), notifies: make(chan string, 16)}
	// sips: (RFC 3261 19.1): the phone is reached over TLS only, on the
	// connection it registered over (nothing listens on port 5999).
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sips", User: id, Host: "127.0.0.1", Port: 5999}}
	p.dua = &sipgo.DialogUA{Client: cli, ContactHDR: contact}
	return p, srv
}

// respondOK answers 200 OK.
func respondOK(req *sip.Request, tx sip.ServerTransaction) {
	tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
}

func (p *tlsPhone) uri(user string) sip.Uri {
	host, port, _ := sip.ParseAddr(p.pbx)
	return sip.Uri{Scheme: "sip", User: user, Host: host, Port: port, UriParams: tlsParam()}
}

// register registers over TLS with digest authentication.
func (p *tlsPhone) register() {
	p.t.Helper()
	host, port, _ := sip.ParseAddr(p.pbx)
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sips", Host: host, Port: port})
	req.SetTransport("TLS")
	aor := sip.Uri{Scheme: "sip", User: p.id, Host: "hotdesk.local"}
	req.AppendHeader(&sip.FromHeader{Address: aor, Params: tagParam()})
	req.AppendHeader(&sip.ToHeader{Address: aor})
	ct := p.dua.ContactHDR
	req.AppendHeader(&ct)
	req.AppendHeader(sip.NewHeader("Expires", "300"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := p.cli.Do(ctx, req)
	if err == nil && res.StatusCode == 401 {
		res, err = p.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.id, Password: DemoPassword(p.id)})
	}
	if err != nil || res.StatusCode != 200 {
		p.t.Fatalf("REGISTER over TLS: %v %v", res, err)
	}
}

// offer is an RTP/SAVP offer of PCMU and telephone-event with our key.
func (p *tlsPhone) offer() []byte {
	port := p.rtp.LocalAddr().(*net.UDPAddr).Port
	return []byte(strings.Join([]string{"v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
		fmt.Sprintf("m=audio %d RTP/SAVP 0 101", port), "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000",
		"a=fmtp:101 0-15", "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:" + base64.StdEncoding.EncodeToString(p.key),
		"a=sendrecv", ""}, "\r\n"))
}

// dial calls number with an SRTP-only offer and returns the answer.
func (p *tlsPhone) dial(number string) (*sipgo.DialogClientSession, []byte) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dlg, err := p.dua.Invite(ctx, p.uri(number), p.offer(), sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		p.t.Fatalf("INVITE %s: %v", number, err)
	}
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{Username: p.id, Password: DemoPassword(p.id)}); err != nil {
		p.t.Fatalf("INVITE %s over TLS with RTP/SAVP: %v", number, err)
	}
	if err := dlg.Ack(ctx); err != nil {
		p.t.Fatal(err)
	}
	return dlg, dlg.InviteResponse.Body()
}

// receive decrypts the SRTP stream with the key of answer until the PBX
// hangs up (or limit passes) and returns the G.711 payload bytes in order.
func (p *tlsPhone) receive(answer []byte, limit time.Duration) []byte {
	p.t.Helper()
	var key []byte
	for _, l := range strings.Split(string(answer), "\r\n") {
		if v, ok := strings.CutPrefix(l, "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:"); ok {
			key, _ = base64.StdEncoding.DecodeString(strings.Fields(v)[0])
		}
	}
	if len(key) != 30 || !strings.Contains(string(answer), "RTP/SAVP") {
		p.t.Fatalf("answer has no usable SRTP (tag 7, _80, RTP/SAVP):\n%s", answer)
	}
	dec, err := srtp.CreateContext(key[:16], key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		p.t.Fatal(err)
	}
	var out []byte
	buf := make([]byte, 1500)
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		p.rtp.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := p.rtp.Read(buf)
		if err != nil {
			select {
			case <-p.byes:
				return out
			default:
				continue
			}
		}
		plain, err := dec.DecryptRTP(nil, buf[:n], nil)
		if err != nil {
			p.t.Fatalf("RTP from the PBX does not decrypt with its SDP key: %v", err)
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(plain) == nil && pkt.PayloadType == 0 {
			out = append(out, pkt.Payload...)
		}
	}
	return out
}

// wantPrompt fails unless got holds the start of the named prompts, as
// PCMU.
func wantPrompt(t *testing.T, got []byte, names ...string) {
	t.Helper()
	set, err := prompts.New("en", "")
	if err != nil {
		t.Fatal(err)
	}
	want := g711.EncodeUlaw(nil, set.Say(names...))
	want = want[:min(len(want), 8000)] // the first second
	if len(want) < 800 || !bytes.Contains(got, want) {
		t.Fatalf("decrypted audio (%d bytes) does not hold the prompt %v (%d bytes)", len(got), names, len(want))
	}
}

// mustTrustPBX reads the PBX's generated certificate from the data dir.
func mustTrustPBX(t *testing.T, dataDir string) (*x509.CertPool, []byte) {
	t.Helper()
	pemBytes, err := os.ReadFile(filepath.Join(dataDir, sipCertFile))
	if err != nil {
		t.Fatalf("no self-signed SIP certificate in the data dir: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("bad PEM")
	}
	return pool, pemBytes
}

// TestTLSLoginWithSRTP: a phone registers over TLS (after 200 garbage
// handshakes), logs in with *35*201*1234 offering RTP/SAVP and hears the
// confirmation decrypted with the key of the PBX's answer; *77*5* with an
// SRTP-only offer is answered with SRTP (not 488) and logs out.
func TestTLSLoginWithSRTP(t *testing.T) {
	dir := t.TempDir()
	r := mustStart(t, testConfig(dir, true))
	addr := r.SIPTLSAddr()
	if addr == "" {
		t.Fatal("no SIP TLS listener by default")
	}
	roots, _ := mustTrustPBX(t, dir)
	if !strings.Contains(r.out.String(), "SHA-256 fingerprint") {
		t.Errorf("banner names no fingerprint:\n%s", r.out)
	}

	siptest.Junk(t, addr, 200, func(i int, c *net.TCPConn) { fmt.Fprintf(c, "REGISTER sip:x SIP/2.0\r\nX: %d\r\n\r\n", i) })

	p := newTLSPhone(t, addr, "HD00001", roots)
	p.register()
	bs := r.Registrar().Contacts("HD00001")
	if len(bs) != 1 || bs[0].Transport != "tls" {
		t.Fatalf("binding %+v, want one over tls", bs)
	}

	_, ans := p.dial("*35*201*1234")
	got := p.receive(ans, 15*time.Second)
	wantPrompt(t, got, append([]string{"logged_in_as"}, prompts.DigitNames("201")...)...)
	l, err := r.Store().LoginByDevice(context.Background(), "HD00001")
	if err != nil || l.Extension != "201" {
		t.Fatalf("login after *35 over TLS: %+v %v", l, err)
	}
	// The login's check-sync NOTIFY reaches the phone on its TLS flow.
	select {
	case tr := <-p.notifies:
		if tr != "TLS" {
			t.Errorf("NOTIFY came over %s", tr)
		}
	case <-time.After(5 * time.Second):
		t.Error("no check-sync NOTIFY over the phone's TLS connection")
	}

	_, ans = p.dial("*77*5*")
	got = p.receive(ans, 10*time.Second)
	wantPrompt(t, got, "logged_out")
	if _, err := r.Store().LoginByDevice(context.Background(), "HD00001"); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("still logged in after *77*5*: %v", err)
	}
}

// TestTLSCertificateKeptAndFromFlags: the generated certificate is reused
// on the next start (same fingerprint); --tls-cert/--tls-key replace it;
// --sip-tls "" disables the listener.
func TestTLSCertificateKeptAndFromFlags(t *testing.T) {
	dir := t.TempDir()
	r := mustStart(t, testConfig(dir, false))
	_, pem1 := mustTrustPBX(t, dir)
	fp := fingerprintLine(r.out.String())
	r.stop()
	r = mustStart(t, testConfig(dir, false))
	_, pem2 := mustTrustPBX(t, dir)
	if !bytes.Equal(pem1, pem2) || fp == "" || fingerprintLine(r.out.String()) != fp {
		t.Fatalf("certificate changed over a restart: %q vs %q", fp, fingerprintLine(r.out.String()))
	}
	r.stop()

	cfg := testConfig(t.TempDir(), false)
	cfg.TLSCert, cfg.TLSKey = filepath.Join(dir, sipCertFile), filepath.Join(dir, sipKeyFile)
	r = mustStart(t, cfg)
	if fingerprintLine(r.out.String()) != fp {
		t.Errorf("--tls-cert not used: %q", fingerprintLine(r.out.String()))
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, sipCertFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a certificate was generated although --tls-cert was given: %v", err)
	}
	r.stop()

	cfg = testConfig(t.TempDir(), false)
	cfg.SIPTLSAddr = ""
	r = mustStart(t, cfg)
	if r.SIPTLSAddr() != "" || strings.Contains(r.out.String(), "SIP over TLS") {
		t.Errorf("--sip-tls '' still listens on %q", r.SIPTLSAddr())
	}
}

func fingerprintLine(banner string) string {
	for _, l := range strings.Split(banner, "\n") {
		if _, fp, ok := strings.Cut(l, "SHA-256 fingerprint "); ok {
			return fp
		}
	}
	return ""
}

func tlsParam() sip.HeaderParams {
	p := sip.NewParams()
	p.Add("transport", "tls")
	return p
}

func tagParam() sip.HeaderParams {
	p := sip.NewParams()
	p.Add("tag", sip.GenerateTagN(8))
	return p
}

// dialStatus calls number with body and returns the final status (0 for
// a 2xx, which it hangs up at once; -1 for none within 3 s).
func (p *tlsPhone) dialStatus(number string, body []byte) int {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	dlg, err := p.dua.Invite(ctx, p.uri(number), body, sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		p.t.Fatalf("INVITE %s: %v", number, err)
	}
	err = dlg.WaitAnswer(ctx, sipgo.AnswerOptions{Username: p.id, Password: DemoPassword(p.id)})
	var de *sipgo.ErrDialogResponse
	switch {
	case err == nil:
		dlg.Ack(ctx)
		dlg.Bye(ctx)
		return 0
	case errors.As(err, &de):
		return de.Res.StatusCode
	case ctx.Err() != nil:
		return -1
	}
	p.t.Fatalf("INVITE %s: %v", number, err)
	return -1
}

// TestTLSSRTPRequiredDevice: a device with srtp=required gets 488 for a
// call between phones offering plain RTP, not for one offering a key, and
// never for an emergency call.
func TestTLSSRTPRequiredDevice(t *testing.T) {
	dir := t.TempDir()
	r := mustStart(t, testConfig(dir, true))
	req := hotdesk.SRTPRequired
	if _, err := r.Store().UpdateDevice(context.Background(), "HD00001", hotdesk.DeviceUpdate{SRTP: &req}); err != nil {
		t.Fatal(err)
	}
	roots, _ := mustTrustPBX(t, dir)
	p := newTLSPhone(t, r.SIPTLSAddr(), "HD00001", roots)
	p.register()
	if _, ans := p.dial("*35*201*1234"); !strings.Contains(string(ans), "a=crypto:") {
		t.Fatalf("login answer without SRTP:\n%s", ans)
	}
	plain := []byte(strings.ReplaceAll(strings.ReplaceAll(string(p.offer()), "RTP/SAVP", "RTP/AVP"),
		"a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:"+base64.StdEncoding.EncodeToString(p.key)+"\r\n", ""))
	if strings.Contains(string(plain), "crypto") {
		t.Fatal("test offer still has a key")
	}
	if got := p.dialStatus("202", plain); got != sip.StatusNotAcceptableHere {
		t.Errorf("plain RTP to 202 from a device requiring SRTP: %d, want 488", got)
	}
	if got := p.dialStatus("202", p.offer()); got == sip.StatusNotAcceptableHere {
		t.Errorf("SRTP offer to 202 refused with 488")
	}
	if got := p.dialStatus("112", plain); got == sip.StatusNotAcceptableHere {
		t.Errorf("emergency call refused for its SRTP policy")
	}
}

// TestTLSCallToPlainPhoneDropsKeys: a TLS phone's SRTP keys are not
// passed on to a phone registered over UDP; the rest of its offer is.
func TestTLSCallToPlainPhoneDropsKeys(t *testing.T) {
	dir := t.TempDir()
	r := mustStart(t, testConfig(dir, true))
	ctx := context.Background()
	for dev, ext := range map[string]string{"HD00001": "201", "HD00002": "202"} {
		if _, err := r.Desk().Login(ctx, desk.LoginRequest{Extension: ext, Device: dev, Via: hotdesk.ViaAPI}); err != nil {
			t.Fatal(err)
		}
	}
	callee := siptest.New(t, siptest.Options{Server: r.SIPAddr(), User: "HD00002", Password: DemoPassword("HD00002"), Domain: "hotdesk.local"})
	callee.MustRegister(t)
	callee.SetAnswerMode(siptest.AnswerRing)
	roots, _ := mustTrustPBX(t, dir)
	p := newTLSPhone(t, r.SIPTLSAddr(), "HD00001", roots)
	p.register()
	offer := strings.ReplaceAll(string(p.offer()), "RTP/SAVP", "RTP/AVP") // best-effort SRTP
	done := make(chan int, 1)
	go func() { done <- p.dialStatus("202", []byte(offer)) }()
	in, err := callee.WaitIncoming(5 * time.Second)
	if err != nil {
		t.Fatalf("202 did not ring: %v", err)
	}
	body := string(in.Request.Body())
	if strings.Contains(body, "a=crypto") || strings.Contains(body, "inline:") {
		t.Errorf("SRTP keys sent to a phone over UDP:\n%s", body)
	}
	if !strings.Contains(body, "m=audio") || !strings.Contains(body, "a=rtpmap:0 PCMU/8000") {
		t.Errorf("the rest of the offer was not passed on:\n%s", body)
	}
	<-done
}

package b2bua

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/relay"
)

// srtpPhone is one phone's media socket on loopback and its SDES key
// (nil: plain RTP).
type srtpPhone struct {
	t    *testing.T
	conn *net.UDPConn
	key  []byte
}

func newSRTPPhone(t *testing.T, withKey bool) *srtpPhone {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p := &srtpPhone{t: t, conn: c}
	if withKey {
		p.key = bytes.Repeat([]byte{byte(c.LocalAddr().(*net.UDPAddr).Port)}, 30)
	}
	return p
}

// sdp is the phone's offer or answer: RTP/SAVP with a=crypto:7 when it
// has a key, else RTP/AVP.
func (p *srtpPhone) sdp() []byte {
	port := p.conn.LocalAddr().(*net.UDPAddr).Port
	proto, crypto := "RTP/AVP", ""
	if p.key != nil {
		proto = "RTP/SAVP"
		crypto = "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:" + base64.StdEncoding.EncodeToString(p.key) + "\r\n"
	}
	return fmt.Appendf(nil, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d %s 0\r\na=rtpmap:0 PCMU/8000\r\n%sa=sendrecv\r\n", port, proto, crypto)
}

// keyIn is the key of the a=crypto line in body ("" none).
func keyIn(t *testing.T, body []byte) []byte {
	t.Helper()
	for l := range strings.SplitSeq(string(body), "\r\n") {
		if _, v, ok := strings.Cut(l, " AES_CM_128_HMAC_SHA1_80 inline:"); ok && strings.HasPrefix(l, "a=crypto:") {
			k, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
	}
	return nil
}

func ctxOf(t *testing.T, key []byte) *srtp.Context {
	t.Helper()
	c, err := srtp.CreateContext(key[:16], key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// send sends n RTP packets of payload to the relay port in sdp (the SDP
// the phone was sent), encrypted with key when given.
func (p *srtpPhone) send(to []byte, key []byte, ssrc uint32, payload []byte) {
	p.t.Helper()
	var enc *srtp.Context
	if key != nil {
		enc = ctxOf(p.t, key)
	}
	_, port := mediaPortOf(p.t, to)
	for i := range 5 {
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(100 + i), Timestamp: uint32(160 * i), SSRC: ssrc}, Payload: payload}
		raw, err := pkt.Marshal()
		if err != nil {
			p.t.Fatal(err)
		}
		if enc != nil {
			if raw, err = enc.EncryptRTP(nil, raw, nil); err != nil {
				p.t.Fatal(err)
			}
		}
		if _, err := p.conn.WriteToUDP(raw, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}); err != nil {
			p.t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recv reads the first packet that comes within a second.
func (p *srtpPhone) recv() []byte {
	p.t.Helper()
	buf := make([]byte, 1500)
	p.conn.SetReadDeadline(time.Now().Add(time.Second))
	n, _, err := p.conn.ReadFromUDP(buf)
	if err != nil {
		p.t.Fatalf("no media at %s: %v", p.conn.LocalAddr(), err)
	}
	return buf[:n]
}

func mediaPortOf(t *testing.T, body []byte) (string, int) {
	t.Helper()
	for l := range strings.SplitSeq(string(body), "\r\n") {
		if v, ok := strings.CutPrefix(l, "m=audio "); ok {
			var port int
			fmt.Sscanf(v, "%d", &port)
			return v, port
		}
	}
	t.Fatalf("no audio stream:\n%s", body)
	return "", 0
}

// payloadWith decrypts pkt with key (plain when key is nil) and returns
// its payload, or an error.
func payloadWith(t *testing.T, pkt, key []byte) ([]byte, error) {
	t.Helper()
	if key != nil {
		var err error
		if pkt, err = ctxOf(t, key).DecryptRTP(nil, pkt, nil); err != nil {
			return nil, err
		}
	}
	var p rtp.Packet
	if err := p.Unmarshal(pkt); err != nil {
		return nil, err
	}
	return p.Payload, nil
}

// anchoredCall is a call anchored in a fresh relay, the caller's
// signalling over TLS when aTLS, the answering leg's when bTLS.
func anchoredCall(t *testing.T, aTLS, bTLS bool) *call {
	t.Helper()
	r, err := relay.New(relay.Options{Pool: media.NewPortPool(0, 0), BindIP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	c := &call{media: s, srtp: newLegSRTP(s, aTLS), log: slog.New(slog.DiscardHandler)}
	c.srtp.setSecure(relay.B, bTLS)
	return c
}

// TestAnchoredSRTPToPlainPhone: a TLS phone offering RTP/SAVP calls a UDP
// phone on an anchored call. The UDP phone is offered plain RTP/AVP; the
// TLS phone is answered RTP/SAVP with the PBX's own key (its tag, not its
// key); what the UDP phone sends plain reaches the TLS phone encrypted
// with that key, and what the TLS phone sends encrypted reaches the UDP
// phone plain.
func TestAnchoredSRTPToPlainPhone(t *testing.T) {
	c := anchoredCall(t, true, false)
	a, b := newSRTPPhone(t, true), newSRTPPhone(t, false)
	toB := c.sdpFrom(relay.A, a.sdp(), "127.0.0.1:5061")
	if bytes.Contains(toB, []byte("a=crypto")) || !bytes.Contains(toB, []byte(" RTP/AVP ")) {
		t.Fatalf("the UDP phone's offer must be plain RTP/AVP without keys:\n%s", toB)
	}
	toA := c.sdpFrom(relay.B, b.sdp(), "127.0.0.1:5060")
	pbxKey := keyIn(t, toA)
	if !bytes.Contains(toA, []byte(" RTP/SAVP ")) || !bytes.Contains(toA, []byte("a=crypto:7 ")) || len(pbxKey) != 30 {
		t.Fatalf("the TLS phone's answer must be RTP/SAVP with a=crypto:7 and a key:\n%s", toA)
	}
	if bytes.Equal(pbxKey, a.key) {
		t.Fatal("the PBX answered the phone's own key")
	}

	b.send(toB, nil, 0xb0b, []byte("plain from b"))
	if got, err := payloadWith(t, a.recv(), pbxKey); err != nil || string(got) != "plain from b" {
		t.Fatalf("TLS phone decrypting with the PBX's key: %q %v", got, err)
	}
	a.send(toA, a.key, 0xa0a, []byte("secret from a"))
	if got, err := payloadWith(t, b.recv(), nil); err != nil || string(got) != "secret from a" {
		t.Fatalf("UDP phone, plain: %q %v", got, err)
	}
}

// TestAnchoredSRTPReencrypted: between two TLS phones on an anchored call
// each leg has its own key: what one phone sends reaches the other
// decryptable with the key the PBX gave that other phone, and not with
// the sender's key.
func TestAnchoredSRTPReencrypted(t *testing.T) {
	c := anchoredCall(t, true, true)
	a, b := newSRTPPhone(t, true), newSRTPPhone(t, true)
	toB := c.sdpFrom(relay.A, a.sdp(), "127.0.0.1:5061")
	keyB := keyIn(t, toB)
	if len(keyB) != 30 || bytes.Equal(keyB, a.key) || !bytes.Contains(toB, []byte(" RTP/SAVP ")) {
		t.Fatalf("the callee must be offered RTP/SAVP with the PBX's key, not the caller's:\n%s", toB)
	}
	toA := c.sdpFrom(relay.B, b.sdp(), "127.0.0.1:5062")
	keyA := keyIn(t, toA)
	if len(keyA) != 30 || bytes.Equal(keyA, b.key) || bytes.Equal(keyA, keyB) || !bytes.Contains(toA, []byte("a=crypto:7 ")) {
		t.Fatalf("the caller must be answered with a key of its own leg (tag 7):\n%s", toA)
	}

	a.send(toA, a.key, 0xa0a, []byte("from a"))
	pkt := b.recv()
	if _, err := payloadWith(t, pkt, a.key); err == nil {
		t.Error("the callee's packet decrypts with the caller's key")
	}
	if got, err := payloadWith(t, pkt, keyB); err != nil || string(got) != "from a" {
		t.Fatalf("callee decrypting with its PBX key: %q %v", got, err)
	}
	b.send(toB, b.key, 0xb0b, []byte("from b"))
	pkt = a.recv()
	if _, err := payloadWith(t, pkt, b.key); err == nil {
		t.Error("the caller's packet decrypts with the callee's key")
	}
	if got, err := payloadWith(t, pkt, keyA); err != nil || string(got) != "from b" {
		t.Fatalf("caller decrypting with its PBX key: %q %v", got, err)
	}
}

// BenchmarkLegSRTPPacket is the relay's per-packet SRTP work on an
// anchored TLS<->TLS call: one decryption (In) and one encryption (Out)
// of a 20 ms PCMU packet, in place in the read buffer.
func BenchmarkLegSRTPPacket(b *testing.B) {
	kIn, kOut := media.NewSDESKey(1, nil), media.NewSDESKey(1, nil)
	pin, _ := newPair(kIn)
	pout, _ := newPair(kOut)
	var inP, outP atomic.Pointer[srtpPair]
	inP.Store(pin)
	outP.Store(pout)
	in, out := decrypter(&inP), encrypter(&outP)
	phone, _ := newPair(kIn)
	buf := make([]byte, 1628)
	payload := make([]byte, 160)
	b.ReportAllocs()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(160 * i), SSRC: 1}, Payload: payload}
		raw, _ := pkt.Marshal()
		sealed, _ := phone.rtp.EncryptRTP(nil, raw, nil)
		b.StartTimer()
		n := copy(buf, sealed)
		p, ok := in(buf[:n], false)
		if !ok {
			b.Fatal("decrypt")
		}
		if _, ok = out(p, false); !ok {
			b.Fatal("encrypt")
		}
		b.StopTimer()
	}
}

// TestAnchoredSRTPRequiredCallee: a plain UDP phone calls a TLS phone whose
// device requires SRTP: the callee is offered RTP/SAVP with a PBX key, the
// caller gets a plain answer, and the media is converted both ways.
func TestAnchoredSRTPRequiredCallee(t *testing.T) {
	c := anchoredCall(t, false, true)
	a, b := newSRTPPhone(t, false), newSRTPPhone(t, true)
	relayed, err := c.media.Pass(relay.A, a.sdp(), "127.0.0.1:5060")
	if err != nil {
		t.Fatal(err)
	}
	outs, err := c.srtp.rewrite(relay.A, relayed, toLeg{}, toLeg{tls: true}, toLeg{tls: true, required: true})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(outs[1], []byte("a=crypto")) {
		t.Errorf("a TLS callee that does not require SRTP is offered keys the caller did not ask for:\n%s", outs[1])
	}
	toB := outs[2]
	keyB := keyIn(t, toB)
	if len(keyB) != 30 || !bytes.Contains(toB, []byte(" RTP/SAVP ")) || !bytes.Contains(toB, []byte("a=crypto:1 ")) {
		t.Fatalf("the callee requiring SRTP must be offered RTP/SAVP with the PBX's key:\n%s", toB)
	}
	b.key = bytes.Repeat([]byte{9}, 30)
	toA := c.sdpFrom(relay.B, bytes.Replace(b.sdp(), []byte("a=crypto:7 "), []byte("a=crypto:1 "), 1), "127.0.0.1:5061")
	if bytes.Contains(toA, []byte("a=crypto")) || !bytes.Contains(toA, []byte(" RTP/AVP ")) {
		t.Fatalf("the UDP caller must be answered plain RTP/AVP:\n%s", toA)
	}
	a.send(toA, nil, 0xa0a, []byte("plain from a"))
	if got, err := payloadWith(t, b.recv(), keyB); err != nil || string(got) != "plain from a" {
		t.Fatalf("callee decrypting with its PBX key: %q %v", got, err)
	}
	b.send(toB, b.key, 0xb0b, []byte("secret from b"))
	if got, err := payloadWith(t, a.recv(), nil); err != nil || string(got) != "secret from b" {
		t.Fatalf("caller, plain: %q %v", got, err)
	}
}

package app

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/hotdesk-pbx/hotdesk/internal/b2bua"
	"github.com/hotdesk-pbx/hotdesk/internal/media/g711"
	"github.com/hotdesk-pbx/hotdesk/internal/media/mediatest"
)

// sdesKey is the _80 key of the a=crypto:7 line in body (nil: none).
func sdesKey(body []byte) []byte {
	for l := range strings.SplitSeq(string(body), "\r\n") {
		if v, ok := strings.CutPrefix(l, "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:"); ok {
			k, _ := base64.StdEncoding.DecodeString(strings.Fields(v)[0])
			return k
		}
	}
	return nil
}

// audioPort is the m=audio port of body.
func audioPort(t *testing.T, body []byte) int {
	t.Helper()
	for l := range strings.SplitSeq(string(body), "\r\n") {
		var port int
		if _, err := fmt.Sscanf(l, "m=audio %d", &port); err == nil {
			return port
		}
	}
	t.Fatalf("no m=audio in:\n%s", body)
	return 0
}

// startAnchored starts the demo PBX with --media anchor and returns it
// with the roots that trust its TLS certificate.
func startAnchored(t *testing.T) (*running, *x509.CertPool) {
	t.Helper()
	dir := t.TempDir()
	cfg := testConfig(dir, true)
	cfg.Media = b2bua.MediaAnchor
	r := mustStart(t, cfg)
	roots, _ := mustTrustPBX(t, dir)
	return r, roots
}

// TestAnchoredSRTPPhoneCallsPlainPhone (issue 15 item 4): with --media
// anchor, a TLS phone offering RTP/SAVP with its key calls a plain UDP
// phone. The UDP phone is offered RTP/AVP without keys; the TLS phone is
// answered RTP/SAVP with a key of the PBX's (not its own). Audio the UDP
// phone sends plain reaches the TLS phone encrypted with that key, and
// SRTP the TLS phone sends with its key reaches the UDP phone plain.
func TestAnchoredSRTPPhoneCallsPlainPhone(t *testing.T) {
	r, roots := startAnchored(t)
	hd2 := demoPhone(t, r, "HD00002")
	loginByPhone(t, hd2, "*35*202*1234")
	p := newTLSPhone(t, r.SIPTLSAddr(), "HD00001", roots)
	p.register()
	_, ans := p.dial("*35*201*1234")
	p.receive(ans, 15*time.Second)

	_, ans = p.dial("202")
	in := hd2.MustWaitIncoming(t, 5*time.Second)
	if offer := in.Request.Body(); bytes.Contains(offer, []byte("a=crypto")) || !bytes.Contains(offer, []byte(" RTP/AVP ")) {
		t.Fatalf("the UDP phone's offer must be plain RTP/AVP without keys:\n%s", offer)
	}
	key := sdesKey(ans)
	if len(key) != 30 || bytes.Equal(key, p.key) || !bytes.Contains(ans, []byte(" RTP/SAVP ")) {
		t.Fatalf("the TLS phone must be answered RTP/SAVP with the PBX's key (tag 7):\n%s", ans)
	}
	in.Media.NoCN = true

	// UDP phone -> TLS phone: a tone, plain; it arrives as SRTP.
	tone := mediatest.Tone(440, 200*time.Millisecond)
	want := g711.EncodeUlaw(nil, tone[:160])
	go in.Media.SendAudio(0, tone)
	dec, err := srtp.CreateContext(key[:16], key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	var got []byte
	for deadline := time.Now().Add(3 * time.Second); got == nil && time.Now().Before(deadline); {
		p.rtp.SetReadDeadline(time.Now().Add(time.Second))
		n, err := p.rtp.Read(buf)
		if err != nil {
			continue
		}
		if bytes.Contains(buf[:n], want) {
			t.Fatal("the TLS phone got the UDP phone's audio in the clear")
		}
		plain, err := dec.DecryptRTP(nil, buf[:n], nil)
		var pkt rtp.Packet
		if err == nil && pkt.Unmarshal(plain) == nil && pkt.Marker {
			got = pkt.Payload
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the TLS phone, decrypting with the PBX's key, got %x\nwant %x", got, want)
	}

	// TLS phone -> UDP phone: G.711 silence as SRTP with the phone's
	// key; the UDP phone gets it decrypted (encrypted, it is noise).
	enc, err := srtp.CreateContext(p.key[:16], p.key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		t.Fatal(err)
	}
	relayA := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: audioPort(t, ans)}
	done := make(chan []mediatest.Received)
	go func() { done <- in.Media.Watch(2 * time.Second) }()
	for i := range 20 {
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(160 * i), SSRC: 0x7357},
			Payload: bytes.Repeat([]byte{g711.UlawFromLinear(0)}, 160)}
		raw, _ := pkt.Marshal()
		sealed, err := enc.EncryptRTP(nil, raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		p.rtp.WriteToUDP(sealed, relayA)
		time.Sleep(20 * time.Millisecond)
	}
	var mine, silent int
	for _, rc := range <-done {
		if rc.SSRC == 0x7357 {
			mine++
			if rc.Silent {
				silent++
			}
		}
	}
	if mine == 0 || silent != mine {
		t.Fatalf("the UDP phone got %d of the TLS phone's packets, %d of them decrypted", mine, silent)
	}
}

// newTLSCallee is a tlsPhone (key: its own, 30 bytes) that answers an
// INVITE with RTP/SAVP and its key under the offer's first tag, and hands
// the offer to invites.
func newTLSCallee(t *testing.T, pbx, id string, roots *x509.CertPool, invites chan<- []byte) *tlsPhone {
	t.Helper()
	p, srv := startTLSPhone(t, pbx, id, roots, "tls-test-callee", "callee-key-0123456789-salt-012")
	srv.OnNotify(respondOK)
	srv.OnOptions(respondOK)
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {})
	srv.OnBye(respondOK)
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		offer := req.Body()
		tag := "1"
		for l := range strings.SplitSeq(string(offer), "\r\n") {
			if v, ok := strings.CutPrefix(l, "a=crypto:"); ok {
				tag, _, _ = strings.Cut(v, " ")
				break
			}
		}
		ans := strings.Replace(string(p.offer()), "a=crypto:7 ", "a=crypto:"+tag+" ", 1)
		res := sip.NewResponseFromRequest(req, 200, "OK", []byte(ans))
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		c := p.dua.ContactHDR
		res.AppendHeader(&c)
		tx.Respond(res)
		select {
		case invites <- offer:
		default:
		}
	})
	return p
}

// TestAnchoredSRTPBetweenTLSPhones (issue 15 item 4): with --media anchor
// two TLS phones with SRTP each get a key of the PBX's for their own leg;
// what one sends reaches the other decryptable with the key the PBX gave
// that other phone, and not with the sender's key.
func TestAnchoredSRTPBetweenTLSPhones(t *testing.T) {
	r, roots := startAnchored(t)
	invites := make(chan []byte, 1)
	b := newTLSCallee(t, r.SIPTLSAddr(), "HD00002", roots, invites)
	b.register()
	_, ans := b.dial("*35*202*1234")
	b.receive(ans, 15*time.Second)
	a := newTLSPhone(t, r.SIPTLSAddr(), "HD00001", roots)
	a.register()
	_, ans = a.dial("*35*201*1234")
	a.receive(ans, 15*time.Second)

	_, toA := a.dial("202")
	var toB []byte
	select {
	case toB = <-invites:
	case <-time.After(5 * time.Second):
		t.Fatal("the callee got no INVITE")
	}
	keyA := sdesKey(toA)
	var keyB []byte
	for l := range strings.SplitSeq(string(toB), "\r\n") {
		if _, v, ok := strings.Cut(l, " AES_CM_128_HMAC_SHA1_80 inline:"); ok && strings.HasPrefix(l, "a=crypto:") {
			keyB, _ = base64.StdEncoding.DecodeString(v)
		}
	}
	if len(keyA) != 30 || len(keyB) != 30 || bytes.Equal(keyA, keyB) || bytes.Equal(keyA, b.key) || bytes.Equal(keyB, a.key) {
		t.Fatalf("each phone must get a PBX key of its own leg:\nto A:\n%s\nto B:\n%s", toA, toB)
	}
	check := func(from, to *tlsPhone, relayPort int, toKey []byte, payload string) {
		t.Helper()
		enc, err := srtp.CreateContext(from.key[:16], from.key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
		if err != nil {
			t.Fatal(err)
		}
		dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: relayPort}
		buf := make([]byte, 1500)
		for i := range 10 {
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(160 * i), SSRC: 0x5151}, Payload: []byte(payload)}
			raw, _ := pkt.Marshal()
			sealed, _ := enc.EncryptRTP(nil, raw, nil)
			from.rtp.WriteToUDP(sealed, dst)
			to.rtp.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			n, err := to.rtp.Read(buf)
			if err != nil {
				continue
			}
			if _, err := ctxDecrypt(t, from.key, buf[:n]); err == nil {
				t.Fatal("a packet decrypts with the sender's own key")
			}
			plain, err := ctxDecrypt(t, toKey, buf[:n])
			var got rtp.Packet
			if err == nil && got.Unmarshal(plain) == nil && string(got.Payload) == payload {
				return
			}
		}
		t.Fatalf("no packet %q decryptable with the receiver's PBX key", payload)
	}
	check(a, b, audioPort(t, toA), keyB, "from the caller")
	check(b, a, audioPort(t, toB), keyA, "from the callee")
}

func ctxDecrypt(t *testing.T, key, pkt []byte) ([]byte, error) {
	t.Helper()
	c, err := srtp.CreateContext(key[:16], key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		t.Fatal(err)
	}
	return c.DecryptRTP(nil, pkt, nil)
}

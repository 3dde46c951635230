package app

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

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

// TestAnchoredSRTPPhoneCallsPlainPhone (issue 15 item 4): with --media
// anchor, a TLS phone offering RTP/SAVP with its key calls a plain UDP
// phone. The UDP phone is offered RTP/AVP without keys; the TLS phone is
// answered RTP/SAVP with a key of the PBX's (not its own). Audio the UDP
// phone sends plain reaches the TLS phone encrypted with that key, and
// SRTP the TLS phone sends with its key reaches the UDP phone plain.
func TestAnchoredSRTPPhoneCallsPlainPhone(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir, true)
	cfg.Media = b2bua.MediaAnchor
	r := mustStart(t, cfg)
	roots, _ := mustTrustPBX(t, dir)
	hd2 := demoPhone(t, r, "HD00002")
	loginByPhone(t, hd2, "*35*202*1234")
	p := newTLSPhone(t, r.SIPTLSAddr(), "HD00001", roots)
	p.register()
	_, ans := p.dial("*35*201*1234")
	p.receive(ans, 15*time.Second)

	_, ans = p.dial("202")
	in, err := hd2.WaitIncoming(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
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

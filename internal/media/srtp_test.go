package media

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/hotdesk-pbx/hotdesk/internal/media/dtmf"
	"github.com/hotdesk-pbx/hotdesk/internal/media/g711"
)

// phoneKey is the test phone's SRTP master key and salt.
var phoneKey = []byte("0123456789abcdef0123456789abcd")

func phoneCrypto(tag int, suite string) string {
	return fmt.Sprintf("a=crypto:%d %s inline:%s", tag, suite, base64.StdEncoding.EncodeToString(phoneKey))
}

// savpOffer is an offer of proto with extra attribute lines.
func savpOffer(port int, proto string, extra ...string) []byte {
	return []byte(strings.ReplaceAll(string(offerSDP("127.0.0.1", port, "0 101", extra...)), "RTP/AVP", proto))
}

// answerCrypto returns the answer's single a=crypto line, parsed.
func answerCrypto(tb testing.TB, answer []byte) (cryptoAttr, bool) {
	tb.Helper()
	var lines []string
	for _, l := range strings.Split(string(answer), "\r\n") {
		if v, ok := strings.CutPrefix(l, "a=crypto:"); ok {
			lines = append(lines, v)
		}
	}
	if len(lines) == 0 {
		return cryptoAttr{}, false
	}
	if len(lines) > 1 {
		tb.Fatalf("answer has %d crypto lines:\n%s", len(lines), answer)
	}
	c, ok := parseCrypto(lines[0])
	if !ok {
		tb.Fatalf("answer crypto line %q does not parse", lines[0])
	}
	return c, true
}

// TestSRTPPolicy: which offers get SRTP, plain RTP or 488 under each
// signalling and device policy; keys never appear in SDP that is not
// carried over TLS.
func TestSRTPPolicy(t *testing.T) {
	sec := func(tls bool, p string) Security { return Security{Secure: tls, SRTP: p} }
	c80, c32 := phoneCrypto(1, "AES_CM_128_HMAC_SHA1_80"), phoneCrypto(2, "AES_CM_128_HMAC_SHA1_32")
	unknown := "a=crypto:1 AEAD_AES_256_GCM inline:" + base64.StdEncoding.EncodeToString(make([]byte, 44))
	mki := "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + base64.StdEncoding.EncodeToString(phoneKey) + "|2^20|1:4"
	tests := []struct {
		name   string
		sec    Security
		proto  string
		lines  []string
		suite  string // "" = plain RTP answer
		reject bool
	}{
		{"SAVP over TLS", sec(true, ""), "RTP/SAVP", []string{c80}, "AES_CM_128_HMAC_SHA1_80", false},
		{"SAVP _32 preferred by the phone", sec(true, SRTPOptional), "RTP/SAVP", []string{c32, c80}, "AES_CM_128_HMAC_SHA1_32", false},
		{"unknown suite skipped", sec(true, SRTPRequired), "RTP/SAVP", []string{unknown, c80}, "AES_CM_128_HMAC_SHA1_80", false},
		{"best-effort SRTP on AVP", sec(true, SRTPOptional), "RTP/AVP", []string{c80}, "AES_CM_128_HMAC_SHA1_80", false},
		{"SAVPF too", sec(true, SRTPOptional), "RTP/SAVPF", []string{c80}, "AES_CM_128_HMAC_SHA1_80", false},
		{"SAVP without TLS", sec(false, SRTPOptional), "RTP/SAVP", []string{c80}, "", true},
		{"AVP with keys without TLS: plain, no keys back", sec(false, SRTPOptional), "RTP/AVP", []string{c80}, "", false},
		{"SAVP to a device with SRTP off", sec(true, SRTPOff), "RTP/SAVP", []string{c80}, "", true},
		{"AVP with keys, SRTP off", sec(true, SRTPOff), "RTP/AVP", []string{c80}, "", false},
		{"only unknown suites, optional", sec(true, SRTPOptional), "RTP/AVP", []string{unknown}, "", false},
		{"only unknown suites, required", sec(true, SRTPRequired), "RTP/AVP", []string{unknown}, "", true},
		{"only unknown suites on SAVP", sec(true, SRTPOptional), "RTP/SAVP", []string{unknown}, "", true},
		{"MKI not supported, required", sec(true, SRTPRequired), "RTP/SAVP", []string{mki}, "", true},
		{"plain RTP, required", sec(true, SRTPRequired), "RTP/AVP", nil, "", true},
		{"plain RTP, required, no TLS", sec(false, SRTPRequired), "RTP/AVP", nil, "", true},
		{"plain RTP, optional", sec(true, SRTPOptional), "RTP/AVP", nil, "", false},
	}
	pool := NewPortPool(32000, 32100)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSessionWith(SessionOptions{Pool: pool, LocalIP: "127.0.0.1", Security: tt.sec})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ans, err := s.Answer(savpOffer(4000, tt.proto, tt.lines...))
			if tt.reject {
				if !errors.Is(err, ErrNotAcceptable) {
					t.Fatalf("answer = %v, want ErrNotAcceptable (488):\n%s", err, ans)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, has := answerCrypto(t, ans)
			if tt.suite == "" {
				if has || s.Encrypted() || strings.Contains(string(ans), "SAVP") {
					t.Fatalf("want a plain RTP answer:\n%s", ans)
				}
				return
			}
			if !has || c.suite.name != tt.suite || !s.Encrypted() {
				t.Fatalf("want SRTP %s, answer:\n%s", tt.suite, ans)
			}
			if string(c.key) == string(phoneKey) {
				t.Error("the answer reuses the phone's key")
			}
			wantTag := 1
			if tt.suite == "AES_CM_128_HMAC_SHA1_32" {
				wantTag = 2
			}
			if c.tag != wantTag {
				t.Errorf("answer tag %d, want the offer's %d", c.tag, wantTag)
			}
			if savp := strings.Contains(string(ans), "RTP/SAVP"); savp != (tt.proto != "RTP/AVP") {
				t.Errorf("answer profile: %s", ans)
			}
		})
	}
}

// TestSRTPOffer: an offerless INVITE over TLS gets our key in the offer
// (RTP/SAVP when SRTP is required); without TLS no key is offered.
func TestSRTPOffer(t *testing.T) {
	pool := NewPortPool(32100, 32200)
	for _, tt := range []struct {
		sec       Security
		key, savp bool
	}{
		{Security{Secure: true}, true, false},
		{Security{Secure: true, SRTP: SRTPRequired}, true, true},
		{Security{Secure: true, SRTP: SRTPOff}, false, false},
		{Security{Secure: false}, false, false},
	} {
		s, err := NewSessionWith(SessionOptions{Pool: pool, LocalIP: "127.0.0.1", Security: tt.sec})
		if err != nil {
			t.Fatal(err)
		}
		offer, err := s.Offer()
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		_, key := answerCrypto(t, offer)
		if key != tt.key || strings.Contains(string(offer), "RTP/SAVP") != tt.savp {
			t.Errorf("%+v: offer\n%s", tt.sec, offer)
		}
	}
}

// TestSRTPMedia: with SRTP negotiated the prompt arrives encrypted
// (decrypted with the answer's key it is the prompt's G.711), key presses
// count only when encrypted with the phone's key, and a plain RTP key
// press from the phone's own address is ignored.
func TestSRTPMedia(t *testing.T) {
	p := newPhone(t)
	s, err := NewSessionWith(SessionOptions{Pool: NewPortPool(32200, 32300), LocalIP: "127.0.0.1", Security: Security{Secure: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ans, err := s.Answer(savpOffer(p.port(), "RTP/SAVP", phoneCrypto(1, "AES_CM_128_HMAC_SHA1_80")))
	if err != nil {
		t.Fatal(err)
	}
	c, ok := answerCrypto(t, ans)
	if !ok {
		t.Fatalf("no crypto in answer:\n%s", ans)
	}
	dec, err := srtp.CreateContext(c.key[:16], c.key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, 8*160) // 160 ms of a ramp: no frame is silence
	for i := range pcm {
		pcm[i] = int16(1000 + 37*(i%200))
	}
	want := g711.EncodeUlaw(nil, pcm)
	go s.Play(context.Background(), pcm)

	var got []byte
	buf := make([]byte, 1500)
	deadline := time.Now().Add(3 * time.Second)
	for len(got) < len(want) && time.Now().Before(deadline) {
		_ = p.conn.SetReadDeadline(deadline)
		n, err := p.conn.Read(buf)
		if err != nil {
			break
		}
		var plain rtp.Packet
		if err := plain.Unmarshal(buf[:n]); err == nil && len(plain.Payload) == frameSamples && string(plain.Payload[:8]) == string(want[:8]) {
			t.Fatal("the prompt went out in clear RTP")
		}
		out, err := dec.DecryptRTP(nil, buf[:n], nil)
		if err != nil {
			t.Fatalf("packet does not decrypt with the answer's key: %v", err)
		}
		var pkt rtp.Packet
		if err := pkt.Unmarshal(out); err != nil || isSilence(&pkt) {
			continue
		}
		got = append(got, pkt.Payload...)
	}
	if string(got) != string(want) {
		t.Fatalf("decrypted %d bytes of prompt, want the %d encoded", len(got), len(want))
	}

	// Key presses: plain '1' is ignored, encrypted '2' counts.
	p.press(s.LocalPort(), 1000, new(uint16), '1')
	enc, err := srtp.CreateContext(phoneKey[:16], phoneKey[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := dtmf.Code('2')
	for i, end := range []bool{false, false, true, true} {
		ev := dtmf.Event{Code: code, End: end, Volume: 10, Duration: uint16(160 * (i + 1))}
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: uint16(500 + i), Timestamp: 9000, SSRC: 4242, Marker: i == 0}, Payload: ev.Marshal(nil)}
		b, _ := pkt.Marshal()
		out, err := enc.EncryptRTP(nil, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		p.conn.WriteToUDP(out, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.LocalPort()})
	}
	digits, err := s.CollectDigits(context.Background(), 1, 2*time.Second, time.Second)
	if digits != "2" {
		t.Fatalf("digits %q (%v), want only the encrypted 2", digits, err)
	}
}

// BenchmarkSRTPPacket is the cost SRTP adds per 20 ms G.711 packet: one
// encryption (send) and one decryption (receive), as a session does.
func BenchmarkSRTPPacket(b *testing.B) {
	c := cryptoAttr{suite: suites[0], key: phoneKey}
	enc, _ := c.context()
	dec, _ := c.context()
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 1}, Payload: make([]byte, frameSamples)}
	out, in := make([]byte, 0, 1500), make([]byte, 0, 1500)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		pkt.SequenceNumber, pkt.Timestamp = uint16(i), uint32(i*frameSamples)
		raw, _ := pkt.Marshal()
		sealed, err := enc.EncryptRTP(out[:0], raw, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := dec.DecryptRTP(in[:0], sealed, nil); err != nil {
			b.Fatal(err)
		}
	}
}

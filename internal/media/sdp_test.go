package media

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
)

// sdpText joins lines with CRLF as SIP phones send them.
func sdpText(lines ...string) []byte { return []byte(strings.Join(lines, "\r\n") + "\r\n") }

func offerSDP(ip string, port int, formats string, extra ...string) []byte {
	lines := []string{
		"v=0", "o=- 20518 0 IN IP4 " + ip, "s=SDP Data", "c=IN IP4 " + ip, "t=0 0",
		fmt.Sprintf("m=audio %d RTP/AVP %s", port, formats),
		"a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:18 G729/8000",
		"a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=ptime:20",
	}
	return sdpText(append(lines, extra...)...)
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name    string
		offer   []byte
		codec   string
		dtmf    int
		remote  string
		dir     string
		wantErr error
	}{
		{"PCMA preferred", offerSDP("10.0.0.5", 4000, "8 0 18 101"), "PCMA", 101, "10.0.0.5:4000", "sendrecv", nil},
		{"PCMU preferred", offerSDP("10.0.0.5", 4000, "0 8 101"), "PCMU", 101, "10.0.0.5:4000", "sendrecv", nil},
		{"G729 first", offerSDP("10.0.0.5", 4000, "18 8 101"), "PCMA", 101, "10.0.0.5:4000", "sendrecv", nil},
		{"only G729", offerSDP("10.0.0.5", 4000, "18 101"), "", 0, "", "", ErrNotAcceptable},
		{"no telephone-event", offerSDP("10.0.0.5", 4000, "0"), "PCMU", -1, "10.0.0.5:4000", "sendrecv", nil},
		{"static type without rtpmap", sdpText("v=0", "o=- 1 1 IN IP4 1.2.3.4", "s=-", "c=IN IP4 1.2.3.4", "t=0 0", "m=audio 5000 RTP/AVP 0"), "PCMU", -1, "1.2.3.4:5000", "sendrecv", nil},
		{"telephone-event 96", sdpText("v=0", "o=- 1 1 IN IP4 1.2.3.4", "s=-", "c=IN IP4 1.2.3.4", "t=0 0", "m=audio 5000 RTP/AVP 8 96", "a=rtpmap:96 telephone-event/8000"), "PCMA", 96, "1.2.3.4:5000", "sendrecv", nil},
		{"wideband telephone-event skipped", sdpText("v=0", "o=- 1 1 IN IP4 1.2.3.4", "s=-", "c=IN IP4 1.2.3.4", "t=0 0", "m=audio 5000 RTP/AVP 0 100 101", "a=rtpmap:100 telephone-event/48000", "a=rtpmap:101 TELEPHONE-EVENT/8000"), "PCMU", 101, "1.2.3.4:5000", "sendrecv", nil},
		{"static type remapped", sdpText("v=0", "o=- 1 1 IN IP4 1.2.3.4", "s=-", "c=IN IP4 1.2.3.4", "t=0 0", "m=audio 5000 RTP/AVP 0", "a=rtpmap:0 opus/48000/2"), "", 0, "", "", ErrNotAcceptable},
		{"SRTP refused", sdpText("v=0", "o=- 1 1 IN IP4 1.2.3.4", "s=-", "c=IN IP4 1.2.3.4", "t=0 0", "m=audio 5000 RTP/SAVP 0"), "", 0, "", "", ErrNotAcceptable},
		{"hold address", offerSDP("0.0.0.0", 4000, "0 101"), "PCMU", 101, "", "sendrecv", nil},
		{"media c= wins", sdpText("v=0", "o=- 1 1 IN IP4 1.2.3.4", "s=-", "c=IN IP4 1.2.3.4", "t=0 0", "m=audio 5000 RTP/AVP 0", "c=IN IP4 5.6.7.8"), "PCMU", -1, "5.6.7.8:5000", "sendrecv", nil},
		{"IPv6", sdpText("v=0", "o=- 1 1 IN IP6 ::1", "s=-", "c=IN IP6 ::1", "t=0 0", "m=audio 5000 RTP/AVP 0"), "PCMU", -1, "[::1]:5000", "sendrecv", nil},
		{"rejected stream skipped", sdpText("v=0", "o=- 1 1 IN IP4 1.2.3.4", "s=-", "c=IN IP4 1.2.3.4", "t=0 0", "m=audio 0 RTP/AVP 0", "m=audio 6000 RTP/AVP 8"), "PCMA", -1, "1.2.3.4:6000", "sendrecv", nil},
		{"sendonly offer", offerSDP("10.0.0.5", 4000, "0 101", "a=sendonly"), "PCMU", 101, "10.0.0.5:4000", "recvonly", nil},
		{"inactive offer", offerSDP("10.0.0.5", 4000, "0 101", "a=inactive"), "PCMU", 101, "10.0.0.5:4000", "inactive", nil},
		{"video only", sdpText("v=0", "o=- 1 1 IN IP4 1.2.3.4", "s=-", "c=IN IP4 1.2.3.4", "t=0 0", "m=video 5000 RTP/AVP 96"), "", 0, "", "", ErrNotAcceptable},
		{"LF line ends", []byte("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4 1.2.3.4\nt=0 0\nm=audio 5000 RTP/AVP 8\n"), "PCMA", -1, "1.2.3.4:5000", "sendrecv", nil},
		{"garbage", []byte("hello"), "", 0, "", "", ErrNotAcceptable},
		{"empty", nil, "", 0, "", "", ErrNotAcceptable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := negotiate(tt.offer, Security{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			remote := ""
			if n.remote != nil {
				remote = n.remote.String()
			}
			if n.codec.name != tt.codec || n.dtmfPT != tt.dtmf || remote != tt.remote || n.dir != tt.dir {
				t.Fatalf("got %s dtmf=%d remote=%q dir=%s, want %s dtmf=%d remote=%q dir=%s",
					n.codec.name, n.dtmfPT, remote, n.dir, tt.codec, tt.dtmf, tt.remote, tt.dir)
			}
		})
	}
}

func parseSDP(tb testing.TB, b []byte) *sdp.SessionDescription {
	tb.Helper()
	var d sdp.SessionDescription
	if err := d.Unmarshal(b); err != nil {
		tb.Fatalf("parse %q: %v", b, err)
	}
	return &d
}

func TestBuildAnswer(t *testing.T) {
	offer := sdpText("v=0", "o=- 1 1 IN IP4 1.2.3.4", "s=-", "c=IN IP4 1.2.3.4", "t=0 0",
		"m=audio 5000 RTP/AVP 8 0 101", "a=rtpmap:101 telephone-event/8000", "m=video 5002 RTP/AVP 96 97")
	n, err := negotiate(offer, Security{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := buildAnswer(sdpParams{ip: net.ParseIP("192.0.2.7"), port: 30000, id: 42, ver: 3}, n)
	if err != nil {
		t.Fatal(err)
	}
	d := parseSDP(t, b)
	if d.ConnectionInformation.Address.Address != "192.0.2.7" || d.Origin.SessionVersion != 3 {
		t.Fatalf("answer header wrong:\n%s", b)
	}
	if len(d.MediaDescriptions) != 2 {
		t.Fatalf("want 2 m= lines:\n%s", b)
	}
	a, v := d.MediaDescriptions[0], d.MediaDescriptions[1]
	if a.MediaName.Port.Value != 30000 || strings.Join(a.MediaName.Formats, " ") != "8 101" {
		t.Fatalf("audio line %v", a.MediaName)
	}
	for _, want := range []string{"a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=ptime:20", "a=sendrecv"} {
		if !strings.Contains(string(b), want+"\r\n") {
			t.Errorf("answer lacks %q:\n%s", want, b)
		}
	}
	if v.MediaName.Media != "video" || v.MediaName.Port.Value != 0 {
		t.Fatalf("video not rejected: %v", v.MediaName)
	}
	if strings.Contains(string(b), "PCMU") {
		t.Errorf("answer offers more than the chosen codec:\n%s", b)
	}
}

func TestBuildOfferIsAcceptable(t *testing.T) {
	b, err := buildOffer(sdpParams{ip: net.ParseIP("::1"), port: 30002, id: 1, ver: 1})
	if err != nil {
		t.Fatal(err)
	}
	n, err := negotiate(b, Security{})
	if err != nil {
		t.Fatalf("our own offer: %v\n%s", err, b)
	}
	if n.codec.name != "PCMU" || n.dtmfPT != 101 || n.cnPT != 13 || n.remote.String() != "[::1]:30002" {
		t.Fatalf("offer negotiates to %s %d %d %v\n%s", n.codec.name, n.dtmfPT, n.cnPT, n.remote, b)
	}
	if !strings.Contains(string(b), "m=audio 30002 RTP/AVP 0 8 101 13\r\n") {
		t.Fatalf("offer:\n%s", b)
	}
}

// TestComfortNoiseNegotiation: CN (RFC 3389) is answered when offered, as
// static 13 or a dynamic type, and not otherwise.
func TestComfortNoiseNegotiation(t *testing.T) {
	for _, tc := range []struct {
		name    string
		offer   []byte
		cn      int
		answers string // in the answer's m= line
	}{
		{"static 13", offerSDP("10.0.0.5", 4000, "0 101 13"), 13, "0 101 13"},
		{"static 13 mapped", offerSDP("10.0.0.5", 4000, "8 13", "a=rtpmap:13 CN/8000"), 13, "8 13"},
		{"dynamic", offerSDP("10.0.0.5", 4000, "0 101 105", "a=rtpmap:105 CN/8000"), 105, "0 101 105"},
		{"16 kHz only", offerSDP("10.0.0.5", 4000, "0 105", "a=rtpmap:105 CN/16000"), -1, "0"},
		{"none", offerSDP("10.0.0.5", 4000, "0 101"), -1, "0 101"},
	} {
		n, err := negotiate(tc.offer, Security{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if n.cnPT != tc.cn {
			t.Errorf("%s: CN payload type %d, want %d", tc.name, n.cnPT, tc.cn)
		}
		b, err := buildAnswer(sdpParams{ip: net.ParseIP("192.0.2.7"), port: 30000, id: 1, ver: 1}, n)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(parseSDP(t, b).MediaDescriptions[0].MediaName.Formats, " "); got != tc.answers {
			t.Errorf("%s: answer formats %q, want %q", tc.name, got, tc.answers)
		}
	}
}

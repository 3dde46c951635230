package dtmf

import (
	"encoding/binary"
	"os"
	"testing"
)

// sippDir holds the RFC 2833 captures Debian's sip-tester ships; the
// feature-code tests replay them with play_pcap_audio.
const sippDir = "/usr/share/sip-tester/"

// readPcap returns the RTP packets (UDP payloads) of a classic libpcap
// file with Ethernet framing.
func readPcap(tb testing.TB, name string) [][]byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if os.IsNotExist(err) {
		tb.Skipf("%s not installed (Debian sip-tester)", name)
	}
	if err != nil {
		tb.Fatal(err)
	}
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		tb.Fatalf("%s: not a little-endian pcap", name)
	}
	var out [][]byte
	for off := 24; off+16 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		frame := b[off+16 : off+16+n]
		off += 16 + n
		ip := frame[14:]
		udp := ip[int(ip[0]&0x0f)*4:]
		out = append(out, udp[8:])
	}
	return out
}

// sipp replays each capture verbatim, so pressing 1 twice repeats the same
// SSRC, sequence numbers and timestamp; each replay must still count.
func TestSippCaptures(t *testing.T) {
	var d Detector
	var got []rune
	for _, key := range []string{"1", "1", "pound", "0", "star", "9", "9"} {
		for _, p := range readPcap(t, sippDir+"dtmf_2833_"+key+".pcap") {
			if p[1]&0x7f != 101 {
				t.Fatalf("payload type %d", p[1]&0x7f)
			}
			r, ok, err := d.Feed(Packet{
				SSRC:      binary.BigEndian.Uint32(p[8:]),
				Timestamp: binary.BigEndian.Uint32(p[4:]),
				Marker:    p[1]&0x80 != 0,
				Payload:   p[12:],
			})
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				got = append(got, r)
			}
		}
	}
	if string(got) != "11#0*99" {
		t.Fatalf("digits %q, want %q", string(got), "11#0*99")
	}
}

package g711

import (
	"encoding/binary"
	"os"
	"testing"
)

func TestKnownValues(t *testing.T) {
	tests := []struct {
		name   string
		linear int16
		ulaw   byte
		alaw   byte
	}{
		{"zero", 0, 0xff, 0xd5},
		{"minus one", -1, 0x7e, 0x55},
		{"small positive", 120, 0xf0, 0xd2},
		{"max", 32767, 0x80, 0xaa},
		{"min", -32768, 0x00, 0x2a},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UlawFromLinear(tt.linear); got != tt.ulaw {
				t.Errorf("UlawFromLinear(%d) = %#02x, want %#02x", tt.linear, got, tt.ulaw)
			}
			if got := AlawFromLinear(tt.linear); got != tt.alaw {
				t.Errorf("AlawFromLinear(%d) = %#02x, want %#02x", tt.linear, got, tt.alaw)
			}
		})
	}
}

func TestDecodeKnownValues(t *testing.T) {
	tests := []struct {
		code byte
		ulaw int16
		alaw int16
	}{
		{0xff, 0, 848},
		{0x7f, 0, -848},
		{0x00, -32124, -5504},
		{0x80, 32124, 5504},
		{0xd5, 716, 8},
		{0x55, -716, -8},
		{0xaa, 5372, 32256},
		{0x2a, -5372, -32256},
		{0xf0, 120, 688},
		{0xd2, 812, 120},
	}
	for _, tt := range tests {
		if got := LinearFromUlaw(tt.code); got != tt.ulaw {
			t.Errorf("LinearFromUlaw(%#02x) = %d, want %d", tt.code, got, tt.ulaw)
		}
		if got := LinearFromAlaw(tt.code); got != tt.alaw {
			t.Errorf("LinearFromAlaw(%#02x) = %d, want %d", tt.code, got, tt.alaw)
		}
	}
}

// The decoding tables match sox's, an implementation nobody here wrote:
// testdata/sox_*_decoded.s16 is all 256 code words (0x00..0xff) decoded by
// `sox -t ul|al -r 8000 -c 1 codes.raw -t s16 out.s16`.
func TestDecodeMatchesSox(t *testing.T) {
	for _, tt := range []struct {
		file string
		dec  func(byte) int16
	}{
		{"testdata/sox_ulaw_decoded.s16", LinearFromUlaw},
		{"testdata/sox_alaw_decoded.s16", LinearFromAlaw},
	} {
		raw, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) != 512 {
			t.Fatalf("%s: %d bytes, want 512", tt.file, len(raw))
		}
		for c := range 256 {
			want := int16(binary.LittleEndian.Uint16(raw[2*c:]))
			if got := tt.dec(byte(c)); got != want {
				t.Errorf("%s: code %#02x = %d, sox says %d", tt.file, c, got, want)
			}
		}
	}
}

// Every code word except μ-law's negative zero survives decode+encode.
func TestCodeRoundTrip(t *testing.T) {
	for c := range 256 {
		code := byte(c)
		if got := UlawFromLinear(LinearFromUlaw(code)); got != code && code != 0x7f {
			t.Errorf("ulaw %#02x -> %d -> %#02x", code, LinearFromUlaw(code), got)
		}
		if got := AlawFromLinear(LinearFromAlaw(code)); got != code {
			t.Errorf("alaw %#02x -> %d -> %#02x", code, LinearFromAlaw(code), got)
		}
	}
}

// Every 16-bit sample comes back within the quantisation error of its
// segment, and the companded curve is monotonic.
func TestSampleRoundTrip(t *testing.T) {
	laws := []struct {
		name string
		enc  func(int16) byte
		dec  func(byte) int16
	}{
		{"ulaw", UlawFromLinear, LinearFromUlaw},
		{"alaw", AlawFromLinear, LinearFromAlaw},
	}
	for _, law := range laws {
		prev := int16(-32768)
		for x := -32768; x <= 32767; x++ {
			got := law.dec(law.enc(int16(x)))
			if got < prev {
				t.Fatalf("%s: not monotonic at %d: %d < %d", law.name, x, got, prev)
			}
			prev = got
			diff := abs(int(got) - x)
			limit := abs(x)/16 + 16
			if abs(x) > 32000 {
				limit = 1024 // clipping at the top of the range
			}
			if diff > limit {
				t.Fatalf("%s: %d -> %d (error %d > %d)", law.name, x, got, diff, limit)
			}
		}
	}
}

func TestSliceHelpers(t *testing.T) {
	pcm := []int16{0, 1000, -1000, 32767, -32768}
	u := EncodeUlaw(nil, pcm)
	a := EncodeAlaw(nil, pcm)
	if len(u) != len(pcm) || len(a) != len(pcm) {
		t.Fatalf("lengths %d %d", len(u), len(a))
	}
	du := DecodeUlaw(nil, u)
	da := DecodeAlaw(nil, a)
	for i := range pcm {
		if du[i] != LinearFromUlaw(UlawFromLinear(pcm[i])) || da[i] != LinearFromAlaw(AlawFromLinear(pcm[i])) {
			t.Errorf("sample %d: %d %d", i, du[i], da[i])
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func BenchmarkEncodeUlaw(b *testing.B) {
	pcm := make([]int16, 160)
	for i := range pcm {
		pcm[i] = int16(i * 200)
	}
	buf := make([]byte, 0, 160)
	for b.Loop() {
		buf = EncodeUlaw(buf[:0], pcm)
	}
}

package g711

import "testing"

// TestDecodeMatchesPerSample: the frame decoders give what the one-sample
// ones give, for every code word, appended after what dst held.
func TestDecodeMatchesPerSample(t *testing.T) {
	src := make([]byte, 256)
	for i := range src {
		src[i] = byte(i)
	}
	for _, c := range []struct {
		name   string
		frame  func([]int16, []byte) []int16
		sample func(byte) int16
	}{{"ulaw", DecodeUlaw, LinearFromUlaw}, {"alaw", DecodeAlaw, LinearFromAlaw}} {
		got := c.frame([]int16{7}, src)
		if len(got) != 257 || got[0] != 7 {
			t.Fatalf("%s: %d samples, first %d; want 257 after the 7 already there", c.name, len(got), got[0])
		}
		for i, b := range src {
			if got[i+1] != c.sample(b) {
				t.Fatalf("%s: code %#x decoded %d, want %d", c.name, b, got[i+1], c.sample(b))
			}
		}
	}
}

func BenchmarkDecodeAlaw(b *testing.B) {
	src := make([]byte, 160)
	for i := range src {
		src[i] = byte(i)
	}
	buf := make([]int16, 0, 160)
	for b.Loop() {
		buf = DecodeAlaw(buf[:0], src)
	}
}

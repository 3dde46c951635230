package wav

import (
	"bytes"
	"errors"
	"testing"

	"github.com/hotdesk-pbx/hotdesk/internal/media/g711"
)

// A G.711 recording round-trips byte for byte, odd lengths included, and
// Decode (the prompt reader) plays it as the same linear samples.
func TestG711RoundTrip(t *testing.T) {
	for _, codec := range []string{"PCMU", "PCMA"} {
		for _, n := range []int{0, 1, 8001} {
			data := make([]byte, n)
			for i := range data {
				data[i] = byte(i * 13)
			}
			b, err := EncodeG711(codec, data)
			if err != nil {
				t.Fatal(err)
			}
			if len(b)%2 != 0 {
				t.Fatalf("%s/%d: odd file length %d", codec, n, len(b))
			}
			c, got, err := G711Data(b)
			if err != nil || c != codec || !bytes.Equal(got, data) {
				t.Fatalf("%s/%d: back %s %d bytes %v", codec, n, c, len(got), err)
			}
			pcm, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			want := g711.DecodeUlaw(nil, data)
			if codec == "PCMA" {
				want = g711.DecodeAlaw(nil, data)
			}
			if len(pcm) != n || (n > 0 && pcm[n-1] != want[n-1]) {
				t.Fatalf("%s/%d: decoded %d samples", codec, n, len(pcm))
			}
		}
	}
	if _, err := EncodeG711("G722", nil); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("G722: %v", err)
	}
	if _, _, err := G711Data(Encode([]int16{1, 2})); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("PCM file: %v", err)
	}
}

package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"
	"testing/iotest"
)

// build assembles a WAV file from a fmt description and raw chunks.
func build(tag, channels uint16, rate uint32, bits uint16, chunks ...[]byte) []byte {
	var f bytes.Buffer
	for _, v := range []any{tag, channels, rate, rate * uint32(channels) * uint32(bits) / 8, channels * bits / 8, bits} {
		_ = binary.Write(&f, binary.LittleEndian, v)
	}
	body := append([]byte("WAVE"), mkchunk("fmt ", f.Bytes())...)
	for _, c := range chunks {
		body = append(body, c...)
	}
	return append(append([]byte("RIFF"), le32(uint32(len(body)))...), body...)
}

func mkchunk(id string, body []byte) []byte {
	out := append([]byte(id), le32(uint32(len(body)))...)
	out = append(out, body...)
	if len(body)%2 == 1 {
		out = append(out, 0)
	}
	return out
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func extensible(sub uint16) []byte {
	var f bytes.Buffer
	for _, v := range []any{uint16(formatExtensible), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16),
		uint16(22), uint16(16), uint32(4), sub} {
		_ = binary.Write(&f, binary.LittleEndian, v)
	}
	f.Write(make([]byte, 14)) // rest of the GUID
	body := append([]byte("WAVE"), mkchunk("fmt ", f.Bytes())...)
	body = append(body, mkchunk("data", []byte{1, 0, 0xff, 0xff})...)
	return append(append([]byte("RIFF"), le32(uint32(len(body)))...), body...)
}

func TestDecode(t *testing.T) {
	pcm := []byte{0x01, 0x00, 0xff, 0xff, 0x00, 0x80} // 1, -1, -32768
	tests := []struct {
		name    string
		in      []byte
		want    []int16
		wantErr error
	}{
		{"pcm16", build(1, 1, 8000, 16, mkchunk("data", pcm)), []int16{1, -1, -32768}, nil},
		{"ulaw", build(7, 1, 8000, 8, mkchunk("data", []byte{0xff, 0x80, 0x00})), []int16{0, 32124, -32124}, nil},
		{"alaw", build(6, 1, 8000, 8, mkchunk("data", []byte{0xd5, 0xaa})), []int16{8, 32256}, nil},
		{"odd LIST chunk before data", build(1, 1, 8000, 16, mkchunk("LIST", []byte("abc")), mkchunk("data", pcm)), []int16{1, -1, -32768}, nil},
		{"chunk after data ignored", build(1, 1, 8000, 16, mkchunk("data", pcm[:2]), mkchunk("junk", []byte{1})), []int16{1}, nil},
		{"streaming data size", build(1, 1, 8000, 16, []byte("data\xff\xff\xff\xff\x02\x00")), []int16{2}, nil},
		{"torn last sample", build(1, 1, 8000, 16, mkchunk("data", pcm[:3])), []int16{1}, nil},
		{"empty data", build(1, 1, 8000, 16, mkchunk("data", nil)), []int16{}, nil},
		{"extensible pcm", extensible(1), []int16{1, -1}, nil},
		{"stereo", build(1, 2, 8000, 16, mkchunk("data", pcm)), nil, ErrUnsupported},
		{"16 kHz", build(1, 1, 16000, 16, mkchunk("data", pcm)), nil, ErrUnsupported},
		{"8-bit pcm", build(1, 1, 8000, 8, mkchunk("data", pcm)), nil, ErrUnsupported},
		{"float", build(3, 1, 8000, 32, mkchunk("data", pcm)), nil, ErrUnsupported},
		{"extensible float", extensible(3), nil, ErrUnsupported},
		{"not riff", []byte("RIFX\x00\x00\x00\x00WAVE"), nil, ErrMalformed},
		{"not wave", []byte("RIFF\x00\x00\x00\x00AVI "), nil, ErrMalformed},
		{"empty", nil, nil, ErrMalformed},
		{"no chunks", []byte("RIFF\x04\x00\x00\x00WAVE"), nil, ErrMalformed},
		{"no data", build(1, 1, 8000, 16), nil, ErrMalformed},
		{"data before fmt", append([]byte("RIFF\x00\x00\x00\x00WAVE"), mkchunk("data", pcm)...), nil, ErrMalformed},
		{"short fmt", append([]byte("RIFF\x00\x00\x00\x00WAVE"), mkchunk("fmt ", []byte{1, 0, 1, 0})...), nil, ErrMalformed},
		{"fmt size beyond file", []byte("RIFF\x00\x00\x00\x00WAVEfmt \xff\x00\x00\x00\x01\x00"), nil, ErrMalformed},
		{"truncated chunk header", []byte("RIFF\x00\x00\x00\x00WAVEfmt"), nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && !equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func equal(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Files written by sox (fmt chunk of 18 bytes, fact chunk) decode, and the
// G.711 versions stay close to the 16-bit original.
func TestSoxFiles(t *testing.T) {
	ref := mustRead(t, "testdata/sine_pcm16.wav")
	if len(ref) != 400 {
		t.Fatalf("pcm16: %d samples, want 400 (50 ms)", len(ref))
	}
	for _, name := range []string{"testdata/sine_ulaw.wav", "testdata/sine_alaw.wav"} {
		got := mustRead(t, name)
		if len(got) != len(ref) {
			t.Fatalf("%s: %d samples, want %d", name, len(got), len(ref))
		}
		for i := range got {
			if d := int(got[i]) - int(ref[i]); d > 600 || d < -600 {
				t.Fatalf("%s: sample %d = %d, original %d", name, i, got[i], ref[i])
			}
		}
	}
	for _, name := range []string{"testdata/sine_16k.wav", "testdata/sine_stereo.wav"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(b); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: err = %v, want ErrUnsupported", name, err)
		}
	}
}

func mustRead(tb testing.TB, name string) []int16 {
	tb.Helper()
	f, err := os.Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	pcm, err := Read(f)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return pcm
}

func TestWriteRoundTrip(t *testing.T) {
	pcm := []int16{0, 1, -1, 32767, -32768, 1234}
	var buf bytes.Buffer
	if err := Write(&buf, pcm); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 44+2*len(pcm) {
		t.Fatalf("file is %d bytes", buf.Len())
	}
	got, err := Read(&buf)
	if err != nil || !equal(got, pcm) {
		t.Fatalf("round trip: %v, %v", got, err)
	}
	// Header fields a strict reader checks.
	b := Encode(pcm)
	if binary.LittleEndian.Uint32(b[4:]) != uint32(len(b)-8) || binary.LittleEndian.Uint32(b[28:]) != 16000 {
		t.Fatalf("bad header % x", b[:44])
	}
}

func TestReadErrors(t *testing.T) {
	if _, err := Read(iotest.ErrReader(errors.New("disk"))); err == nil {
		t.Fatal("read error not returned")
	}
	if err := Write(errWriter{}, []int16{1}); err == nil {
		t.Fatal("write error not returned")
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("full") }

func FuzzDecode(f *testing.F) {
	f.Add(build(1, 1, 8000, 16, mkchunk("data", []byte{1, 2, 3, 4})))
	f.Add(extensible(7))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Decode(b) // must not panic
	})
}

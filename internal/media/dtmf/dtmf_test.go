package dtmf

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    Event
		wantErr error
	}{
		{"digit 1 start", []byte{1, 10, 0, 160}, Event{Code: 1, Volume: 10, Duration: 160}, nil},
		{"hash end", []byte{11, 0x80 | 7, 0x03, 0x20}, Event{Code: 11, End: true, Volume: 7, Duration: 800}, nil},
		{"reserved bit ignored", []byte{5, 0x40 | 63, 0xff, 0xff}, Event{Code: 5, Volume: 63, Duration: 65535}, nil},
		{"star", []byte{10, 0, 0, 0}, Event{Code: 10}, nil},
		{"extra bytes ignored", []byte{2, 0x8a, 0x01, 0x40, 9, 9, 9, 9}, Event{Code: 2, End: true, Volume: 10, Duration: 320}, nil},
		{"short", []byte{1, 2, 3}, Event{}, ErrShortPayload},
		{"empty", nil, Event{}, ErrShortPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	for code := range uint8(17) {
		for _, end := range []bool{false, true} {
			ev := Event{Code: code, End: end, Volume: code * 3, Duration: uint16(code) * 160}
			b := ev.Marshal(nil)
			if len(b) != PayloadSize {
				t.Fatalf("len %d", len(b))
			}
			got, err := Parse(b)
			if err != nil || got != ev {
				t.Fatalf("%v -> % x -> %v, %v", ev, b, got, err)
			}
		}
	}
	if b := (Event{Code: 1, End: true, Volume: 10, Duration: 0x0320}).Marshal(nil); string(b) != "\x01\x8a\x03\x20" {
		t.Fatalf("wire form % x", b)
	}
}

func TestDigitCode(t *testing.T) {
	tests := []struct {
		r    rune
		code uint8
		ok   bool
	}{
		{'0', 0, true}, {'9', 9, true}, {'*', 10, true}, {'#', 11, true},
		{'A', 12, true}, {'d', 15, true}, {'x', 0, false}, {' ', 0, false},
	}
	for _, tt := range tests {
		code, ok := Code(tt.r)
		if code != tt.code || ok != tt.ok {
			t.Errorf("Code(%q) = %d,%t want %d,%t", tt.r, code, ok, tt.code, tt.ok)
		}
	}
	if _, ok := Digit(16); ok {
		t.Error("flash is not a digit")
	}
	if r, ok := Digit(11); r != '#' || !ok {
		t.Errorf("Digit(11) = %q", r)
	}
}

// pkt is one telephone-event packet as the detector sees it.
type pkt struct {
	ssrc, ts uint32
	code     uint8
	end      bool
	dur      uint16
	marker   bool
}

// press is the packet train a typical phone sends for one key: start,
// two updates, three redundant end packets, all with one timestamp.
func press(ts uint32, code uint8) []pkt {
	return []pkt{
		{1, ts, code, false, 160, true}, {1, ts, code, false, 320, false}, {1, ts, code, false, 480, false},
		{1, ts, code, true, 640, false}, {1, ts, code, true, 640, false}, {1, ts, code, true, 640, false},
	}
}

func concat(parts ...[]pkt) []pkt {
	var out []pkt
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestDetector(t *testing.T) {
	tests := []struct {
		name string
		in   []pkt
		want string
	}{
		{"one press", press(1000, 1), "1"},
		{"three presses", concat(press(1000, 2), press(2000, 0), press(3000, 11)), "20#"},
		{"same key twice", concat(press(1000, 5), press(1800, 5)), "55"},
		{"lost start", press(1000, 7)[2:], "7"},
		{"only end packets", press(1000, 3)[3:], "3"},
		{"reordered: end before update", []pkt{{1, 1000, 4, true, 640, false}, {1, 1000, 4, false, 320, false}, {1, 1000, 4, true, 640, false}}, "4"},
		{"reordered: end before start", []pkt{{1, 1000, 4, false, 160, true}, {1, 1000, 4, true, 640, false}, {1, 1000, 4, false, 320, false}}, "4"},
		{"late packet of previous press", concat(press(1000, 1), press(2000, 2)[:2], []pkt{{1, 1000, 1, true, 640, false}, {1, 1000, 1, false, 480, false}}, press(2000, 2)[2:]), "12"},
		{"interleaved presses", []pkt{{1, 1000, 1, false, 160, true}, {1, 2000, 2, false, 160, true}, {1, 1000, 1, true, 320, false}, {1, 2000, 2, true, 320, false}}, "12"},
		{"new ssrc same timestamp", concat(press(1000, 8), []pkt{{2, 1000, 9, false, 160, true}}), "89"},
		{"verbatim replay of a press", concat(press(1000, 1), press(1000, 1), press(1000, 1)), "111"},
		{"replay without end is one press", concat(press(1000, 1)[:3], press(1000, 1)[:3]), "1"},
		{"timestamp wrap", concat(press(0xffffff00, 1), press(0x00000060, 2)), "12"},
		{"flash ignored", concat(press(1000, 16), press(2000, 6)), "6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Detector
			var got []rune
			for _, p := range tt.in {
				payload := Event{Code: p.code, End: p.end, Volume: 10, Duration: p.dur}.Marshal(nil)
				r, ok, err := d.Feed(Packet{SSRC: p.ssrc, Timestamp: p.ts, Marker: p.marker, Payload: payload})
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					got = append(got, r)
				}
			}
			if string(got) != tt.want {
				t.Fatalf("digits %q, want %q", string(got), tt.want)
			}
		})
	}
}

func TestDetectorErrorsAndMemory(t *testing.T) {
	var d Detector
	if _, _, err := d.Feed(Packet{SSRC: 1, Timestamp: 1, Payload: []byte{1}}); !errors.Is(err, ErrShortPayload) {
		t.Fatalf("err = %v", err)
	}
	// After more than `recent` newer events the oldest is forgotten; a
	// packet for it then counts again. Documented limit, checked here so a
	// change of it is deliberate.
	payload := Event{Code: 1, End: true}.Marshal(nil)
	for i := range uint32(recent + 1) {
		if _, ok, _ := d.Feed(Packet{SSRC: 1, Timestamp: i * 800, Payload: payload}); !ok {
			t.Fatalf("event %d not reported", i)
		}
	}
	if _, ok, _ := d.Feed(Packet{SSRC: 1, Payload: payload}); !ok {
		t.Fatal("event older than the memory should be reported again")
	}
	if _, ok, _ := d.Feed(Packet{SSRC: 1, Timestamp: recent * 800, Payload: payload}); ok {
		t.Fatal("recent event reported twice")
	}
	d.Reset()
	if _, ok, _ := d.Feed(Packet{SSRC: 1, Timestamp: recent * 800, Payload: payload}); !ok {
		t.Fatal("Reset did not forget")
	}
}

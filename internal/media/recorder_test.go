package media

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/hotdesk-pbx/hotdesk/internal/media/g711"
	"github.com/hotdesk-pbx/hotdesk/internal/media/mediatest"
)

func frame(ssrc uint32, ts uint32, payload []byte) *rtp.Packet {
	return &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: ssrc, Timestamp: ts}, Payload: payload}
}

func loud() []byte  { return g711.EncodeUlaw(nil, mediatest.Tone(400, 20*time.Millisecond)) }
func quiet() []byte { return silence("PCMU", 160) }

// The recorder places packets by RTP timestamp: holes become silence, late
// and repeated packets are dropped, a jump beyond maxGap re-starts the
// clock, and voice is tracked to the last loud frame.
func TestRecorderTimeline(t *testing.T) {
	tests := []struct {
		name        string
		ts          []uint32 // offsets from base of each packet
		base        uint32
		loud        []bool
		wantSamples int
		wantVoiced  int
	}{
		{"in order", []uint32{0, 160, 320}, 1000, []bool{true, true, false}, 480, 320},
		{"gap filled", []uint32{0, 800}, 1000, []bool{true, true}, 960, 960},
		{"late dropped", []uint32{0, 320, 160}, 1000, []bool{true, false, true}, 480, 160},
		{"repeat dropped", []uint32{0, 0, 160}, 1000, []bool{true, true, false}, 320, 160},
		{"jump restarts", []uint32{0, 160 + 3*8000}, 1000, []bool{false, true}, 320, 320},
		{"timestamp wraps", []uint32{0, 160, 320}, 1<<32 - 200, []bool{true, true, true}, 480, 480},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			r := NewRecorder(&buf, "PCMU", 0)
			for i, off := range tt.ts {
				p := quiet()
				if tt.loud[i] {
					p = loud()
				}
				r.packet(frame(7, tt.base+off, p))
			}
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			if r.Samples() != tt.wantSamples || buf.Len() != tt.wantSamples || r.Voiced() != tt.wantVoiced {
				t.Fatalf("samples %d (buf %d), voiced %d; want %d, %d", r.Samples(), buf.Len(), r.Voiced(), tt.wantSamples, tt.wantVoiced)
			}
		})
	}
}

// Recording stops at the maximum length: Full is closed, Err says so,
// and nothing beyond it is written.
func TestRecorderMax(t *testing.T) {
	var buf bytes.Buffer
	r := NewRecorder(&buf, "PCMA", 400)
	for i := range 5 {
		r.packet(frame(1, uint32(i*160), silence("PCMA", 160)))
	}
	select {
	case <-r.Full():
	default:
		t.Fatal("Full not closed")
	}
	_ = r.Flush()
	if !errors.Is(r.Err(), ErrRecordingFull) || buf.Len() != 400 {
		t.Fatalf("err %v, %d bytes", r.Err(), buf.Len())
	}
}

// Silence is counted by the clock, so a caller who sends nothing is silent.
func TestRecorderSilentFor(t *testing.T) {
	now := time.Unix(100, 0)
	var buf bytes.Buffer
	r := NewRecorder(&buf, "PCMU", 0)
	r.now = func() time.Time { return now }
	r.lastVoice = now
	now = now.Add(3 * time.Second)
	if d := r.SilentFor(); d != 3*time.Second {
		t.Fatalf("silent for %v", d)
	}
	r.packet(frame(1, 0, quiet()))
	if d := r.SilentFor(); d != 3*time.Second {
		t.Fatalf("quiet frame reset the clock: %v", d)
	}
	r.packet(frame(1, 160, loud()))
	if d := r.SilentFor(); d != 0 {
		t.Fatalf("voice did not reset the clock: %v", d)
	}
}

func TestVoicedLength(t *testing.T) {
	raw := append(append(append([]byte{}, quiet()...), loud()...), bytes.Repeat(quiet(), 10)...)
	if n := VoicedLength("PCMU", raw); n != 320 {
		t.Fatalf("voiced %d, want 320", n)
	}
	if n := VoicedLength("PCMA", silence("PCMA", 8000)); n != 0 {
		t.Fatalf("silence voiced %d", n)
	}
}

// A session with a recorder attached records what a phone sends, in the
// negotiated codec, and keys pressed meanwhile still arrive as digits.
func TestSessionRecords(t *testing.T) {
	pool := NewPortPool(0, 0)
	s, err := NewSession(pool, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ph := mediatest.NewPhone(t)
	ans, err := s.Answer(ph.Offer("8"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ph.SetAnswer(ans); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	r := NewRecorder(&buf, s.Codec(), 0)
	s.Record(r)
	if err := ph.SendAudio(8, mediatest.Tone(440, 500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := ph.SendDigits("#"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if d, err := s.CollectDigits(ctx, 1, time.Second, time.Second); err != nil && d != "" {
		t.Fatalf("digits %q %v", d, err)
	}
	s.Record(nil)
	_ = r.Flush()
	if r.Samples() != 4000 || r.Voiced() != 4000 {
		t.Fatalf("recorded %d samples, voiced %d; want 4000", r.Samples(), r.Voiced())
	}
	got := g711.DecodeAlaw(nil, buf.Bytes())
	if RMS(got) < 4000 {
		t.Fatalf("recording RMS %.0f, not the tone", RMS(got))
	}
}

// After Stop a packet is not recorded.
func TestRecorderStop(t *testing.T) {
	var buf bytes.Buffer
	r := NewRecorder(&buf, "PCMU", 0)
	r.packet(frame(1, 0, loud()))
	r.Stop()
	r.packet(frame(1, 160, loud()))
	_ = r.Flush()
	if buf.Len() != 160 || r.Samples() != 160 {
		t.Fatalf("%d bytes after Stop", buf.Len())
	}
}

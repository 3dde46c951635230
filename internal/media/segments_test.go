package media

import (
	"context"
	"slices"
	"testing"

	"github.com/pion/rtp"

	"github.com/hotdesk-pbx/hotdesk/internal/media/g711"
)

// joined is what PlaySegments stands for: the segments concatenated with
// gap zeros between two of them.
func joined(gap int, segs ...[]int16) []int16 {
	var out []int16
	for i, s := range segs {
		if i > 0 {
			out = append(out, make([]int16, gap)...)
		}
		out = append(out, s...)
	}
	return out
}

// framesOf cuts pcm into 20 ms frames, the tail padded with silence; no
// audio is one frame of silence (what Play of nothing sends).
func framesOf(pcm []int16) [][]int16 {
	var out [][]int16
	for len(pcm) > 0 || len(out) == 0 {
		f := make([]int16, frameSamples)
		pcm = pcm[copy(f, pcm):]
		out = append(out, f)
	}
	return out
}

// TestPlayJobFill: the frames of a segmented job are the frames of the
// segments joined, across segment and gap boundaries, empty segments and
// gaps included.
func TestPlayJobFill(t *testing.T) {
	for _, tc := range []struct {
		name string
		gap  int
		lens []int
	}{
		{"one buffer", 0, []int{800}},
		{"one partial frame", 0, []int{50}},
		{"nothing", 1200, nil},
		{"empty buffer", 0, []int{0}},
		{"prompt and digits", 1200, []int{9000, 2500, 2300, 2700}},
		{"odd gap across frames", 7, []int{159, 1, 161, 320}},
		{"empty segments keep their gaps", 100, []int{0, 0, 30, 0}},
		{"no gap", 0, []int{100, 100, 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var segs [][]int16
			for i, n := range tc.lens {
				s := tone(n)
				for j := range s {
					s[j] += int16(i + 1) // segments distinguishable
				}
				segs = append(segs, s)
			}
			want := framesOf(joined(tc.gap, segs...))
			job := &playJob{segs: segs, gap: tc.gap}
			var got [][]int16
			for i := 0; i == 0 || !job.finished(); i++ {
				if i > len(want) {
					t.Fatalf("more than %d frames", len(want))
				}
				f := make([]int16, frameSamples)
				job.fill(f)
				got = append(got, f)
			}
			if len(got) != len(want) {
				t.Fatalf("%d frames, want %d", len(got), len(want))
			}
			for i := range want {
				if !slices.Equal(got[i], want[i]) {
					t.Fatalf("frame %d differs", i)
				}
			}
		})
	}
}

// TestPlayJobFillAllocates: filling frames reads the segments in place.
func TestPlayJobFillAllocates(t *testing.T) {
	segs := [][]int16{tone(9000), tone(2500), tone(2300)}
	frame := make([]int16, frameSamples)
	allocs := testing.AllocsPerRun(20, func() {
		job := playJob{segs: segs, gap: 1200}
		for !job.finished() {
			job.fill(frame)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per play", allocs)
	}
}

// TestPlaySegmentsOnTheWire: the RTP a phone receives for PlaySegments is
// the G.711 of the joined audio, frame by frame, in one stream that starts
// with it.
func TestPlaySegmentsOnTheWire(t *testing.T) {
	p := newPhone(t)
	s := mustSession(t, p, "0 101")
	segs := [][]int16{tone(1000), tone(333), tone(480)}
	want := framesOf(joined(250, segs...))
	if err := s.PlaySegments(context.Background(), 250, segs...); err != nil {
		t.Fatal(err)
	}
	rs := p.readUntil(func(rs []received) bool { return len(rs) == len(want) })
	for i, r := range rs {
		if r.pkt.PayloadType != 0 {
			t.Fatalf("packet %d: payload type %d", i, r.pkt.PayloadType)
		}
		if w := g711.EncodeUlaw(nil, want[i]); !slices.Equal(r.pkt.Payload, w) {
			t.Fatalf("packet %d: payload is not frame %d of the joined audio", i, i)
		}
	}
	checkStream(t, rs, func(i int, _ *rtp.Packet) bool { return i == 0 }, maxStall)
}

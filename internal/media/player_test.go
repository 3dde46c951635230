package media

import (
	"context"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/hotdesk-pbx/hotdesk/internal/media/g711"
)

// isSilence reports whether pkt is the stream's silence: comfort noise,
// or a G.711 frame of zero samples.
func isSilence(pkt *rtp.Packet) bool {
	switch pkt.PayloadType {
	case cnPayloadType:
		return true
	case 0, 8:
		zero := g711.UlawFromLinear(0)
		if pkt.PayloadType == 8 {
			zero = g711.AlawFromLinear(0)
		}
		for _, b := range pkt.Payload {
			if b != zero {
				return false
			}
		}
		return len(pkt.Payload) == frameSamples
	}
	return false
}

// maxStall bounds the arrival gap between two packets. The sender keeps
// 20 ms; the bound leaves room for a loaded test machine (a 2-core box
// with one core kept busy showed 425 ms stalls of sender and reader
// alike), while the fault it catches is seconds of nothing; the packet
// counts and the unbroken sequence and timestamps show the pace.
const maxStall = time.Second

// received is one packet and when it came.
type received struct {
	pkt *rtp.Packet
	at  time.Time
}

// readFor reads packets for d.
func (p *phone) readFor(d time.Duration) []received {
	var out []received
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return out
		}
		pkt, at, err := p.read(left)
		if err != nil {
			return out
		}
		out = append(out, received{pkt, at})
	}
}

// readUntil reads packets until done says so or no packet came for 5 s.
func (p *phone) readUntil(done func(rs []received) bool) []received {
	var out []received
	for !done(out) {
		pkt, at, err := p.read(5 * time.Second)
		if err != nil {
			p.tb.Fatalf("after %d packets: %v", len(out), err)
		}
		out = append(out, received{pkt, at})
	}
	return out
}

// audioThenSilence is a readUntil condition: n packets of silence after
// prompt audio.
func audioThenSilence(n int) func([]received) bool {
	return func(rs []received) bool {
		silent, audio := 0, false
		for _, r := range rs {
			switch {
			case !isSilence(r.pkt):
				audio, silent = true, 0
			case audio:
				silent++
			}
		}
		return silent >= n
	}
}

// checkStream asserts one unbroken stream: sequence +1 and timestamp +160
// per packet, one SSRC, a marker only where want says, no arrival gap
// over maxGap.
func checkStream(t *testing.T, rs []received, marker func(i int, pkt *rtp.Packet) bool, maxGap time.Duration) {
	t.Helper()
	for i, r := range rs {
		h := r.pkt.Header
		if h.Marker != marker(i, r.pkt) {
			t.Errorf("packet %d (pt %d): marker %t", i, h.PayloadType, h.Marker)
		}
		if i == 0 {
			continue
		}
		p := rs[i-1].pkt.Header
		if h.SequenceNumber != p.SequenceNumber+1 || h.Timestamp != p.Timestamp+frameSamples || h.SSRC != p.SSRC {
			t.Fatalf("packet %d: seq %d ts %d ssrc %x after seq %d ts %d ssrc %x", i, h.SequenceNumber, h.Timestamp, h.SSRC,
				p.SequenceNumber, p.Timestamp, p.SSRC)
		}
		if gap := r.at.Sub(rs[i-1].at); gap > maxGap {
			t.Errorf("packet %d came %v after the one before", i, gap)
		}
	}
}

// TestSilenceBetweenPrompts: once started, a session without comfort
// noise sends G.711 silence every 20 ms, a prompt goes out in the same
// stream, and silence follows it.
func TestSilenceBetweenPrompts(t *testing.T) {
	for _, tc := range []struct {
		formats string
		pt      uint8
	}{{"0 101", 0}, {"8 101", 8}} {
		p := newPhone(t)
		s := mustSession(t, p, tc.formats)
		if rs := p.readFor(100 * time.Millisecond); len(rs) != 0 {
			t.Fatalf("%d packets before the call was started", len(rs))
		}
		s.Start()
		rs := p.readUntil(func(rs []received) bool { return len(rs) == 15 })
		played := make(chan error, 1)
		go func() { played <- s.Play(context.Background(), tone(800)) }() // 5 frames
		rs = append(rs, p.readUntil(audioThenSilence(10))...)
		if err := <-played; err != nil {
			t.Fatal(err)
		}
		first, audio := -1, 0
		for i, r := range rs {
			if r.pkt.PayloadType != tc.pt {
				t.Fatalf("packet %d: payload type %d, want %d", i, r.pkt.PayloadType, tc.pt)
			}
			if !isSilence(r.pkt) {
				audio++
				if first < 0 {
					first = i
				}
			}
		}
		if audio != 5 || first < 15 || first+5 >= len(rs) || !isSilence(rs[first+5].pkt) {
			t.Errorf("PT %d: %d prompt packets from packet %d of %d, want 5 between silence", tc.pt, audio, first, len(rs))
		}
		checkStream(t, rs, func(i int, _ *rtp.Packet) bool { return i == 0 }, maxStall)
	}
}

// TestComfortNoiseWhenOffered: with CN negotiated the silence is comfort
// noise (one level byte), and a prompt after it starts with the marker.
func TestComfortNoiseWhenOffered(t *testing.T) {
	p := newPhone(t)
	s := mustSession(t, p, "0 101 13")
	s.Start()
	rs := p.readUntil(func(rs []received) bool { return len(rs) == 10 })
	played := make(chan error, 1)
	go func() { played <- s.Play(context.Background(), tone(480)) }()
	rs = append(rs, p.readUntil(audioThenSilence(5))...)
	if err := <-played; err != nil {
		t.Fatal(err)
	}
	var kinds []uint8
	for _, r := range rs {
		if n := len(kinds); n == 0 || kinds[n-1] != r.pkt.PayloadType {
			kinds = append(kinds, r.pkt.PayloadType)
		}
		if r.pkt.PayloadType == cnPayloadType && (len(r.pkt.Payload) != 1 || r.pkt.Payload[0] != cnLevel) {
			t.Fatalf("CN payload %v", r.pkt.Payload)
		}
	}
	if len(kinds) != 3 || kinds[0] != 13 || kinds[1] != 0 || kinds[2] != 13 {
		t.Fatalf("payload types in order %v, want CN, PCMU, CN", kinds)
	}
	checkStream(t, rs, func(i int, pkt *rtp.Packet) bool {
		return i == 0 || pkt.PayloadType == 0 && rs[i-1].pkt.PayloadType == cnPayloadType
	}, maxStall)
}

// TestNoSilenceOnHold: a peer that put us on hold (we answer recvonly)
// gets no silence, only what is played.
func TestNoSilenceOnHold(t *testing.T) {
	p := newPhone(t)
	s := mustSession(t, nil, "")
	if _, err := s.Answer(offerSDP("127.0.0.1", p.port(), "0 101", "a=sendonly")); err != nil {
		t.Fatal(err)
	}
	s.Start()
	if rs := p.readFor(150 * time.Millisecond); len(rs) != 0 {
		t.Fatalf("%d packets sent to a peer that only sends", len(rs))
	}
}

// TestStreamBeforeAnswer: a session started before it has an answer (our
// offer in the 200, the answer in the ACK) sends once it has one.
func TestStreamBeforeAnswer(t *testing.T) {
	p := newPhone(t)
	s := mustSession(t, nil, "")
	if _, err := s.Offer(); err != nil {
		t.Fatal(err)
	}
	s.Start()
	time.Sleep(60 * time.Millisecond)
	if err := s.SetAnswer(p.offer("0 101")); err != nil {
		t.Fatal(err)
	}
	rs := p.readUntil(func(rs []received) bool { return len(rs) == 5 })
	if !isSilence(rs[0].pkt) || !rs[0].pkt.Marker {
		t.Fatalf("first packet after the answer: pt %d marker %t", rs[0].pkt.PayloadType, rs[0].pkt.Marker)
	}
}

// TestSilenceStopsOnClose: nothing is sent after Close.
func TestSilenceStopsOnClose(t *testing.T) {
	p := newPhone(t)
	s := mustSession(t, p, "0 101")
	s.Start()
	p.readUntil(func(rs []received) bool { return len(rs) == 3 })
	s.Close()
	p.readFor(30 * time.Millisecond) // in flight
	if rs := p.readFor(100 * time.Millisecond); len(rs) != 0 {
		t.Fatalf("%d packets after Close", len(rs))
	}
}

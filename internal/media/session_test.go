package media

import (
	"context"
	"errors"
	"math"
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/hotdesk-pbx/hotdesk/internal/media/dtmf"
	"github.com/hotdesk-pbx/hotdesk/internal/media/g711"
)

// phone is the far end of a test call: a UDP socket on loopback.
type phone struct {
	tb   testing.TB
	conn *net.UDPConn
}

func newPhone(tb testing.TB) *phone {
	tb.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return &phone{tb, c}
}

func (p *phone) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

func (p *phone) offer(formats string) []byte { return offerSDP("127.0.0.1", p.port(), formats) }

// read returns the next RTP packet and when it arrived.
func (p *phone) read(timeout time.Duration) (*rtp.Packet, time.Time, error) {
	buf := make([]byte, 1500)
	_ = p.conn.SetReadDeadline(time.Now().Add(timeout))
	n, err := p.conn.Read(buf)
	if err != nil {
		return nil, time.Time{}, err
	}
	at := time.Now()
	var pkt rtp.Packet
	if err := pkt.Unmarshal(buf[:n]); err != nil {
		return nil, at, err
	}
	return &pkt, at, nil
}

// press sends one key as a phone does: three updates, three end packets.
func (p *phone) press(to int, ts uint32, seq *uint16, key rune) {
	code, _ := dtmf.Code(key)
	for i, end := range []bool{false, false, false, true, true, true} {
		ev := dtmf.Event{Code: code, End: end, Volume: 10, Duration: uint16(160 * min(i+1, 4))}
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: *seq, Timestamp: ts, SSRC: 777, Marker: i == 0}, Payload: ev.Marshal(nil)}
		*seq++
		b, _ := pkt.Marshal()
		if _, err := p.conn.WriteToUDP(b, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: to}); err != nil {
			p.tb.Fatal(err)
		}
	}
}

func (p *phone) typeKeys(to int, keys string) {
	var seq uint16 = 100
	for i, k := range keys {
		p.press(to, uint32(1000+800*i), &seq, k)
	}
}

// mustSession opens a session on an OS-chosen loopback port and answers
// the phone's offer.
func mustSession(tb testing.TB, p *phone, formats string) *Session {
	tb.Helper()
	s, err := NewSession(NewPortPool(0, 0), "127.0.0.1")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	if p != nil {
		if _, err := s.Answer(p.offer(formats)); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

func tone(samples int) []int16 {
	pcm := make([]int16, samples)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	return pcm
}

func TestPlayPacketsAndPacing(t *testing.T) {
	p := newPhone(t)
	s := mustSession(t, p, "8 0 101")
	pcm := tone(8000 - 50) // 1 s minus a partial last frame: 50 packets
	start := time.Now()
	played := make(chan error, 1)
	go func() { played <- s.Play(context.Background(), pcm) }()

	var pkts []*rtp.Packet
	var arrivals []time.Time
	for range 50 {
		pkt, at, err := p.read(2 * time.Second)
		if err != nil {
			t.Fatalf("after %d packets: %v", len(pkts), err)
		}
		pkts, arrivals = append(pkts, pkt), append(arrivals, at)
	}
	if err := <-played; err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	want := g711.EncodeAlaw(nil, pcm[:160])
	for i, pkt := range pkts {
		h := pkt.Header
		if h.PayloadType != 8 || len(pkt.Payload) != 160 || h.SSRC != pkts[0].SSRC || h.Marker != (i == 0) {
			t.Fatalf("packet %d: pt=%d len=%d ssrc=%x marker=%t", i, h.PayloadType, len(pkt.Payload), h.SSRC, h.Marker)
		}
		if i > 0 && (h.SequenceNumber != pkts[i-1].SequenceNumber+1 || h.Timestamp != pkts[i-1].Timestamp+160) {
			t.Fatalf("packet %d: seq %d ts %d after seq %d ts %d", i, h.SequenceNumber, h.Timestamp, pkts[i-1].SequenceNumber, pkts[i-1].Timestamp)
		}
	}
	if string(pkts[0].Payload) != string(want) {
		t.Fatal("first payload is not the A-law encoding of the prompt")
	}
	if last := pkts[49].Payload; last[159] != g711.AlawFromLinear(0) {
		t.Fatal("short last frame not padded with silence")
	}
	// Pacing: 49 intervals of 20 ms, no drift, Play returns after 1 s.
	span := arrivals[49].Sub(arrivals[0])
	if span < 930*time.Millisecond || span > 1230*time.Millisecond { // the last one may be up to 250 ms late, as below
		t.Errorf("50 packets spread over %v, want ~980ms", span)
	}
	if elapsed < 990*time.Millisecond || elapsed > 1300*time.Millisecond {
		t.Errorf("Play took %v, want ~1s", elapsed)
	}
	// Each packet on its 20 ms schedule, within what a loaded machine
	// delays a goroutine: a full test run on 2 cores put one 65 ms late,
	// and the packets after a late one catch up. A burst or drift fails
	// the span above.
	for i, at := range arrivals {
		if lag := at.Sub(arrivals[0]) - time.Duration(i)*frameDuration; lag > 250*time.Millisecond || lag < -250*time.Millisecond {
			t.Errorf("packet %d is %v off its schedule", i, lag)
		}
	}
	t.Logf("50 packets over %v, Play returned after %v", span, elapsed)

	// Silence follows, then a second prompt: one stream, sequence numbers
	// and timestamps running on, no new marker.
	time.Sleep(100 * time.Millisecond)
	go func() { played <- s.Play(context.Background(), tone(320)) }()
	prev := pkts[49]
	silent := 0
	for {
		pkt, _, err := p.read(time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if pkt.SequenceNumber != prev.SequenceNumber+1 || pkt.Timestamp != prev.Timestamp+160 || pkt.Marker {
			t.Fatalf("seq %d ts %d marker %t after seq %d ts %d", pkt.SequenceNumber, pkt.Timestamp, pkt.Marker, prev.SequenceNumber, prev.Timestamp)
		}
		prev = pkt
		if !isSilence(pkt) {
			break
		}
		silent++
	}
	<-played
	if silent < 5 {
		t.Fatalf("%d silence packets in >= 100 ms between prompts", silent)
	}
}

func TestPlayStopsAtOnce(t *testing.T) {
	p := newPhone(t)
	s := mustSession(t, p, "0 101")
	ctx, cancel := context.WithCancel(context.Background())
	played := make(chan error, 1)
	go func() { played <- s.Play(ctx, tone(5*8000)) }()
	if _, _, err := p.read(time.Second); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-played:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(100 * time.Millisecond):
		t.Fatal("Play did not stop on cancel")
	}
	go func() { played <- s.Play(context.Background(), tone(5*8000)) }()
	if _, _, err := p.read(time.Second); err != nil {
		t.Fatal(err)
	}
	s.Close()
	select {
	case err := <-played:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(100 * time.Millisecond):
		t.Fatal("Play did not stop on Close")
	}
	if err := s.Play(context.Background(), tone(160)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Play after Close: %v", err)
	}
}

func TestPlayBeforeNegotiation(t *testing.T) {
	s := mustSession(t, nil, "")
	if err := s.Play(context.Background(), tone(160)); !errors.Is(err, ErrNotNegotiated) {
		t.Fatalf("err = %v", err)
	}
	if _, err := s.Answer([]byte("v=0\r\n")); !errors.Is(err, ErrNotAcceptable) {
		t.Fatalf("err = %v", err)
	}
}

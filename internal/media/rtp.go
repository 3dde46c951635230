package media

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"time"

	"github.com/pion/rtp"

	"github.com/hotdesk-pbx/hotdesk/internal/media/dtmf"
)

const (
	frameSamples  = 160                   // 20 ms at 8 kHz
	frameDuration = 20 * time.Millisecond // RTP packetisation (ptime)
	sampleTime    = time.Second / 8000
	maxPacket     = 1500
)

// sender is the outgoing RTP stream state. Sequence number, timestamp and
// SSRC start random (RFC 3550 section 5.1).
type sender struct {
	ssrc    uint32
	seq     uint16
	ts      uint32
	lastEnd time.Time // when the audio of the last Play ended
	buf     []byte
	payload []byte
	frame   []int16
}

func newSender() sender {
	return sender{
		ssrc: rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32(),
		buf: make([]byte, maxPacket), payload: make([]byte, 0, frameSamples), frame: make([]int16, frameSamples),
	}
}

// Play sends pcm (8 kHz linear samples) as RTP in the negotiated codec, one
// packet per 20 ms against absolute deadlines so the pace does not drift.
// The first packet carries the marker bit (start of a talkspurt). It
// returns when the last packet's 20 ms have passed, or at once when ctx is
// done or the session closes. A tail shorter than 20 ms is padded with
// silence.
func (s *Session) Play(ctx context.Context, pcm []int16) error {
	s.playMu.Lock()
	defer s.playMu.Unlock()
	if s.closed() {
		return ErrClosed
	}
	s.mu.Lock()
	neg := s.neg
	s.mu.Unlock()
	if neg == nil {
		return ErrNotNegotiated
	}
	frames := (len(pcm) + frameSamples - 1) / frameSamples
	start := time.Now()
	tx := &s.tx
	tx.skipSilence(start)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	sent := 0
	defer func() { tx.lastEnd = start.Add(time.Duration(sent) * frameDuration) }()
	for i := range frames {
		if err := s.waitUntil(ctx, timer, start.Add(time.Duration(i)*frameDuration)); err != nil {
			return err
		}
		s.sendFrame(neg, pcm[i*frameSamples:min((i+1)*frameSamples, len(pcm))], i == 0)
		sent++
	}
	return s.waitUntil(ctx, timer, start.Add(time.Duration(frames)*frameDuration))
}

// skipSilence advances the timestamp over the time nothing was played, so
// the receiver's jitter buffer sees the real gap (RFC 3550 section 5.1).
func (tx *sender) skipSilence(now time.Time) {
	if tx.lastEnd.IsZero() || !now.After(tx.lastEnd) {
		return
	}
	gap := now.Sub(tx.lastEnd) / sampleTime
	tx.ts += uint32(gap) / frameSamples * frameSamples
}

func (s *Session) waitUntil(ctx context.Context, timer *time.Timer, deadline time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d := time.Until(deadline)
	if d <= 0 {
		return nil
	}
	timer.Reset(d)
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrClosed
	}
}

func (s *Session) sendFrame(neg *negotiated, samples []int16, marker bool) {
	tx := &s.tx
	n := copy(tx.frame, samples)
	clear(tx.frame[n:])
	tx.payload = neg.codec.encode(tx.payload[:0], tx.frame)
	pkt := rtp.Packet{
		Header: rtp.Header{
			Version: 2, Marker: marker, PayloadType: neg.pt,
			SequenceNumber: tx.seq, Timestamp: tx.ts, SSRC: tx.ssrc,
		},
		Payload: tx.payload,
	}
	tx.seq++
	tx.ts += frameSamples
	size, err := pkt.MarshalTo(tx.buf)
	if err != nil {
		s.log.Warn("rtp marshal", "err", err)
		return
	}
	if to := s.RemoteAddr(); to != nil {
		if _, err := s.conn.WriteToUDP(tx.buf[:size], to); err != nil && !s.closed() {
			s.log.Debug("rtp send", "to", to, "err", err)
		}
	}
}

// readLoop reads RTP until Close: it latches the remote address and feeds
// telephone-events to the detector. Audio is not used.
func (s *Session) readLoop() {
	defer s.wg.Done()
	buf := make([]byte, maxPacket)
	var pkt rtp.Packet
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && !s.closed() {
				s.log.Warn("rtp read stopped", "err", err)
			}
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil || pkt.Version != 2 || isRTCP(pkt.PayloadType) {
			continue
		}
		if dtmfPT, ok := s.accept(from, pkt.PayloadType); ok && int(pkt.PayloadType) == dtmfPT {
			s.telephoneEvent(&pkt)
		}
	}
}

// isRTCP spots multiplexed RTCP (RFC 5761 section 4: types 200-204 read
// as payload types 72-76).
func isRTCP(pt uint8) bool { return pt >= 72 && pt <= 76 }

// accept applies symmetric RTP: the first packet received fixes where RTP
// is sent (the phone may be behind NAT) and after that only packets from
// that address count. It returns the telephone-event payload type.
func (s *Session) accept(from *net.UDPAddr, pt uint8) (dtmfPT int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.neg != nil && pt != s.neg.pt && int(pt) != s.neg.dtmfPT {
		return 0, false
	}
	if !s.latched {
		if !sameAddr(s.remote, from) {
			s.log.Debug("rtp latched", "sdp", s.remote, "from", from)
		}
		s.remote, s.latched = from, true
	}
	if !sameAddr(s.remote, from) || s.neg == nil {
		return 0, false
	}
	return s.neg.dtmfPT, true
}

func (s *Session) telephoneEvent(pkt *rtp.Packet) {
	r, ok, err := s.det.Feed(dtmf.Packet{SSRC: pkt.SSRC, Timestamp: pkt.Timestamp, Marker: pkt.Marker, Payload: pkt.Payload})
	if err != nil {
		s.log.Debug("bad telephone-event", "err", err)
		return
	}
	if ok {
		s.deliverFrom(keysRTP, r)
	}
}

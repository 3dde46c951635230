package media

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/pion/rtp"
)

const (
	frameSamples  = 160                   // 20 ms at 8 kHz
	frameDuration = 20 * time.Millisecond // RTP packetisation (ptime)
	maxPacket     = 1500

	// maxCatchUp is how far the sender may fall behind (a stalled
	// machine) before it skips the missed frames of silence instead of
	// sending them in a burst; prompt audio is never skipped.
	maxCatchUp = time.Second

	// cnLevel is the noise level of comfort noise packets, in -dBov
	// (RFC 3389 section 3): the quietest there is, because the PBX is
	// silent, not noisy, between prompts.
	cnLevel = 127
)

// The outgoing stream. Once started (Start, or the first Play) a session
// sends one packet every 20 ms until it closes: prompt audio while a
// prompt plays, and between prompts silence — comfort noise (RFC 3389)
// when the peer offered CN, else G.711 frames of silence. Phones and SBCs
// end calls that send no RTP, and a caller typing a PIN hears a dead line
// otherwise. Sequence number and timestamp run on across prompts and
// silence, so the stream is one talkspurt from the receiver's view; the
// first packet, and the first prompt packet after comfort noise, carry the
// marker bit (RFC 3551 section 4.1).

// sender is the outgoing RTP stream state, owned by sendLoop. Sequence
// number, timestamp and SSRC start random (RFC 3550 section 5.1).
type sender struct {
	ssrc    uint32
	seq     uint16
	ts      uint32
	sent    bool // a packet went out: no more marker for the stream start
	wasCN   bool // the last packet was comfort noise
	buf     []byte
	sbuf    []byte // SRTP output, made by the first encryption (most calls are plain RTP)
	payload []byte
	frame   []int16
}

func newSender() sender {
	return sender{
		ssrc: rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32(),
		buf: make([]byte, maxPacket), payload: make([]byte, 0, frameSamples), frame: make([]int16, frameSamples),
	}
}

// playJob is one Play call handed to sendLoop: segments of audio played
// one after the other with gap samples of silence between them, read in
// place (a prompt and the digits after it are not copied into one buffer).
type playJob struct {
	ctx    context.Context
	segs   [][]int16
	gap    int
	inline [8][]int16 // holds segs when they fit: no allocation per Play
	seg    int        // segment being sent
	pos    int        // samples of segs[seg] sent, its leading gap included
	done   chan error // buffered: the result
}

// fill copies the job's next samples into frame, silence in the gaps, and
// returns how many it copied (less than len(frame) at the end).
func (j *playJob) fill(frame []int16) int {
	n := 0
	for n < len(frame) && j.seg < len(j.segs) {
		lead := j.gap
		if j.seg == 0 {
			lead = 0
		}
		if j.pos < lead {
			k := min(lead-j.pos, len(frame)-n)
			clear(frame[n : n+k])
			n, j.pos = n+k, j.pos+k
			continue
		}
		seg := j.segs[j.seg]
		k := copy(frame[n:], seg[j.pos-lead:])
		n, j.pos = n+k, j.pos+k
		if j.pos-lead >= len(seg) {
			j.seg, j.pos = j.seg+1, 0
		}
	}
	return n
}

// finished reports whether every sample of the job was sent.
func (j *playJob) finished() bool { return j.seg >= len(j.segs) }

// Start begins the outgoing stream: silence until a prompt plays. Call it
// once the call is answered; Play starts the stream too. Before an SDP
// answer or offer was applied nothing is sent.
func (s *Session) Start() { s.startOnce.Do(func() { close(s.started) }) }

// Play sends pcm (8 kHz linear samples) as RTP in the negotiated codec, one
// packet per 20 ms, in the session's stream (see Start). It returns when
// the last packet's 20 ms have passed, or at once when ctx is done or the
// session closes. A tail shorter than 20 ms is padded with silence.
func (s *Session) Play(ctx context.Context, pcm []int16) error {
	job := &playJob{ctx: ctx}
	job.segs = append(job.inline[:0], pcm)
	return s.play(job)
}

// PlaySegments plays segs one after the other with gap samples (8 kHz) of
// silence between two of them, as Play would play them concatenated,
// without concatenating them: the samples are read in place while they
// play (prompts are shared, read-only buffers: prompts.Set.Parts), so
// they must not change. segs itself is not kept: the caller may reuse it
// once PlaySegments returns.
func (s *Session) PlaySegments(ctx context.Context, gap int, segs ...[]int16) error {
	job := &playJob{ctx: ctx, gap: max(gap, 0)}
	job.segs = append(job.inline[:0], segs...)
	return s.play(job)
}

// play runs job: queued to sendLoop, which paces it (see Play).
func (s *Session) play(job *playJob) error {
	ctx := job.ctx
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
	if err := ctx.Err(); err != nil {
		return err
	}
	job.done = make(chan error, 1)
	select {
	case s.plays <- job:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrClosed
	}
	s.Start() // after queueing, so a stream Play starts begins with the prompt
	select {
	case err := <-job.done:
		return err
	case <-ctx.Done():
		return ctx.Err() // sendLoop drops the job at its next frame
	case <-s.done:
		return ErrClosed
	}
}

// sendLoop paces the outgoing stream: every 20 ms, against absolute
// deadlines so the pace does not drift, it sends the current prompt's next
// frame or silence. It finishes a prompt one frame after its last packet,
// when that packet's audio has been played out.
func (s *Session) sendLoop() {
	defer s.wg.Done()
	select {
	case <-s.started:
	case <-s.done:
		return
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var cur, ending *playJob
	defer func() {
		for _, j := range []*playJob{cur, ending} {
			if j != nil {
				j.done <- ErrClosed
			}
		}
	}()
	next := time.Now()
	for {
		if d := time.Until(next); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-s.done:
				return
			}
		} else if s.closed() {
			return
		}
		if ending != nil {
			ending.done <- nil
			ending = nil
		}
		if cur != nil && cur.ctx.Err() != nil {
			cur.done <- cur.ctx.Err()
			cur = nil
		}
		if cur == nil {
			cur = s.nextJob()
		}
		neg, dir := s.stream()
		switch {
		case neg == nil:
			// Not negotiated yet (offer in our 200, answer in the ACK).
		case cur != nil:
			s.sendAudio(neg, cur)
			if cur.finished() {
				ending, cur = cur, nil
			}
		case dir == "sendrecv" || dir == "sendonly":
			s.sendSilence(neg)
		default:
			s.tx.ts += frameSamples // on hold: time passes, nothing is sent
		}
		next = next.Add(frameDuration)
		if behind := time.Since(next); behind > maxCatchUp && cur == nil {
			skipped := behind / frameDuration
			s.tx.ts += uint32(skipped) * frameSamples
			next = next.Add(skipped * frameDuration)
			s.log.Debug("rtp sender fell behind, silence skipped", "behind", behind)
		}
	}
}

// nextJob takes the Play waiting, if any, skipping one whose caller has
// given up.
func (s *Session) nextJob() *playJob {
	for {
		select {
		case j := <-s.plays:
			if err := j.ctx.Err(); err != nil {
				j.done <- err
				continue
			}
			return j
		default:
			return nil
		}
	}
}

// stream returns what sendLoop needs of the negotiated state.
func (s *Session) stream() (*negotiated, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.neg == nil {
		return nil, ""
	}
	return s.neg, s.neg.dir
}

// sendAudio sends the job's next 20 ms, a tail padded with silence.
func (s *Session) sendAudio(neg *negotiated, job *playJob) {
	tx := &s.tx
	n := job.fill(tx.frame)
	clear(tx.frame[n:])
	tx.payload = neg.codec.encode(tx.payload[:0], tx.frame)
	s.send(neg.pt, tx.payload, !tx.sent || tx.wasCN)
	tx.wasCN = false
}

// sendSilence sends 20 ms of silence: comfort noise when negotiated.
func (s *Session) sendSilence(neg *negotiated) {
	tx := &s.tx
	if neg.cnPT >= 0 {
		tx.payload = append(tx.payload[:0], cnLevel)
		s.send(uint8(neg.cnPT), tx.payload, !tx.sent)
		tx.wasCN = true
		return
	}
	clear(tx.frame)
	tx.payload = neg.codec.encode(tx.payload[:0], tx.frame)
	s.send(neg.pt, tx.payload, !tx.sent)
	tx.wasCN = false
}

// send sends one 20 ms packet and advances sequence number and timestamp.
// Without a remote address (none in the SDP, no packet received yet)
// nothing is sent and only the timestamp advances.
func (s *Session) send(pt uint8, payload []byte, marker bool) {
	tx := &s.tx
	to := s.RemoteAddr()
	if to == nil {
		tx.ts += frameSamples
		return
	}
	pkt := rtp.Packet{
		Header: rtp.Header{
			Version: 2, Marker: marker, PayloadType: pt,
			SequenceNumber: tx.seq, Timestamp: tx.ts, SSRC: tx.ssrc,
		},
		Payload: payload,
	}
	tx.seq++
	tx.ts += frameSamples
	tx.sent = true
	size, err := pkt.MarshalTo(tx.buf)
	if err != nil {
		s.log.Warn("rtp marshal", "err", err)
		return
	}
	out := tx.buf[:size]
	if enc := s.encrypter(); enc != nil {
		if out, err = enc.EncryptRTP(tx.sbuf[:0], out, nil); err != nil {
			s.log.Warn("srtp encrypt", "err", err)
			return
		}
		tx.sbuf = out[:0]
	}
	if _, err := s.conn.WriteToUDP(out, to); err != nil && !s.closed() {
		s.log.Debug("rtp send", "to", to, "err", err)
	}
}

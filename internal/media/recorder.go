package media

import (
	"bufio"
	"errors"
	"io"
	"math"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/hotdesk-pbx/hotdesk/internal/media/g711"
)

// Recording (voicemail, greetings). A Recorder attached to a Session gets
// the caller's audio packets — the negotiated G.711 codec only; comfort
// noise and telephone-events are not audio — and appends their payloads,
// as received, to a writer. RTP timestamps place each packet: a gap (lost
// packets, or a phone that sends comfort noise or nothing while the caller
// is quiet) is filled with G.711 silence so the recording keeps real time;
// a late or repeated packet is dropped. Short gaps only: a timestamp jump
// of more than maxGap (a new SSRC, a phone that restarted its clock) is
// taken as a new start.

const (
	// maxGap is the longest hole filled with silence.
	maxGap = 2 * 8000
	// VoiceRMS is the level (linear 16-bit RMS of a 20 ms frame) above which
	// a frame counts as voice, about -40 dBov: a quiet talker is well above
	// it, a phone's idle line noise well below.
	VoiceRMS = 330
)

// ErrRecordingFull is returned by Recorder.Err once the recording reached
// its maximum length.
var ErrRecordingFull = errors.New("media: recording reached its maximum length")

// Recorder appends one call's received audio to a writer. Safe for use by
// the session's reader goroutine and the call's owner at once.
type Recorder struct {
	codec string
	max   int // samples; 0 = no limit
	now   func() time.Time

	mu        sync.Mutex
	w         *bufio.Writer
	dst       io.Writer
	samples   int // written
	voiced    int // samples up to the end of the last voice frame
	lastVoice time.Time
	base      uint32 // RTP timestamp of sample 0 (after the last re-start)
	offset    int    // samples written before base
	started   bool
	ssrc      uint32
	err       error
	stopped   bool
	full      chan struct{}
	pcm       []int16
}

// NewRecorder records audio of codec ("PCMU" or "PCMA", Session.Codec) to
// dst, at most max samples (8000 a second; 0: no limit). The silence clock
// (SilentFor) starts now.
func NewRecorder(dst io.Writer, codec string, max int) *Recorder {
	r := &Recorder{codec: codec, max: max, now: time.Now, w: bufio.NewWriterSize(dst, 8192), dst: dst,
		full: make(chan struct{})}
	r.lastVoice = r.now()
	return r
}

// Full is closed when the recording reached its maximum length.
func (r *Recorder) Full() <-chan struct{} { return r.full }

// Samples is how many samples were recorded (8000 a second).
func (r *Recorder) Samples() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.samples
}

// Voiced is how many samples the recording has up to the end of its last
// frame of voice: the length worth keeping.
func (r *Recorder) Voiced() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.voiced
}

// SilentFor is how long no voice has been received (since NewRecorder if
// none ever was): counted by the clock, so a caller who sends no packets
// at all is silent too.
func (r *Recorder) SilentFor() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now().Sub(r.lastVoice)
}

// Err is the first write error, or ErrRecordingFull.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Stop makes the recorder ignore packets from now on, also one the
// session's reader is handing over as Record(nil) detaches it; Flush
// still writes what was recorded.
func (r *Recorder) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
}

// Flush writes buffered audio to the writer and, when it is a file (has
// Sync), to disk: a crash after Flush loses none of it.
func (r *Recorder) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.w.Flush(); err != nil {
		return err
	}
	if s, ok := r.dst.(interface{ Sync() error }); ok {
		return s.Sync()
	}
	return nil
}

// packet takes one received audio packet.
func (r *Recorder) packet(pkt *rtp.Packet) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil || r.stopped || len(pkt.Payload) == 0 {
		return
	}
	if !r.started || pkt.SSRC != r.ssrc {
		r.restart(pkt)
	}
	pos := r.offset + int(int32(pkt.Timestamp-r.base))
	switch {
	case pos < r.samples:
		return // late or repeated
	case pos-r.samples > maxGap:
		r.restart(pkt)
		pos = r.samples
	}
	if gap := pos - r.samples; gap > 0 {
		r.write(silence(r.codec, gap))
	}
	r.write(pkt.Payload)
	if r.isVoice(pkt.Payload) {
		r.voiced = r.samples
		r.lastVoice = r.now()
	}
}

// restart makes pkt the new time base: it follows what was recorded.
func (r *Recorder) restart(pkt *rtp.Packet) {
	r.started, r.ssrc, r.base, r.offset = true, pkt.SSRC, pkt.Timestamp, r.samples
}

// write appends samples up to the maximum length.
func (r *Recorder) write(b []byte) {
	if r.err != nil {
		return
	}
	if r.max > 0 && r.samples+len(b) >= r.max {
		b = b[:r.max-r.samples]
		r.err = ErrRecordingFull
		close(r.full)
	}
	if _, err := r.w.Write(b); err != nil && r.err == nil {
		r.err = err
	}
	r.samples += len(b)
}

func (r *Recorder) isVoice(payload []byte) bool {
	r.pcm = decode(r.codec, r.pcm[:0], payload)
	return RMS(r.pcm) >= VoiceRMS
}

// decode turns G.711 bytes of codec into linear samples, appended to dst.
func decode(codec string, dst []int16, b []byte) []int16 {
	if codec == "PCMA" {
		return g711.DecodeAlaw(dst, b)
	}
	return g711.DecodeUlaw(dst, b)
}

// RMS is the root mean square of pcm.
func RMS(pcm []int16) float64 {
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(max(1, len(pcm))))
}

// silence is n samples of G.711 silence in codec.
func silence(codec string, n int) []byte {
	b := make([]byte, n)
	v := byte(0xff) // μ-law zero
	if codec == "PCMA" {
		v = 0xd5 // A-law zero
	}
	for i := range b {
		b[i] = v
	}
	return b
}

// VoicedLength is the length of raw G.711 audio of codec up to the end of
// its last 20 ms frame of voice (0 when there is none): what a recording
// recovered from a spool file keeps, as Recorder.Voiced does.
func VoicedLength(codec string, raw []byte) int {
	var pcm []int16
	for end := len(raw); end > 0; end -= frameSamples {
		start := max(0, end-frameSamples)
		pcm = decode(codec, pcm[:0], raw[start:end])
		if RMS(pcm) >= VoiceRMS {
			return end
		}
	}
	return 0
}

// Record attaches r to the session: from now on the audio received is
// appended to it, until Record is called with nil or the session closes.
func (s *Session) Record(r *Recorder) {
	s.mu.Lock()
	s.rec = r
	s.mu.Unlock()
}

// recordPacket hands an accepted packet to the recorder when it is audio
// in the negotiated codec.
func (s *Session) recordPacket(pkt *rtp.Packet) {
	s.mu.Lock()
	r, neg := s.rec, s.neg
	s.mu.Unlock()
	if r != nil && neg != nil && pkt.PayloadType == neg.pt {
		r.packet(pkt)
	}
}

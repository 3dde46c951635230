// Package mediatest is a test phone's media side for tests of the PBX's
// IVR: it offers SDP from a loopback UDP socket, sends key presses as RFC
// 4733 telephone-events and records the prompt RTP it receives, decoded to
// PCM so a test can check it is speech of the expected length. The PBX
// sends comfort noise between prompts (the phone offers CN unless NoCN),
// which tells a prompt's end from silence inside it.
package mediatest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"

	"github.com/hotdesk-pbx/hotdesk/internal/media/dtmf"
	"github.com/hotdesk-pbx/hotdesk/internal/media/g711"
)

// DTMFPayloadType is the telephone-event payload type the phone offers.
const DTMFPayloadType = 101

// CNPayloadType is the comfort noise (RFC 3389) payload type it offers.
const CNPayloadType = 13

// Phone is the far end of a call's media. Create it with NewPhone.
type Phone struct {
	// NoCN leaves comfort noise out of the offer, so the PBX sends G.711
	// silence between prompts; Record then cannot tell silence between
	// prompts from silence in them (use Watch).
	NoCN bool

	conn *net.UDPConn
	ssrc uint32

	mu     sync.Mutex
	remote *net.UDPAddr
	seq    uint16
	ts     uint32
}

// NewPhone opens a UDP socket on 127.0.0.1; it is closed when the test ends.
func NewPhone(tb testing.TB) *Phone {
	tb.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return &Phone{conn: c, ssrc: rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32()}
}

// Port is the phone's RTP port.
func (p *Phone) Port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

// Offer is an SDP offer with the given static payload types in order of
// preference ("0 8" when none given), plus telephone-event 101 and, unless
// NoCN, comfort noise 13.
func (p *Phone) Offer(payloadTypes ...string) []byte {
	if len(payloadTypes) == 0 {
		payloadTypes = []string{"0", "8"}
	}
	formats, cn := strings.Join(payloadTypes, " ")+fmt.Sprintf(" %d", DTMFPayloadType), []string{}
	if !p.NoCN {
		formats += fmt.Sprintf(" %d", CNPayloadType)
		cn = append(cn, fmt.Sprintf("a=rtpmap:%d CN/8000", CNPayloadType))
	}
	lines := []string{
		"v=0", "o=mediatest 1 1 IN IP4 127.0.0.1", "s=mediatest", "c=IN IP4 127.0.0.1", "t=0 0",
		fmt.Sprintf("m=audio %d RTP/AVP %s", p.Port(), formats),
		"a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
		fmt.Sprintf("a=rtpmap:%d telephone-event/8000", DTMFPayloadType),
		fmt.Sprintf("a=fmtp:%d 0-16", DTMFPayloadType),
	}
	lines = append(append(lines, cn...), "a=ptime:20", "a=sendrecv")
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// SetAnswer reads where to send RTP from the PBX's SDP answer.
func (p *Phone) SetAnswer(answer []byte) error {
	var d sdp.SessionDescription
	if err := d.Unmarshal(answer); err != nil {
		return fmt.Errorf("mediatest: answer: %w", err)
	}
	if len(d.MediaDescriptions) == 0 {
		return errors.New("mediatest: answer has no m= line")
	}
	md := d.MediaDescriptions[0]
	ci := d.ConnectionInformation
	if md.ConnectionInformation != nil {
		ci = md.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return errors.New("mediatest: answer has no c= line")
	}
	ip := net.ParseIP(ci.Address.Address)
	if ip == nil {
		return fmt.Errorf("mediatest: answer address %q", ci.Address.Address)
	}
	p.mu.Lock()
	p.remote = &net.UDPAddr{IP: ip, Port: md.MediaName.Port.Value}
	p.mu.Unlock()
	return nil
}

// SendDigits sends each key as a phone does: three updates 20 ms apart and
// three end packets, keys 100 ms apart. It blocks while sending.
func (p *Phone) SendDigits(keys string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.remote == nil {
		return errors.New("mediatest: SendDigits before SetAnswer")
	}
	for _, k := range keys {
		code, ok := dtmf.Code(k)
		if !ok {
			return fmt.Errorf("mediatest: %q is not a DTMF key", k)
		}
		if err := p.sendPress(code); err != nil {
			return err
		}
		p.ts += 8000 / 10 * 2 // next press starts 200 ms later in RTP time
		time.Sleep(40 * time.Millisecond)
	}
	return nil
}

func (p *Phone) sendPress(code uint8) error {
	for i, end := range []bool{false, false, false, true, true, true} {
		ev := dtmf.Event{Code: code, End: end, Volume: 10, Duration: uint16(160 * min(i+1, 4))}
		pkt := rtp.Packet{Header: rtp.Header{
			Version: 2, Marker: i == 0, PayloadType: DTMFPayloadType,
			SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.ssrc,
		}, Payload: ev.Marshal(nil)}
		if !end || i == 3 { // redundant end packets repeat the sequence number
			p.seq++
		}
		b, err := pkt.Marshal()
		if err != nil {
			return fmt.Errorf("mediatest: %w", err)
		}
		if _, err := p.conn.WriteToUDP(b, p.remote); err != nil {
			return fmt.Errorf("mediatest: send: %w", err)
		}
		if i < 3 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nil
}

// Recording is the audio one prompt (or several) delivered.
type Recording struct {
	Packets      int // audio packets
	ComfortNoise int // CN packets received between them
	PayloadType  uint8
	PCM          []int16 // decoded G.711
	Problems     []string
	First, Last  time.Time // arrival of the first and last audio packet
}

// Duration is the audio length the packets carried.
func (r *Recording) Duration() time.Duration {
	return time.Duration(len(r.PCM)) * time.Second / 8000
}

// RMS is the recording's loudness; silence is near 0, the prompts are
// above 1000.
func (r *Recording) RMS() float64 {
	var sum float64
	for _, v := range r.PCM {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(max(1, len(r.PCM))))
}

// Record receives the next prompt: RTP from the first audio packet until
// the PBX has sent quiet's worth of comfort noise after the last one (in
// RTP time, so a stalled test machine does not cut a prompt short; two
// prompts played back to back, a CN frame or two apart, count as one), or
// until no packet at all came for quiet plus a second (the call ended),
// or until limit has passed. Without CN (NoCN) it runs until then. It
// checks sequence numbers (+1), timestamps (+160 per 20 ms) and payload
// type, noting problems in Recording.Problems.
func (p *Phone) Record(quiet, limit time.Duration) *Recording {
	rec := &Recording{}
	buf := make([]byte, 1500)
	deadline := time.Now().Add(limit)
	quietTS := uint32(quiet / (time.Second / 8000))
	var prev *rtp.Header
	var audioEnd uint32 // RTP time the last audio packet ends
	for {
		_ = p.conn.SetReadDeadline(minTime(time.Now().Add(quiet+time.Second), deadline))
		n, err := p.conn.Read(buf)
		if err != nil {
			break
		}
		var pkt rtp.Packet
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			rec.Problems = append(rec.Problems, "unparsable packet: "+err.Error())
			continue
		}
		if rec.add(&pkt, prev) {
			audioEnd = pkt.Timestamp + 160
		} else if rec.Packets > 0 && int32(pkt.Timestamp+160-audioEnd) >= int32(quietTS) {
			break
		}
		prev = &pkt.Header
	}
	return rec
}

// add takes one packet and reports whether it was audio.
func (r *Recording) add(pkt *rtp.Packet, prev *rtp.Header) bool {
	now := time.Now()
	if prev != nil {
		if pkt.SequenceNumber != prev.SequenceNumber+1 {
			r.Problems = append(r.Problems, fmt.Sprintf("seq %d after %d", pkt.SequenceNumber, prev.SequenceNumber))
		}
		if !pkt.Marker && pkt.Timestamp != prev.Timestamp+160 {
			r.Problems = append(r.Problems, fmt.Sprintf("timestamp %d after %d", pkt.Timestamp, prev.Timestamp))
		}
	}
	if pkt.PayloadType == CNPayloadType {
		if r.Packets > 0 {
			r.ComfortNoise++
		}
		return false
	}
	if r.Packets == 0 {
		r.First, r.PayloadType = now, pkt.PayloadType
	}
	r.Packets++
	r.Last = now
	if pkt.PayloadType != r.PayloadType {
		r.Problems = append(r.Problems, fmt.Sprintf("payload type changed %d -> %d", r.PayloadType, pkt.PayloadType))
	}
	switch pkt.PayloadType {
	case 0:
		r.PCM = g711.DecodeUlaw(r.PCM, pkt.Payload)
	case 8:
		r.PCM = g711.DecodeAlaw(r.PCM, pkt.Payload)
	}
	return true
}

// Received is one packet Watch saw.
type Received struct {
	rtp.Header
	Silent bool // comfort noise, or G.711 of zero samples only
	At     time.Time
}

// Watch receives every RTP packet until limit has passed or none came for
// a second (the call ended).
func (p *Phone) Watch(limit time.Duration) []Received {
	var out []Received
	buf := make([]byte, 1500)
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		_ = p.conn.SetReadDeadline(minTime(time.Now().Add(time.Second), deadline))
		n, err := p.conn.Read(buf)
		if err != nil {
			break
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		out = append(out, Received{Header: pkt.Header, Silent: silent(&pkt), At: time.Now()})
	}
	return out
}

func silent(pkt *rtp.Packet) bool {
	var zero byte
	switch pkt.PayloadType {
	case CNPayloadType:
		return true
	case 0:
		zero = g711.UlawFromLinear(0)
	case 8:
		zero = g711.AlawFromLinear(0)
	default:
		return false
	}
	for _, b := range pkt.Payload {
		if b != zero {
			return false
		}
	}
	return len(pkt.Payload) > 0
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

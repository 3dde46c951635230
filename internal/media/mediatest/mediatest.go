// Package mediatest is a test phone's media side for tests of the PBX's
// IVR: it offers SDP from a loopback UDP socket, sends key presses as RFC
// 4733 telephone-events and records the prompt RTP it receives, decoded to
// PCM so a test can check it is speech of the expected length.
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

// Phone is the far end of a call's media. Create it with NewPhone.
type Phone struct {
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
// preference ("0 8" when none given), plus telephone-event 101.
func (p *Phone) Offer(payloadTypes ...string) []byte {
	if len(payloadTypes) == 0 {
		payloadTypes = []string{"0", "8"}
	}
	lines := []string{
		"v=0", "o=mediatest 1 1 IN IP4 127.0.0.1", "s=mediatest", "c=IN IP4 127.0.0.1", "t=0 0",
		fmt.Sprintf("m=audio %d RTP/AVP %s %d", p.Port(), strings.Join(payloadTypes, " "), DTMFPayloadType),
		"a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
		fmt.Sprintf("a=rtpmap:%d telephone-event/8000", DTMFPayloadType),
		fmt.Sprintf("a=fmtp:%d 0-16", DTMFPayloadType), "a=ptime:20", "a=sendrecv",
	}
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
	Packets     int
	PayloadType uint8
	PCM         []int16 // decoded G.711
	Problems    []string
	First, Last time.Time // arrival of the first and last packet
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

// Record receives RTP until no packet came for quiet, or until limit has
// passed. It checks sequence numbers (+1), timestamps (+160 within a
// talkspurt) and payload type, noting problems in Recording.Problems.
func (p *Phone) Record(quiet, limit time.Duration) *Recording {
	rec := &Recording{}
	buf := make([]byte, 1500)
	deadline := time.Now().Add(limit)
	var prev *rtp.Header
	for time.Now().Before(deadline) {
		_ = p.conn.SetReadDeadline(minTime(time.Now().Add(quiet), deadline))
		n, err := p.conn.Read(buf)
		if err != nil {
			break
		}
		var pkt rtp.Packet
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			rec.Problems = append(rec.Problems, "unparsable packet: "+err.Error())
			continue
		}
		rec.add(&pkt, prev)
		prev = &pkt.Header
	}
	return rec
}

func (r *Recording) add(pkt *rtp.Packet, prev *rtp.Header) {
	now := time.Now()
	if r.Packets == 0 {
		r.First, r.PayloadType = now, pkt.PayloadType
	}
	r.Packets++
	r.Last = now
	if pkt.PayloadType != r.PayloadType {
		r.Problems = append(r.Problems, fmt.Sprintf("payload type changed %d -> %d", r.PayloadType, pkt.PayloadType))
	}
	if prev != nil {
		if pkt.SequenceNumber != prev.SequenceNumber+1 {
			r.Problems = append(r.Problems, fmt.Sprintf("seq %d after %d", pkt.SequenceNumber, prev.SequenceNumber))
		}
		if !pkt.Marker && pkt.Timestamp != prev.Timestamp+uint32(len(pkt.Payload)) {
			r.Problems = append(r.Problems, fmt.Sprintf("timestamp %d after %d", pkt.Timestamp, prev.Timestamp))
		}
	}
	switch pkt.PayloadType {
	case 0:
		r.PCM = g711.DecodeUlaw(r.PCM, pkt.Payload)
	case 8:
		r.PCM = g711.DecodeAlaw(r.PCM, pkt.Payload)
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

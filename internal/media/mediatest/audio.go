package mediatest

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/pion/rtp"

	"github.com/hotdesk-pbx/hotdesk/internal/media/g711"
)

// Tone is d of a sine wave at hz, loud enough to count as voice: what a
// test caller "says" into a mailbox.
func Tone(hz float64, d time.Duration) []int16 {
	n := int(d * 8000 / time.Second)
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/8000))
	}
	return pcm
}

// SendAudio sends pcm as 20 ms G.711 packets (payload type 0 PCMU or 8
// PCMA) in real time, in the phone's stream (sequence number and timestamp
// run on from earlier packets and key presses). It blocks while sending.
func (p *Phone) SendAudio(pt uint8, pcm []int16) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.remote == nil {
		return errors.New("mediatest: SendAudio before SetAnswer")
	}
	next := time.Now()
	var payload []byte
	for i := 0; i < len(pcm); i += 160 {
		frame := pcm[i:min(i+160, len(pcm))]
		if pt == 8 {
			payload = g711.EncodeAlaw(payload[:0], frame)
		} else {
			payload = g711.EncodeUlaw(payload[:0], frame)
		}
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, Marker: i == 0, PayloadType: pt,
			SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.ssrc}, Payload: payload}
		p.seq++
		p.ts += 160
		b, err := pkt.Marshal()
		if err != nil {
			return fmt.Errorf("mediatest: %w", err)
		}
		if _, err := p.conn.WriteToUDP(b, p.remote); err != nil {
			return fmt.Errorf("mediatest: send: %w", err)
		}
		next = next.Add(20 * time.Millisecond)
		time.Sleep(time.Until(next))
	}
	return nil
}

// Pause lets d of RTP time pass without sending (a phone with voice
// activity detection while the caller is quiet).
func (p *Phone) Pause(d time.Duration) {
	p.mu.Lock()
	p.ts += uint32(d * 8000 / time.Second)
	p.mu.Unlock()
	time.Sleep(d)
}

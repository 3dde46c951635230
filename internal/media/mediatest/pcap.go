package mediatest

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/pion/rtp"

	"github.com/hotdesk-pbx/hotdesk/internal/media/g711"
)

// WritePcap writes pcm as a pcap file of 20 ms PCMU RTP packets (Ethernet,
// IPv4, UDP, 20 ms apart): the form sipp's play_pcap_audio replays, so a
// sipp caller can say a known sound into the PBX.
func WritePcap(w io.Writer, pcm []int16) error {
	le, be := binary.LittleEndian, binary.BigEndian
	out := make([]byte, 24)
	le.PutUint32(out[0:], 0xa1b2c3d4)
	le.PutUint16(out[4:], 2)
	le.PutUint16(out[6:], 4)
	le.PutUint32(out[16:], 65535)
	le.PutUint32(out[20:], 1) // LINKTYPE_ETHERNET
	start := time.Unix(1700000000, 0)
	for i, n := 0, 0; i < len(pcm); i, n = i+160, n+1 {
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(n),
			Timestamp: uint32(i), SSRC: 0x5eed, Marker: n == 0}, Payload: g711.EncodeUlaw(nil, pcm[i:min(i+160, len(pcm))])}
		body, err := pkt.Marshal()
		if err != nil {
			return fmt.Errorf("mediatest: pcap: %w", err)
		}
		udp := make([]byte, 8, 8+len(body))
		be.PutUint16(udp[0:], 40000)
		be.PutUint16(udp[2:], 40002)
		be.PutUint16(udp[4:], uint16(8+len(body)))
		udp = append(udp, body...)
		ip := []byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1}
		be.PutUint16(ip[2:], uint16(20+len(udp)))
		var sum uint32
		for j := 0; j < 20; j += 2 {
			sum += uint32(be.Uint16(ip[j:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		be.PutUint16(ip[10:], ^uint16(sum))
		frame := append(append([]byte{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 8, 0}, ip...), udp...)
		at := start.Add(time.Duration(n) * 20 * time.Millisecond)
		rec := make([]byte, 16)
		le.PutUint32(rec[0:], uint32(at.Unix()))
		le.PutUint32(rec[4:], uint32(at.Nanosecond()/1000))
		le.PutUint32(rec[8:], uint32(len(frame)))
		le.PutUint32(rec[12:], uint32(len(frame)))
		out = append(append(out, rec...), frame...)
	}
	_, err := w.Write(out)
	return err
}

// ToneFrames counts the 20 ms frames of pcm that are a pure tone at hz
// (Goertzel power at hz holds most of the frame's energy): a test tone is
// found among prompts and silence around it.
func ToneFrames(pcm []int16, hz float64) int {
	n := 0
	coeff := 2 * math.Cos(2*math.Pi*hz/8000)
	for i := 0; i+160 <= len(pcm); i += 160 {
		var s1, s2, energy float64
		for _, v := range pcm[i : i+160] {
			x := float64(v)
			s1, s2 = x+coeff*s1-s2, s1
			energy += x * x
		}
		power := s1*s1 + s2*s2 - coeff*s1*s2
		if energy > 0 && power/(energy*80) > 0.8 { // a pure tone: power = energy*N/2
			n++
		}
	}
	return n
}

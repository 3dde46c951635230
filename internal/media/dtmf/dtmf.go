// Package dtmf parses and builds RFC 4733 telephone-event payloads and turns
// a stream of them into key presses.
//
// A sender reports one key press as a series of RTP packets that all carry
// the RTP timestamp of the event's start: a first packet (often with the
// marker bit), updates with a growing duration, and usually three copies of
// the final packet with the E (end) bit set (RFC 4733 section 2.5.1). The
// Detector keys on that timestamp so each press yields exactly one digit,
// whatever is repeated, reordered or lost.
package dtmf

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// PayloadSize is the size of one telephone-event payload (RFC 4733 section 2.3).
const PayloadSize = 4

// ErrShortPayload is returned for a payload shorter than PayloadSize.
var ErrShortPayload = errors.New("dtmf: telephone-event payload shorter than 4 bytes")

// Event is one RFC 4733 telephone-event payload.
type Event struct {
	Code     uint8  // event code: 0-9, 10 '*', 11 '#', 12-15 'A'-'D', 16 flash
	End      bool   // E bit: this is (a copy of) the event's last packet
	Volume   uint8  // power level in -dBm0, 0..63
	Duration uint16 // duration so far, in RTP timestamp units
}

// Parse decodes a telephone-event payload. Bytes after the first four (a
// second, redundant block) are ignored.
func Parse(b []byte) (Event, error) {
	if len(b) < PayloadSize {
		return Event{}, ErrShortPayload
	}
	return Event{
		Code:     b[0],
		End:      b[1]&0x80 != 0,
		Volume:   b[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(b[2:4]),
	}, nil
}

// Marshal appends the 4-byte wire form of e to dst. The reserved bit is zero.
func (e Event) Marshal(dst []byte) []byte {
	flags := e.Volume & 0x3f
	if e.End {
		flags |= 0x80
	}
	return append(dst, e.Code, flags, byte(e.Duration>>8), byte(e.Duration))
}

// String renders the event for logs and test failures.
func (e Event) String() string {
	d, ok := Digit(e.Code)
	if !ok {
		d = '?'
	}
	return fmt.Sprintf("event %d (%c) end=%t volume=%d duration=%d", e.Code, d, e.End, e.Volume, e.Duration)
}

const keys = "0123456789*#ABCD"

// Digit maps an event code to its key ('0'-'9', '*', '#', 'A'-'D'); ok is
// false for other events such as flash (16).
func Digit(code uint8) (r rune, ok bool) {
	if int(code) >= len(keys) {
		return 0, false
	}
	return rune(keys[code]), true
}

// Code maps a key to its event code; ok is false for anything that is not
// a DTMF key. Lower-case 'a'-'d' are accepted.
func Code(r rune) (code uint8, ok bool) {
	if r >= 'a' && r <= 'd' {
		r -= 'a' - 'A'
	}
	for i, k := range keys {
		if k == r {
			return uint8(i), true
		}
	}
	return 0, false
}

// recent is how many past events a Detector remembers. A stray late packet
// of an event older than this would count again; with one event every
// ~100 ms that would need a packet delayed by well over a second.
const recent = 16

type eventKey struct {
	ssrc      uint32
	timestamp uint32
}

type seenEvent struct {
	key   eventKey
	ended bool // an end packet was seen
}

// Packet is the part of an RTP packet carrying a telephone-event that the
// Detector needs.
type Packet struct {
	SSRC      uint32
	Timestamp uint32
	Marker    bool
	Payload   []byte
}

// Detector turns telephone-event packets into digits, each press once. The
// zero value is ready to use. It is not safe for concurrent use.
//
// Events are told apart by SSRC and RTP timestamp. One exception: after an
// event has ended, a new start packet (marker bit, no E bit) with the same
// timestamp is a new press. Senders that replay a captured packet train
// verbatim, such as sipp's play_pcap_audio with the dtmf_2833_*.pcap files,
// repeat the timestamp for every press of the same key; a phone never does.
type Detector struct {
	seen [recent]seenEvent
	used int // how many entries of seen are valid
	next int // ring position for the next entry
}

// Feed takes one telephone-event packet. It reports the key the first time
// it sees an event (whichever of its packets arrives first, so a lost start
// packet costs nothing) and ok=false for every other packet of the same
// event and for events that are not keys.
func (d *Detector) Feed(p Packet) (r rune, ok bool, err error) {
	ev, err := Parse(p.Payload)
	if err != nil {
		return 0, false, err
	}
	k := eventKey{p.SSRC, p.Timestamp}
	e := d.find(k)
	switch {
	case e == nil:
		e = d.remember(k)
	case e.ended && p.Marker && !ev.End:
		e.ended = false // replayed train: a new press
	default:
		e.ended = e.ended || ev.End
		return 0, false, nil
	}
	e.ended = ev.End
	r, ok = Digit(ev.Code)
	return r, ok, nil
}

func (d *Detector) find(k eventKey) *seenEvent {
	for i := range d.used {
		if d.seen[i].key == k {
			return &d.seen[i]
		}
	}
	return nil
}

func (d *Detector) remember(k eventKey) *seenEvent {
	e := &d.seen[d.next]
	*e = seenEvent{key: k}
	d.next = (d.next + 1) % recent
	if d.used < recent {
		d.used++
	}
	return e
}

// Reset forgets every event seen so far.
func (d *Detector) Reset() { *d = Detector{} }

package wav

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// EncodeG711 returns G.711 samples as they came off the wire (one byte a
// sample) as a mono 8 kHz WAV file of that encoding — μ-law for "PCMU",
// A-law for "PCMA" — so a recording keeps exactly what the caller sent.
func EncodeG711(codec string, data []byte) ([]byte, error) {
	var tag uint16
	switch codec {
	case "PCMU":
		tag = formatUlaw
	case "PCMA":
		tag = formatAlaw
	default:
		return nil, fmt.Errorf("%w: codec %q, want PCMU or PCMA", ErrUnsupported, codec)
	}
	var buf bytes.Buffer
	buf.Grow(58 + len(data) + 1)
	le := func(v any) { _ = binary.Write(&buf, binary.LittleEndian, v) }
	pad := len(data) % 2 // chunks are word-aligned
	buf.WriteString("RIFF")
	le(uint32(4 + 26 + 12 + 8 + len(data) + pad))
	buf.WriteString("WAVEfmt ")
	le(uint32(18)) // non-PCM formats carry cbSize
	le(tag)
	le(uint16(1))          // channels
	le(uint32(SampleRate)) // sample rate
	le(uint32(SampleRate)) // byte rate
	le(uint16(1))          // block align
	le(uint16(8))          // bits per sample
	le(uint16(0))          // cbSize
	// A fact chunk is required for non-PCM formats (sample count).
	buf.WriteString("fact")
	le(uint32(4))
	le(uint32(len(data)))
	buf.WriteString("data")
	le(uint32(len(data)))
	buf.Write(data)
	if pad == 1 {
		buf.WriteByte(0)
	}
	return buf.Bytes(), nil
}

// G711Data returns the codec ("PCMU" or "PCMA") and the raw samples of a
// WAV file written by EncodeG711 (or any mono 8 kHz μ-law/A-law WAV).
func G711Data(b []byte) (codec string, data []byte, err error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return "", nil, fmt.Errorf("%w: no RIFF/WAVE header", ErrMalformed)
	}
	var f *format
	for rest := b[12:]; len(rest) > 0; {
		id, body, next, err := chunk(rest)
		if err != nil {
			return "", nil, err
		}
		switch id {
		case "fmt ":
			if f, err = parseFormat(body); err != nil {
				return "", nil, err
			}
		case "data":
			switch {
			case f == nil:
				return "", nil, fmt.Errorf("%w: data chunk before fmt chunk", ErrMalformed)
			case f.tag == formatUlaw:
				return "PCMU", body, nil
			case f.tag == formatAlaw:
				return "PCMA", body, nil
			}
			return "", nil, fmt.Errorf("%w: not G.711", ErrUnsupported)
		}
		rest = next
	}
	return "", nil, fmt.Errorf("%w: no data chunk", ErrMalformed)
}

// Package wav reads and writes the RIFF WAVE files the PBX uses for voice
// prompts: mono, 8 kHz, 16-bit linear PCM, μ-law or A-law. Reading always
// yields 16-bit linear samples; writing produces 16-bit PCM.
package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/hotdesk-pbx/hotdesk/internal/media/g711"
)

// SampleRate is the only sample rate the PBX plays (G.711 narrowband).
const SampleRate = 8000

// Format codes of the fmt chunk (wFormatTag).
const (
	formatPCM        = 1
	formatAlaw       = 6
	formatUlaw       = 7
	formatExtensible = 0xfffe
)

// maxSize bounds what Read accepts: about 30 minutes of 16-bit audio, far
// more than any prompt.
const maxSize = 32 << 20

var (
	// ErrMalformed is returned (wrapped) for files that are not valid RIFF WAVE.
	ErrMalformed = errors.New("wav: malformed file")
	// ErrUnsupported is returned (wrapped) for valid files in a format the
	// PBX cannot play: not mono, not 8 kHz, or not 16-bit PCM, μ-law or A-law.
	ErrUnsupported = errors.New("wav: unsupported format")
)

type format struct {
	tag      uint16
	channels uint16
	rate     uint32
	bits     uint16
}

// Read reads a whole WAV file from r and returns its samples.
func Read(r io.Reader) ([]int16, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("wav: read: %w", err)
	}
	if len(b) > maxSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrUnsupported, maxSize)
	}
	return Decode(b)
}

// Decode parses a WAV file held in memory and returns its samples.
func Decode(b []byte) ([]int16, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF/WAVE header", ErrMalformed)
	}
	var (
		f       *format
		payload []byte
	)
	for rest := b[12:]; len(rest) > 0 && payload == nil; {
		id, body, next, err := chunk(rest)
		if err != nil {
			return nil, err
		}
		switch id {
		case "fmt ":
			if f, err = parseFormat(body); err != nil {
				return nil, err
			}
		case "data":
			if f == nil {
				return nil, fmt.Errorf("%w: data chunk before fmt chunk", ErrMalformed)
			}
			payload = body
		}
		rest = next
	}
	if f == nil {
		return nil, fmt.Errorf("%w: no fmt chunk", ErrMalformed)
	}
	if payload == nil {
		return nil, fmt.Errorf("%w: no data chunk", ErrMalformed)
	}
	return samples(f, payload)
}

// chunk splits off one RIFF chunk: its id, its body and what follows it
// (chunks are padded to an even size).
func chunk(b []byte) (id string, body, rest []byte, err error) {
	if len(b) < 8 {
		return "", nil, nil, fmt.Errorf("%w: truncated chunk header", ErrMalformed)
	}
	id = string(b[0:4])
	size := int64(binary.LittleEndian.Uint32(b[4:8]))
	b = b[8:]
	if size > int64(len(b)) {
		if id != "data" {
			return "", nil, nil, fmt.Errorf("%w: %q chunk of %d bytes exceeds file", ErrMalformed, id, size)
		}
		// Streaming writers (e.g. sox to a pipe) leave a placeholder size;
		// take what is there.
		size = int64(len(b))
	}
	body, rest = b[:size], b[size:]
	if size%2 == 1 && len(rest) > 0 {
		rest = rest[1:]
	}
	return id, body, rest, nil
}

func parseFormat(b []byte) (*format, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("%w: fmt chunk of %d bytes", ErrMalformed, len(b))
	}
	f := &format{
		tag:      binary.LittleEndian.Uint16(b[0:2]),
		channels: binary.LittleEndian.Uint16(b[2:4]),
		rate:     binary.LittleEndian.Uint32(b[4:8]),
		bits:     binary.LittleEndian.Uint16(b[14:16]),
	}
	if f.tag == formatExtensible {
		// WAVE_FORMAT_EXTENSIBLE: the real tag is the first two bytes of the
		// sub-format GUID at offset 24.
		if len(b) < 26 {
			return nil, fmt.Errorf("%w: short extensible fmt chunk", ErrMalformed)
		}
		f.tag = binary.LittleEndian.Uint16(b[24:26])
	}
	return f, f.check()
}

func (f *format) check() error {
	if f.channels != 1 {
		return fmt.Errorf("%w: %d channels, want mono", ErrUnsupported, f.channels)
	}
	if f.rate != SampleRate {
		return fmt.Errorf("%w: %d Hz, want %d Hz", ErrUnsupported, f.rate, SampleRate)
	}
	switch {
	case f.tag == formatPCM && f.bits == 16:
	case (f.tag == formatUlaw || f.tag == formatAlaw) && f.bits == 8:
	default:
		return fmt.Errorf("%w: encoding %d with %d bits, want 16-bit PCM, μ-law or A-law", ErrUnsupported, f.tag, f.bits)
	}
	return nil
}

func samples(f *format, data []byte) ([]int16, error) {
	switch f.tag {
	case formatUlaw:
		return g711.DecodeUlaw(make([]int16, 0, len(data)), data), nil
	case formatAlaw:
		return g711.DecodeAlaw(make([]int16, 0, len(data)), data), nil
	}
	if len(data)%2 != 0 {
		data = data[:len(data)-1] // a torn last sample
	}
	out := make([]int16, len(data)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
	}
	return out, nil
}

// Write writes pcm as a mono 8 kHz 16-bit PCM WAV file.
func Write(w io.Writer, pcm []int16) error {
	if _, err := w.Write(Encode(pcm)); err != nil {
		return fmt.Errorf("wav: write: %w", err)
	}
	return nil
}

// Encode returns pcm as the bytes of a mono 8 kHz 16-bit PCM WAV file.
func Encode(pcm []int16) []byte {
	dataLen := 2 * len(pcm)
	var buf bytes.Buffer
	buf.Grow(44 + dataLen)
	le := func(v any) { _ = binary.Write(&buf, binary.LittleEndian, v) }
	buf.WriteString("RIFF")
	le(uint32(36 + dataLen))
	buf.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(formatPCM))
	le(uint16(1))              // channels
	le(uint32(SampleRate))     // sample rate
	le(uint32(SampleRate * 2)) // byte rate
	le(uint16(2))              // block align
	le(uint16(16))             // bits per sample
	buf.WriteString("data")
	le(uint32(dataLen))
	le(pcm)
	return buf.Bytes()
}

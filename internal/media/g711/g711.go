// Package g711 implements ITU-T G.711 μ-law and A-law companding between
// 16-bit linear PCM and 8-bit code words, as used by RTP payload types 0
// (PCMU) and 8 (PCMA).
//
// The algorithms follow the reference implementation published with
// ITU-T G.711 (Sun Microsystems' g711.c): μ-law works on 14-bit and A-law on
// 13-bit magnitudes, so the low bits of a 16-bit sample are discarded.
package g711

const (
	signBit   = 0x80
	quantMask = 0x0f
	segShift  = 4
	segMask   = 0x70
	ulawBias  = 0x84 // added to the magnitude before μ-law segment search
	ulawClip  = 8159 // largest 14-bit magnitude μ-law can represent
)

// Segment end points for the segment search of each law.
var (
	ulawSegEnd = [8]int{0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff}
	alawSegEnd = [8]int{0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff}
)

// Decoding tables: 256 entries each, filled once at start.
var (
	ulawToLinear [256]int16
	alawToLinear [256]int16
)

func init() {
	for i := range 256 {
		ulawToLinear[i] = ulawDecode(byte(i))
		alawToLinear[i] = alawDecode(byte(i))
	}
}

func segment(v int, ends *[8]int) int {
	for i, end := range ends {
		if v <= end {
			return i
		}
	}
	return len(ends)
}

// UlawFromLinear encodes one 16-bit linear sample as a μ-law code word.
func UlawFromLinear(sample int16) byte {
	v := int(sample) >> 2
	mask := byte(0xff)
	if v < 0 {
		v = -v
		mask = 0x7f
	}
	if v > ulawClip {
		v = ulawClip
	}
	v += ulawBias >> 2
	seg := segment(v, &ulawSegEnd)
	if seg >= 8 {
		return 0x7f ^ mask
	}
	u := byte(seg<<4) | byte((v>>(seg+1))&quantMask)
	return u ^ mask
}

// LinearFromUlaw decodes one μ-law code word to a 16-bit linear sample.
func LinearFromUlaw(u byte) int16 { return ulawToLinear[u] }

func ulawDecode(u byte) int16 {
	u = ^u
	t := (int(u&quantMask) << 3) + ulawBias
	t <<= (u & segMask) >> segShift
	if u&signBit != 0 {
		return int16(ulawBias - t)
	}
	return int16(t - ulawBias)
}

// AlawFromLinear encodes one 16-bit linear sample as an A-law code word.
func AlawFromLinear(sample int16) byte {
	v := int(sample) >> 3
	mask := byte(0xd5)
	if v < 0 {
		mask = 0x55
		v = -v - 1
	}
	seg := segment(v, &alawSegEnd)
	if seg >= 8 {
		return 0x7f ^ mask
	}
	a := byte(seg << 4)
	if seg < 2 {
		a |= byte((v >> 1) & quantMask)
	} else {
		a |= byte((v >> seg) & quantMask)
	}
	return a ^ mask
}

// LinearFromAlaw decodes one A-law code word to a 16-bit linear sample.
func LinearFromAlaw(a byte) int16 { return alawToLinear[a] }

func alawDecode(a byte) int16 {
	a ^= 0x55
	t := int(a&quantMask) << 4
	seg := int(a&segMask) >> segShift
	switch seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&signBit != 0 {
		return int16(t)
	}
	return int16(-t)
}

// EncodeUlaw appends the μ-law encoding of pcm to dst and returns the result.
func EncodeUlaw(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		dst = append(dst, UlawFromLinear(s))
	}
	return dst
}

// DecodeUlaw appends the linear samples of the μ-law bytes src to dst.
func DecodeUlaw(dst []int16, src []byte) []int16 { return decode(dst, src, &ulawToLinear) }

// EncodeAlaw appends the A-law encoding of pcm to dst and returns the result.
func EncodeAlaw(dst []byte, pcm []int16) []byte {
	for _, s := range pcm {
		dst = append(dst, AlawFromLinear(s))
	}
	return dst
}

// DecodeAlaw appends the linear samples of the A-law bytes src to dst.
func DecodeAlaw(dst []int16, src []byte) []int16 { return decode(dst, src, &alawToLinear) }

// decode appends table[b] for each byte b of src to dst.
func decode(dst []int16, src []byte, table *[256]int16) []int16 {
	for _, b := range src {
		dst = append(dst, table[b])
	}
	return dst
}

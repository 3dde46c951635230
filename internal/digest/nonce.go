package digest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"
	"sync/atomic"
	"time"
)

// Nonce errors.
var (
	ErrInvalid = errors.New("nonce invalid")
	ErrStale   = errors.New("nonce stale")
	ErrReplay  = errors.New("nonce count replayed")
)

// nonceLen is the raw length: 8 bytes issue time, 8 bytes counter, 16 bytes MAC.
const nonceLen = 32

// Nonces issues and checks stateless digest nonces: each nonce carries its
// issue time and a serial number, authenticated with an HMAC under a key that
// lives only in this process, so issuing one costs no memory. The HMAC also
// covers the binding the nonce was issued to (transport and source address
// of the request it challenged), so a nonce only passes check from there: a
// blind spoofer cannot answer a challenge sent to the address it forges, and
// a failure is counted against an address only for its own nonces.
//
// The highest nonce-count answered per nonce (to refuse replays) lives in a
// fixed ring indexed by the serial, as Kamailio's nc array: issuing serial s
// clears slot s mod len(ring), and a nonce issued ring-length serials or
// more before the last one has lost its slot and is refused (the client is
// challenged again). The memory is bounded whatever the rate (a map of the
// answered nonces grew with it: 20–35 MB at 10,000 registrations/s, issue
// 18) and no lock is taken: the slots are atomic.
type Nonces struct {
	key    []byte
	macs   sync.Pool // of keyed HMAC-SHA256 (hash.Hash)
	ttl    time.Duration
	serial atomic.Uint64 // the last serial issued
	ring   uint64        // slots, a power of two
	chunks []atomic.Pointer[countChunk]
}

// countChunk is a part of the ring, allocated when first used: a store
// issuing few nonces (provisioning) keeps one, not 4 MB.
type countChunk [chunkSlots]atomic.Uint32

const chunkSlots = 4096

// RingSize is the number of nonces whose counts are kept: at 10,000
// challenges a second a nonce keeps its slot for 104 s, longer than the
// registrar's 30 s nonce TTL; 4 MB once all are in use.
const RingSize = 1 << 20

// NewNonces returns a nonce store whose nonces pass Check for ttl.
func NewNonces(ttl time.Duration) (*Nonces, error) {
	return newNonces(ttl, RingSize)
}

func newNonces(ttl time.Duration, ring int) (*Nonces, error) {
	if ring <= 0 || ring&(ring-1) != 0 {
		return nil, fmt.Errorf("nonce ring size %d: not a power of two", ring)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("nonce key: %w", err)
	}
	return &Nonces{key: key, ttl: ttl, ring: uint64(ring), chunks: make([]atomic.Pointer[countChunk], (ring+chunkSlots-1)/chunkSlots)}, nil
}

// count is the ring slot of serial.
func (n *Nonces) count(serial uint64) *atomic.Uint32 {
	i := serial & (n.ring - 1)
	ch := &n.chunks[i/chunkSlots]
	c := ch.Load()
	if c == nil {
		c = new(countChunk)
		if !ch.CompareAndSwap(nil, c) {
			c = ch.Load()
		}
	}
	return &c[i%chunkSlots]
}

// Issue returns a fresh nonce for time now, valid only for bind (see
// Binding).
func (n *Nonces) Issue(now time.Time, bind string) string {
	var raw [nonceLen]byte
	binary.BigEndian.PutUint64(raw[0:8], uint64(now.UnixNano()))
	serial := n.serial.Add(1)
	// The slot is cleared after the serial moved on: a count written for
	// the slot's previous nonce meanwhile is refused by Use's second look.
	n.count(serial).Store(0)
	binary.BigEndian.PutUint64(raw[8:16], serial)
	var m [16]byte
	n.mac(&m, raw[:16], bind)
	copy(raw[16:], m[:])
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// mac returns the first 16 bytes of the HMAC of b and bind in out. The
// keyed hashes are pooled: a new one costs five allocations and two
// SHA-256 blocks, twice per registration (issue 18).
func (n *Nonces) mac(out *[16]byte, b []byte, bind string) {
	h, _ := n.macs.Get().(hash.Hash)
	if h == nil {
		h = hmac.New(sha256.New, n.key)
	} else {
		h.Reset()
	}
	h.Write(b)
	h.Write([]byte(bind))
	var sum [sha256.Size]byte
	copy(out[:], h.Sum(sum[:0]))
	n.macs.Put(h)
}

// Check verifies that nonce was issued by this process, to bind, and has
// not expired, and returns its serial. It returns ErrStale for a genuine but expired
// nonce (the client should retry with a new one, RFC 7616 3.3 stale=true) and
// ErrInvalid for anything else.
func (n *Nonces) Check(nonce string, now time.Time, bind string) (uint64, error) {
	if base64.RawURLEncoding.DecodedLen(len(nonce)) != nonceLen {
		return 0, ErrInvalid
	}
	var raw [nonceLen]byte
	if _, err := base64.RawURLEncoding.Decode(raw[:], []byte(nonce)); err != nil {
		return 0, ErrInvalid
	}
	var m [16]byte
	n.mac(&m, raw[:16], bind)
	if !hmac.Equal(raw[16:], m[:]) {
		return 0, ErrInvalid
	}
	serial := binary.BigEndian.Uint64(raw[8:16])
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(raw[0:8])))
	if now.Sub(issued) > n.ttl || issued.Sub(now) > time.Minute {
		return serial, ErrStale
	}
	return serial, nil
}

// Use records nonce-count nc for the checked, unexpired nonce with this
// serial. A count not higher than one already seen is a replay; a nonce
// that lost its slot in the ring (RingSize nonces issued since) is
// refused as one (ErrReplay): its counts are no longer known.
func (n *Nonces) Use(serial uint64, nc uint32) error {
	if nc == 0 || !n.inRing(serial) {
		return ErrReplay
	}
	slot := n.count(serial)
	for {
		seen := slot.Load()
		if nc <= seen {
			return ErrReplay
		}
		if slot.CompareAndSwap(seen, nc) {
			break
		}
	}
	// Issued again meanwhile (the slot cleared for a newer nonce): what
	// was written may have replaced the newer nonce's count of 0 only.
	if !n.inRing(serial) {
		return ErrReplay
	}
	return nil
}

// inRing reports whether serial still owns its slot.
func (n *Nonces) inRing(serial uint64) bool {
	last := n.serial.Load()
	return serial != 0 && serial <= last && last-serial < n.ring
}

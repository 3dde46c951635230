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
// a failure is counted against an address only for its own nonces. Only nonces that
// were actually answered are remembered, as serial → highest nonce-count (to
// refuse replays), in two generations that rotate every ttl+1m, so an entry
// lives at least as long as its nonce can pass check and costs ~16 bytes.
type Nonces struct {
	key    []byte
	macs   sync.Pool // of keyed HMAC-SHA256 (hash.Hash)
	ttl    time.Duration
	serial atomic.Uint64

	mu       sync.Mutex
	cur      map[uint64]uint32
	prev     map[uint64]uint32
	curStart time.Time
}

// NewNonces returns a nonce store whose nonces pass Check for ttl.
func NewNonces(ttl time.Duration) (*Nonces, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("nonce key: %w", err)
	}
	return &Nonces{key: key, ttl: ttl, cur: make(map[uint64]uint32), prev: make(map[uint64]uint32)}, nil
}

// Issue returns a fresh nonce for time now, valid only for bind (see
// Binding).
func (n *Nonces) Issue(now time.Time, bind string) string {
	var raw [nonceLen]byte
	binary.BigEndian.PutUint64(raw[0:8], uint64(now.UnixNano()))
	binary.BigEndian.PutUint64(raw[8:16], n.serial.Add(1))
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
// serial. A count not higher than one already seen is a replay.
func (n *Nonces) Use(serial uint64, nc uint32) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	seen, ok := n.cur[serial]
	if !ok {
		seen, ok = n.prev[serial]
	}
	if ok && nc <= seen {
		return ErrReplay
	}
	n.cur[serial] = nc
	return nil
}

// Sweep rotates the generations once the current one is ttl+1m old, which
// forgets counts of nonces that can no longer pass check.
func (n *Nonces) Sweep(now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.curStart.IsZero() {
		n.curStart = now
	}
	if now.Sub(n.curStart) < n.ttl+time.Minute {
		return
	}
	n.prev, n.cur, n.curStart = n.cur, make(map[uint64]uint32), now
}

// Tracked is the number of remembered nonces (for tests and metrics).
func (n *Nonces) Tracked() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.cur) + len(n.prev)
}

package registrar

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Nonce errors.
var (
	errNonceInvalid = errors.New("nonce invalid")
	errNonceStale   = errors.New("nonce stale")
	errNonceReplay  = errors.New("nonce count replayed")
)

// nonceLen is the raw length: 8 bytes issue time, 8 bytes counter, 16 bytes MAC.
const nonceLen = 32

// nonces issues and checks stateless digest nonces: each nonce carries its
// issue time and a serial number, authenticated with an HMAC under a key that
// lives only in this process, so issuing one costs no memory. Only nonces that
// were actually answered are remembered (their highest nonce-count, to refuse
// replays) until they expire.
type nonces struct {
	key    []byte
	ttl    time.Duration
	serial atomic.Uint64

	mu   sync.Mutex
	seen map[string]nonceUse
}

type nonceUse struct {
	nc      uint32
	expires time.Time
}

func newNonces(ttl time.Duration) (*nonces, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("nonce key: %w", err)
	}
	return &nonces{key: key, ttl: ttl, seen: make(map[string]nonceUse)}, nil
}

// issue returns a fresh nonce for time now.
func (n *nonces) issue(now time.Time) string {
	var raw [nonceLen]byte
	binary.BigEndian.PutUint64(raw[0:8], uint64(now.UnixNano()))
	binary.BigEndian.PutUint64(raw[8:16], n.serial.Add(1))
	copy(raw[16:], n.mac(raw[:16]))
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

func (n *nonces) mac(b []byte) []byte {
	h := hmac.New(sha256.New, n.key)
	h.Write(b)
	return h.Sum(nil)[:16]
}

// check verifies that nonce was issued by this process and has not expired.
// It returns errNonceStale for a genuine but expired nonce (the client should
// retry with a new one, RFC 7616 3.3 stale=true) and errNonceInvalid for
// anything else.
func (n *nonces) check(nonce string, now time.Time) error {
	if base64.RawURLEncoding.DecodedLen(len(nonce)) != nonceLen {
		return errNonceInvalid
	}
	var raw [nonceLen]byte
	if _, err := base64.RawURLEncoding.Decode(raw[:], []byte(nonce)); err != nil {
		return errNonceInvalid
	}
	if !hmac.Equal(raw[16:], n.mac(raw[:16])) {
		return errNonceInvalid
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(raw[0:8])))
	if now.Sub(issued) > n.ttl || issued.Sub(now) > time.Minute {
		return errNonceStale
	}
	return nil
}

// use records nonce-count nc for a checked nonce issued at most ttl ago. A
// count not higher than one already seen for the nonce is a replay.
func (n *nonces) use(nonce string, nc uint32, now time.Time) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if u, ok := n.seen[nonce]; ok && nc <= u.nc {
		return errNonceReplay
	}
	n.seen[nonce] = nonceUse{nc: nc, expires: now.Add(n.ttl + time.Minute)}
	return nil
}

// sweep forgets counts of nonces that can no longer pass check.
func (n *nonces) sweep(now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for k, u := range n.seen {
		if now.After(u.expires) {
			delete(n.seen, k)
		}
	}
}

// tracked is the number of remembered nonces (for tests and metrics).
func (n *nonces) tracked() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.seen)
}

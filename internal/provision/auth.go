package provision

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/icholy/digest"
)

// nonceTTL is how long a challenge nonce is accepted; an older one that
// carries the right password gets a stale=true challenge (RFC 7616 3.3).
const nonceTTL = 5 * time.Minute

// nonces issues stateless HMAC-signed nonces carrying their issue time and
// remembers, only for answered nonces, the highest nonce-count seen, so a
// captured Authorization header cannot be replayed. As in the registrar, the
// HMAC covers the client address the nonce was sent to, and a nonce passes
// only from there, so a failure counts against an address only for its own
// nonces. (Over TCP a forged source cannot complete a request anyway; the
// binding keeps one rule for both digest servers until issue 12 merges
// them.)
type nonces struct {
	key []byte

	mu   sync.Mutex
	seen map[string]nonceUse
}

type nonceUse struct {
	nc      int
	expires time.Time
}

func newNonces() (*nonces, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("nonce key: %w", err)
	}
	return &nonces{key: key, seen: make(map[string]nonceUse)}, nil
}

func (n *nonces) issue(now time.Time, bind string) string {
	var raw [8 + 8 + 16]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(now.UnixNano()))
	_, _ = rand.Read(raw[8:16])
	copy(raw[16:], n.mac(raw[:16], bind))
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

func (n *nonces) mac(b []byte, bind string) []byte {
	m := hmac.New(sha256.New, n.key)
	m.Write(b)
	m.Write([]byte(bind))
	return m.Sum(nil)[:16]
}

// check reports whether nonce was issued here to bind, and whether it is
// still fresh.
func (n *nonces) check(nonce string, now time.Time, bind string) (valid, fresh bool) {
	raw, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(raw) != 32 || !hmac.Equal(raw[16:], n.mac(raw[:16], bind)) {
		return false, false
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(raw[:8])))
	return true, now.Sub(issued) <= nonceTTL && !issued.After(now.Add(time.Minute))
}

// use records nonce-count nc for nonce and reports false on a replay. A
// client without qop sends no count (0); it may reuse the nonce until stale.
func (n *nonces) use(nonce string, nc int, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.seen) > 10_000 {
		for k, u := range n.seen {
			if now.After(u.expires) {
				delete(n.seen, k)
			}
		}
	}
	u, ok := n.seen[nonce]
	if ok && nc != 0 && nc <= u.nc {
		return false
	}
	n.seen[nonce] = nonceUse{nc: nc, expires: now.Add(nonceTTL + time.Minute)}
	return true
}

// challenges returns the WWW-Authenticate values: MD5 first, since most
// desk phones take the first challenge and know only MD5, then SHA-256.
func (s *Server) challenges(stale bool, now time.Time, bind string) []string {
	nonce := s.nonces.issue(now, bind)
	var out []string
	for _, alg := range []string{"MD5", "SHA-256"} {
		c := digest.Challenge{Realm: s.opts.Realm, Nonce: nonce, Algorithm: alg, QOP: []string{"auth"}, Stale: stale}
		out = append(out, c.String())
	}
	return out
}

// authResult is the outcome of checking a request's digest credentials.
type authResult int

const (
	authOK        authResult = iota
	authChallenge            // no usable credentials: challenge, not a failure
	authStale                // right password on an expired nonce
	authFailed               // wrong user or password: counted
	authMalformed            // unparseable header: 400
)

// checkDigest verifies r's Authorization header against device d's own
// SIP credentials. Credentials of any other device are refused.
func (s *Server) checkDigest(r *http.Request, d *hotdesk.Device, now time.Time) authResult {
	h := r.Header.Get("Authorization")
	if h == "" || !digest.IsDigest(h) {
		return authChallenge
	}
	c, err := digest.ParseCredentials(h)
	if err != nil || c.URI != r.URL.RequestURI() {
		return authMalformed
	}
	alg := strings.ToUpper(c.Algorithm)
	if alg != "" && alg != "MD5" && alg != "SHA-256" || c.QOP != "" && c.QOP != "auth" || c.Userhash {
		return authChallenge
	}
	valid, fresh := s.nonces.check(c.Nonce, now, hostOf(r.RemoteAddr))
	if !valid {
		return authChallenge // e.g. issued before a restart
	}
	if c.Username != d.ID || c.Realm != s.opts.Realm || d.SIPPassword == "" {
		return authFailed
	}
	var qop []string
	if c.QOP != "" {
		qop = []string{c.QOP}
	}
	want, err := digest.Digest(&digest.Challenge{Realm: c.Realm, Nonce: c.Nonce, Algorithm: c.Algorithm, QOP: qop, Opaque: c.Opaque},
		digest.Options{Method: r.Method, URI: c.URI, Username: d.ID, Password: d.SIPPassword, Cnonce: c.Cnonce, Count: c.Nc})
	if err != nil || subtle.ConstantTimeCompare([]byte(strings.ToLower(c.Response)), []byte(want.Response)) != 1 {
		return authFailed
	}
	if !fresh {
		return authStale
	}
	if !s.nonces.use(c.Nonce, c.Nc, now) {
		return authChallenge
	}
	return authOK
}

// limiter blocks a source IP for blockFor after max failures within window.
type limiter struct {
	max      int
	window   time.Duration
	blockFor time.Duration

	mu  sync.Mutex
	src map[string]*failures
}

type failures struct {
	count        int
	start        time.Time
	blockedUntil time.Time
}

func newLimiter(max int, window, blockFor time.Duration) *limiter {
	return &limiter{max: max, window: window, blockFor: blockFor, src: make(map[string]*failures)}
}

// hostOf strips the port from an ip:port source.
func hostOf(src string) string {
	if h, _, err := net.SplitHostPort(src); err == nil {
		return h
	}
	return src
}

// blocked returns how long ip stays blocked (0: not blocked).
func (l *limiter) blocked(ip string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.src[ip]; f != nil && now.Before(f.blockedUntil) {
		return f.blockedUntil.Sub(now)
	}
	return 0
}

// fail counts a failure and reports whether it blocked ip.
func (l *limiter) fail(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.src) > 100_000 {
		l.pruneLocked(now)
	}
	f := l.src[ip]
	if f == nil || now.Sub(f.start) > l.window && !now.Before(f.blockedUntil) {
		f = &failures{start: now}
		l.src[ip] = f
	}
	f.count++
	if f.count >= l.max && !now.Before(f.blockedUntil) {
		f.blockedUntil = now.Add(l.blockFor)
		f.count, f.start = 0, f.blockedUntil
		return true
	}
	return false
}

func (l *limiter) pruneLocked(now time.Time) {
	for ip, f := range l.src {
		if now.Sub(f.start) > l.window && !now.Before(f.blockedUntil) {
			delete(l.src, ip)
		}
	}
}

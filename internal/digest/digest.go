// Package digest is the one digest authentication of Hotdesk PBX (RFC 7616,
// RFC 8760), used by the SIP registrar (REGISTER and 407 challenges) and by
// provisioning (HTTP). It holds the nonce store (stateless nonces bound to
// the transport and source address they were sent to), the replay rule,
// the algorithm order from one setting (--digest, default MD5), the
// challenge headers, and the check itself: constant-time compare, and a
// dummy HA1 for unknown users so they cost the same work as a wrong
// password.
package digest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/icholy/digest"
)

// Algorithm names as they appear in challenges and credentials.
const (
	MD5    = "MD5"
	SHA256 = "SHA-256"
)

// CheckAlgorithms returns algs (default MD5 alone) after checking each is
// supported. The order is the order of preference of the challenges.
func CheckAlgorithms(algs []string) ([]string, error) {
	if len(algs) == 0 {
		return []string{MD5}, nil
	}
	for _, a := range algs {
		if a != MD5 && a != SHA256 {
			return nil, fmt.Errorf("unsupported digest algorithm %q", a)
		}
	}
	return algs, nil
}

// Host strips the port from an ip:port address.
func Host(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// Binding is what a nonce is bound to: the transport and source address
// (without port: a phone may answer from another port, e.g. over a new TCP
// connection) of the request it challenged.
func Binding(transport, addr string) string {
	return strings.ToUpper(transport) + " " + Host(addr)
}

// HA1 holds a user's HA1 values, never the password itself.
type HA1 struct {
	MD5, SHA256 string
	// Known is false for a user that does not exist (or may not use
	// digest): its values come from a password nobody knows.
	Known bool
}

// NewHA1 computes the HA1 values of user in realm with password.
func NewHA1(user, realm, password string) HA1 {
	return HA1{MD5: hashHex(false, user, realm, password), SHA256: hashHex(true, user, realm, password), Known: true}
}

func (h HA1) of(alg string) string {
	if alg == SHA256 {
		return h.SHA256
	}
	return h.MD5
}

// Outcome is the result of checking credentials.
type Outcome int

const (
	OK        Outcome = iota
	Challenge         // no usable credentials or a replay: send a fresh challenge, count nothing
	Stale             // right password on an expired nonce: challenge with stale=true
	Failed            // wrong password or unknown user: a counted failure
	Error             // the secret lookup failed: see the error
)

// Verifier checks digest credentials for one realm.
type Verifier struct {
	realm      string
	algorithms []string
	nonces     *Nonces
	challenges Challenges
	// dummy is a random password only this process knows: an unknown
	// user gets HA1 values from it, so checking its digest does the same
	// work as a wrong password for a known one (equal timing) and never
	// matches.
	dummy string
}

// NewVerifier returns a verifier for realm that challenges algs in that
// order (see CheckAlgorithms) with nonces valid for nonceTTL.
func NewVerifier(realm string, algs []string, nonceTTL time.Duration) (*Verifier, error) {
	algs, err := CheckAlgorithms(algs)
	if err != nil {
		return nil, err
	}
	n, err := NewNonces(nonceTTL)
	if err != nil {
		return nil, err
	}
	var dummy [24]byte
	if _, err := rand.Read(dummy[:]); err != nil {
		return nil, fmt.Errorf("digest: %w", err)
	}
	return &Verifier{realm: realm, algorithms: algs, nonces: n,
		challenges: NewChallenges(realm, algs), dummy: hex.EncodeToString(dummy[:])}, nil
}

// Nonces is the verifier's nonce store.
func (v *Verifier) Nonces() *Nonces { return v.nonces }

// Unknown returns HA1 values for a user that does not exist: from the
// process's dummy password, Known false.
func (v *Verifier) Unknown(user string) HA1 {
	h := NewHA1(user, v.realm, v.dummy)
	h.Known = false
	return h
}

// Secret returns user's HA1 values for the algorithms this verifier
// offers only (a cache of many devices keeps no value it never checks):
// from password when known, else from the process's dummy password like
// Unknown. Both cases do the same work.
func (v *Verifier) Secret(user, password string, known bool) HA1 {
	if !known {
		password = v.dummy
	}
	h := HA1{Known: known}
	for _, alg := range v.algorithms {
		if alg == SHA256 {
			h.SHA256 = hashHex(true, user, v.realm, password)
		} else {
			h.MD5 = hashHex(false, user, v.realm, password)
		}
	}
	return h
}

// Challenges returns the challenge header values (WWW-Authenticate or
// Proxy-Authenticate) for a fresh nonce bound to bind: one per algorithm in
// order of preference, each with qop=auth, all with one nonce.
func (v *Verifier) Challenges(bind string, stale bool, now time.Time) []string {
	return v.challenges.Headers(v.nonces.Issue(now, bind), stale)
}

// Check verifies credentials c for a request with method that came from
// bind. secret returns the user's HA1 values (Unknown for a user that does
// not exist); its error makes the outcome Error. The rules, the same for
// SIP and HTTP:
//   - userhash, a missing username, an algorithm not offered, a qop other
//     than auth, or a nonce not issued to bind: Challenge (no failure);
//   - known and unknown users take the same path: the response is computed
//     and compared in constant time either way; a mismatch or an unknown
//     user is Failed;
//   - the right password on an expired nonce is Stale;
//   - each nonce-count is accepted once and only upwards (qop=auth needs a
//     cnonce and nc > 0); without qop the nonce is single-use.
func (v *Verifier) Check(c *digest.Credentials, method, bind string, now time.Time, secret func(user string) (HA1, error)) (Outcome, error) {
	if c == nil || c.Userhash || c.Username == "" {
		return Challenge, nil
	}
	alg := strings.ToUpper(c.Algorithm)
	if alg == "" {
		alg = MD5
	}
	if !slices.Contains(v.algorithms, alg) {
		return Challenge, nil
	}
	nc := uint32(c.Nc)
	switch {
	case c.QOP == "auth" && c.Cnonce != "" && c.Nc > 0:
	case c.QOP == "" && c.Cnonce == "": // RFC 2069 style; the nonce becomes single-use
		nc = 1
	default:
		return Challenge, nil
	}
	serial, nonceErr := v.nonces.Check(c.Nonce, now, bind)
	if nonceErr == ErrInvalid {
		// Not a nonce we gave this address (forged, a spoofed source, or
		// issued before a restart): challenge, and count nothing.
		return Challenge, nil
	}
	h, err := secret(c.Username)
	if err != nil {
		return Error, err
	}
	want, err := Response(method, c, h.of(alg))
	match := subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(c.Response))) == 1
	if err != nil || !match || !h.Known || c.Realm != v.realm {
		return Failed, nil
	}
	if nonceErr != nil {
		return Stale, nil
	}
	if v.nonces.Use(serial, nc) != nil {
		return Challenge, nil
	}
	return OK, nil
}

// Challenges are challenge header values rendered once by
// digest.Challenge.String around a placeholder nonce, so each challenge
// only splices in its nonce.
type Challenges []challengeTemplate

type challengeTemplate struct{ prefix, suffix, staleSuffix string }

// NewChallenges renders the challenges for realm and algs (in order).
func NewChallenges(realm string, algs []string) Challenges {
	const mark = "NONCE-PLACEHOLDER"
	var out Challenges
	for _, alg := range algs {
		c := digest.Challenge{Realm: realm, Nonce: mark, Algorithm: alg, QOP: []string{"auth"}}
		plain := c.String()
		c.Stale = true
		stale := c.String()
		i, j := strings.Index(plain, mark), strings.Index(stale, mark)
		out = append(out, challengeTemplate{prefix: plain[:i], suffix: plain[i+len(mark):], staleSuffix: stale[j+len(mark):]})
	}
	return out
}

// Headers returns one header value per algorithm carrying nonce.
func (cs Challenges) Headers(nonce string, stale bool) []string {
	out := make([]string, len(cs))
	for i, t := range cs {
		suffix := t.suffix
		if stale {
			suffix = t.staleSuffix
		}
		out[i] = t.prefix + nonce + suffix
	}
	return out
}

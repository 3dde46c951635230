package provision

import (
	"net/http"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/digest"
	icdigest "github.com/icholy/digest"
)

// nonceTTL is how long a challenge nonce is accepted; an older one that
// carries the right password gets a stale=true challenge (RFC 7616 3.3).
const nonceTTL = 5 * time.Minute

// authResult is the outcome of checking a request's digest credentials.
type authResult int

const (
	authOK        authResult = iota
	authChallenge            // no usable credentials: challenge, not a failure
	authStale                // right password on an expired nonce
	authFailed               // wrong user or password: counted
	authMalformed            // unparseable header: 400
)

// nonceBinding binds a nonce to the client address it was sent to, as the
// registrar does, so a failure counts against an address only for its own
// nonces.
func nonceBinding(r *http.Request) string { return digest.Binding("HTTP", r.RemoteAddr) }

// checkDigest verifies r's Authorization header against device d's own
// SIP credentials (the rules are internal/digest's, as for SIP). Credentials
// of any other device are refused.
func (s *Server) checkDigest(r *http.Request, d *hotdesk.Device, now time.Time) authResult {
	h := r.Header.Get("Authorization")
	if h == "" || !icdigest.IsDigest(h) {
		return authChallenge
	}
	c, err := digest.ParseCredentials(h)
	if err != nil || c.URI != r.URL.RequestURI() {
		return authMalformed
	}
	out, _ := s.digest.Check(c, r.Method, nonceBinding(r), now, func(user string) (digest.HA1, error) {
		if user != d.ID || d.SIPPassword == "" {
			return s.digest.Unknown(user), nil
		}
		return digest.NewHA1(user, s.opts.Realm, d.SIPPassword), nil
	})
	switch out {
	case digest.OK:
		return authOK
	case digest.Stale:
		return authStale
	case digest.Failed:
		return authFailed
	}
	return authChallenge
}

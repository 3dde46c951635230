package registrar

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/hotdesk-pbx/hotdesk"
	"github.com/icholy/digest"
)

// authOutcome is the result of checking a request's digest credentials.
type authOutcome int

const (
	authOK            authOutcome = iota
	authChallenge                 // no usable credentials: send a fresh challenge
	authStale                     // right password, expired nonce: challenge with stale=true
	authFailed                    // wrong password or unknown user: counted failure
	authMalformed                 // unparseable credentials: 400
	authError                     // the store failed: 500
	authDeviceBlocked             // the device's failure budget is spent: 403 without a check
)

// authHeaders names the headers of one flavour of digest auth: 401 with
// WWW-Authenticate for REGISTER, 407 with Proxy-Authenticate otherwise.
type authHeaders struct {
	status                 int
	reason                 string
	challenge, credentials string
}

var (
	wwwAuth   = authHeaders{sip.StatusUnauthorized, "Unauthorized", "WWW-Authenticate", "Authorization"}
	proxyAuth = authHeaders{sip.StatusProxyAuthRequired, "Proxy Authentication Required", "Proxy-Authenticate", "Proxy-Authorization"}
)

// secret is what the registrar keeps per device to check digests: the HA1
// values, never the password itself.
type secret struct {
	dev     *hotdesk.Device // nil: no such device
	ha1MD5  string
	ha1SHA  string
	fetched time.Time
}

// secrets caches device credentials for a short TTL so a burst of
// registrations does not hit the database once per REGISTER, while a changed
// or deleted device takes effect within the TTL.
type secrets struct {
	store hotdesk.Store
	realm string
	ttl   time.Duration
	// dummy is a random password only this process knows: an unknown
	// device gets HA1 values from it, so checking its digest does the same
	// work as a wrong password for a known one (equal timing) and never
	// matches.
	dummy string

	mu sync.Mutex
	m  map[string]*secret
}

const maxCachedSecrets = 200_000

func (c *secrets) get(ctx context.Context, user string, now time.Time) (*secret, error) {
	c.mu.Lock()
	s := c.m[user]
	c.mu.Unlock()
	if s != nil && now.Sub(s.fetched) < c.ttl {
		return s, nil
	}
	d, err := c.store.FindDevice(ctx, user)
	if err != nil && hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		return nil, err
	}
	s = &secret{fetched: now}
	password := c.dummy
	if err == nil {
		s.dev, password = d, d.SIPPassword
	}
	s.ha1MD5 = hashHex(md5.New(), user, c.realm, password)
	s.ha1SHA = hashHex(sha256.New(), user, c.realm, password)
	c.mu.Lock()
	if len(c.m) >= maxCachedSecrets {
		clear(c.m)
	}
	c.m[user] = s
	c.mu.Unlock()
	return s, nil
}

// sweep drops entries older than the TTL.
func (c *secrets) sweep(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, s := range c.m {
		if now.Sub(s.fetched) >= c.ttl {
			delete(c.m, k)
		}
	}
}

// forget drops one device (after a failed check, so a just-changed password
// is picked up on the client's retry).
func (c *secrets) forget(user string) {
	c.mu.Lock()
	delete(c.m, user)
	c.mu.Unlock()
}

// findCredentials returns the first Digest credentials for our realm.
func findCredentials(req *sip.Request, name, realm string) (*digest.Credentials, error) {
	var firstErr error
	for _, h := range req.GetHeaders(name) {
		if !digest.IsDigest(h.Value()) {
			continue
		}
		c, err := parseCredentials(h.Value())
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if c.Realm == realm {
			return c, nil
		}
	}
	return nil, firstErr
}

// expectedResponse computes the digest response the client should have sent.
func expectedResponse(method string, c *digest.Credentials, ha1 string) (string, error) {
	alg := strings.ToUpper(c.Algorithm)
	switch {
	case alg != "" && alg != "MD5" && alg != "SHA-256":
		return "", errors.New("unsupported algorithm")
	case c.QOP != "" && c.QOP != "auth":
		return "", errors.New("unsupported qop")
	}
	return digestResponse(hashFor(alg), method, c, ha1), nil
}

// checkDigest verifies the request's credentials in header kind. It returns
// the device on authOK and the claimed username whenever there was one.
func (r *Registrar) checkDigest(ctx context.Context, req *sip.Request, kind authHeaders, now time.Time) (*hotdesk.Device, string, authOutcome, error) {
	c, err := findCredentials(req, kind.credentials, r.opts.Realm)
	if err != nil {
		return nil, "", authMalformed, nil
	}
	if c == nil || c.Userhash || c.Username == "" {
		return nil, "", authChallenge, nil
	}
	alg := strings.ToUpper(c.Algorithm)
	if alg == "" {
		alg = "MD5"
	}
	if !slices.Contains(r.opts.Algorithms, alg) {
		return nil, c.Username, authChallenge, nil
	}
	var ha1 func(*secret) string
	switch alg {
	case "MD5":
		ha1 = func(s *secret) string { return s.ha1MD5 }
	case "SHA-256":
		ha1 = func(s *secret) string { return s.ha1SHA }
	default:
		return nil, c.Username, authChallenge, nil
	}
	switch {
	case c.QOP == "auth" && c.Cnonce != "" && c.Nc > 0:
	case c.QOP == "" && c.Cnonce == "": // RFC 2069 style; nonce becomes single-use
		c.Nc = 1
	default:
		return nil, c.Username, authChallenge, nil
	}
	serial, nonceErr := r.nonces.check(c.Nonce, now, nonceBinding(req))
	if errors.Is(nonceErr, errNonceInvalid) {
		// Not a nonce we gave this address (forged, or a spoofed source):
		// challenge, and count nothing against anyone.
		return nil, c.Username, authChallenge, nil
	}
	if !r.devLimiter.allow(c.Username, now) {
		return nil, c.Username, authDeviceBlocked, nil
	}
	s, err := r.secrets.get(ctx, c.Username, now)
	if err != nil {
		return nil, c.Username, authError, err
	}
	// Known and unknown devices take the same path: an unknown one has a
	// dummy HA1 (secrets.get), the response is computed and compared in
	// constant time either way, and only then does s.dev decide.
	r.digestChecks.Add(1)
	want, err := expectedResponse(string(req.Method), c, ha1(s))
	match := subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(c.Response))) == 1
	if err != nil || !match || s.dev == nil {
		r.secrets.forget(c.Username)
		return nil, c.Username, authFailed, nil
	}
	if nonceErr != nil {
		return nil, c.Username, authStale, nil
	}
	if err := r.nonces.use(serial, uint32(c.Nc)); err != nil {
		return nil, c.Username, authChallenge, nil
	}
	return s.dev, c.Username, authOK, nil
}

// nonceBinding is what a nonce is bound to: the transport and source
// address (without port: a phone may answer from another port, e.g. over a
// new TCP connection) of the request.
func nonceBinding(req *sip.Request) string {
	return strings.ToUpper(req.Transport()) + " " + hostOf(req.Source())
}

// challenge builds a 401/407 offering Options.Algorithms (by default MD5
// alone; RFC 8760 section 2.4 lists several in order of preference),
// each with qop=auth and all with one nonce.
func (r *Registrar) challenge(req *sip.Request, kind authHeaders, stale bool, now time.Time) *sip.Response {
	res := sip.NewResponseFromRequest(req, kind.status, kind.reason, nil)
	nonce := r.nonces.issue(now, nonceBinding(req))
	for _, tmpl := range r.challenges {
		suffix := tmpl.suffix
		if stale {
			suffix = tmpl.staleSuffix
		}
		res.AppendHeader(sip.NewHeader(kind.challenge, tmpl.prefix+nonce+suffix))
	}
	return res
}

// challengeTemplate is a challenge rendered once by digest.Challenge.String
// around a placeholder nonce, so each 401 only splices in the nonce.
type challengeTemplate struct{ prefix, suffix, staleSuffix string }

func challengeTemplates(realm string, algs []string) []challengeTemplate {
	const mark = "NONCE-PLACEHOLDER"
	var out []challengeTemplate
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

// Authenticate checks digest credentials on a request other than REGISTER
// (INVITE, SUBSCRIBE, INFO, …) with 407 and Proxy-Authenticate. It returns
// the authenticated device and true; when it returns false it has already
// responded (challenge, 403 or error).
func (r *Registrar) Authenticate(req *sip.Request, tx sip.ServerTransaction) (*hotdesk.Device, bool) {
	return r.authenticate(req, tx, proxyAuth)
}

func (r *Registrar) authenticate(req *sip.Request, tx sip.ServerTransaction, kind authHeaders) (*hotdesk.Device, bool) {
	now := r.now()
	// No per-request deadline: a context with a timer per REGISTER cost 8%
	// of the CPU; the store's own timeouts bound a lookup.
	dev, user, out, err := r.checkDigest(context.Background(), req, kind, now)
	src := req.Source()
	switch out {
	case authOK:
		return dev, true
	case authChallenge, authStale:
		r.reply(req, tx, r.challenge(req, kind, out == authStale, now), r.limiter.slow(hostOf(src), now))
	case authMalformed:
		r.reply(req, tx, sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Malformed Credentials", nil), false)
	case authFailed:
		r.authFailure(req, tx, user, src, now)
	case authDeviceBlocked:
		r.reply(req, tx, sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil), r.limiter.slow(hostOf(src), now))
	case authError:
		r.log.Error("sip auth: device lookup", "device", user, "error", err)
		r.reply(req, tx, sip.NewResponseFromRequest(req, sip.StatusInternalServerError, "Server Error", nil), false)
	}
	return nil, false
}

// authFailure counts a failed authentication against the source (whose own
// nonce it answered) and against the claimed device from any source, audits
// a block, and answers 403 (delayed once the source is being slowed down).
func (r *Registrar) authFailure(req *sip.Request, tx sip.ServerTransaction, user, src string, now time.Time) {
	ip := hostOf(src)
	v := r.limiter.fail(ip, now)
	r.log.Info("sip auth failed", "device", user, "source", src, "method", req.Method)
	if v == verdictBlocked {
		r.log.Warn("sip source blocked after repeated auth failures", "source", ip, "for", r.opts.BlockFor)
		r.audit(&hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindAuthBlocked, Device: user, Source: ip,
			Detail: "blocked for " + r.opts.BlockFor.String()})
	}
	if r.devLimiter.fail(user, now) == verdictBlocked {
		// Guesses from rotating addresses, each under BlockAfter.
		r.log.Warn("sip device digest refused after repeated auth failures", "device", user, "source", ip, "for", r.opts.DeviceBlockFor)
		r.audit(&hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindAuthDeviceBlocked, Device: user, Source: ip,
			Detail: fmt.Sprintf("digest refused for %s after %d failures within %s", r.opts.DeviceBlockFor,
				r.opts.DeviceBlockAfter, r.opts.DeviceFailWindow)})
	}
	r.reply(req, tx, sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil), v != verdictCounted)
}

// Allow reports whether packets from src (ip or ip:port) may be processed:
// false while the source is blocked for repeated authentication failures.
// It is cheap when nothing is blocked; use it as signaling's ReadFilter.
func (r *Registrar) Allow(src string) bool {
	if r.limiter.blocked.Load() == 0 {
		return true
	}
	return r.limiter.allow(hostOf(src), r.now())
}

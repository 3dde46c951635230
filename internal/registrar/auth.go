package registrar

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/digest"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/limit"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	icdigest "github.com/icholy/digest"
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

// secret is what the registrar keeps per device to check digests: the
// device id and the HA1 values of the offered algorithms, never the
// password, and nothing else of the device unless a request other than
// REGISTER needed the whole device (Authenticate): a cache of every
// registered phone's whole device cost ~770 bytes each (issue 18).
type secret struct {
	id      string // the device's id; "": no such device
	ha1     digest.HA1
	fetched time.Time
	dev     *hotdesk.Device // nil unless whole was asked for (see get)
}

// secrets caches device credentials for a short TTL so a burst of
// registrations does not hit the database once per REGISTER, while a changed
// or deleted device takes effect within the TTL. While Run follows the
// event bus (watching), a device's entry is dropped as soon as it changes
// (device_changed, from this node or another) and all entries when events
// were lost, so the TTL may then be long (the app's is minutes): a phone's
// refresh, hours apart, finds its credentials without a store round trip.
type secrets struct {
	find func(ctx context.Context, id string) (*hotdesk.Device, error)
	// findSecret reads a device's ID and SIPPassword alone (SecretStore),
	// else the whole device (find).
	findSecret func(ctx context.Context, id string) (*hotdesk.Device, error)
	// findMany reads many devices' secrets at once (SecretsStore; nil:
	// no prefetch); now is the registrar's clock, for prefetch.
	findMany func(ctx context.Context, ids []string) ([]*hotdesk.Device, error)
	now      func() time.Time
	realm    string
	ttl      time.Duration    // while watching
	digest   *digest.Verifier // HA1 values, a dummy one for an unknown device
	pool     lookups          // runs find while Run serves it

	mu sync.Mutex
	// m holds the entries themselves, not pointers: 10,000 entries
	// allocated one by one, each among the garbage of the REGISTER that
	// fetched it, pinned several times their size after a GC (issue 18).
	m        map[string]secret
	gen      uint64 // bumped by every invalidation (see get)
	watching bool
	// sweepAt: when sweep next walks m. sweeps counts the walks.
	sweepAt sweepDue
	sweeps  int
}

// newSecrets is the credential cache of a registrar with options o.
func newSecrets(o Options, v *digest.Verifier) *secrets {
	c := &secrets{find: o.Store.FindDevice, findSecret: o.Store.FindDevice, realm: o.Realm, ttl: o.CacheTTL,
		m: make(map[string]secret), digest: v}
	if ss, ok := o.Store.(SecretStore); ok {
		c.findSecret = ss.DeviceSecret
	}
	if ss, ok := o.Store.(SecretsStore); ok {
		c.findMany, c.now = ss.DeviceSecrets, o.Now
		c.pool.prefetch = c.prefetch
	}
	return c
}

// prefetch caches the credentials of users not cached fresh, read in one
// query (SecretsStore): the first REGISTERs queued together then find
// them cached. On a store error it caches nothing (each looks up alone).
func (c *secrets) prefetch(ctx context.Context, users []string) {
	now := c.now()
	c.mu.Lock()
	gen := c.gen
	ttl := c.ttlLocked()
	need := users[:0:0]
	for _, u := range users {
		if s, ok := c.m[u]; !ok || now.Sub(s.fetched) >= ttl {
			need = append(need, u)
		}
	}
	c.mu.Unlock()
	if len(need) == 0 {
		return
	}
	ds, err := c.findMany(ctx, need)
	if err != nil {
		return
	}
	found := make(map[string]*hotdesk.Device, len(ds))
	for _, d := range ds {
		found[d.ID] = d
	}
	got := make([]secret, len(need))
	for i, u := range need {
		if d := found[u]; d != nil {
			got[i] = secret{fetched: now, id: d.ID, ha1: c.digest.Secret(u, d.SIPPassword, true)}
		} else {
			got[i] = secret{fetched: now, ha1: c.digest.Secret(u, "", false)} // as get: unknown
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return // a change announced meanwhile may not be in what was read
	}
	for i, u := range need {
		if len(c.m) >= maxCachedSecrets {
			clear(c.m)
		}
		key, s := got[i].pack(u)
		c.m[key] = s
		c.sweepAt.lower(s.fetched.Add(ttl))
	}
}

// ttlLocked is the entries' TTL (capped while not watching).
func (c *secrets) ttlLocked() time.Duration {
	if !c.watching {
		return min(c.ttl, unwatchedTTL)
	}
	return c.ttl
}

const maxCachedSecrets = 200_000

// unwatchedTTL caps the TTL while no event bus invalidates entries.
const unwatchedTTL = 2 * time.Second

// get returns user's cached or fetched secret. With whole set the entry
// carries the whole device (dev), fetched again if the cached entry has
// only the id; without, a fetched entry keeps only what a digest check
// needs.
func (c *secrets) get(ctx context.Context, user string, now time.Time, whole bool) (secret, error) {
	c.mu.Lock()
	s, cached := c.m[user]
	ttl := c.ttl
	if !c.watching {
		ttl = min(ttl, unwatchedTTL)
	}
	gen := c.gen
	c.mu.Unlock()
	if cached && now.Sub(s.fetched) < ttl && (!whole || s.dev != nil || s.id == "") {
		return s, nil
	}
	find := c.findSecret
	if whole {
		find = c.find
	}
	d, err := c.pool.find(ctx, user, find)
	if err != nil && hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		return secret{}, err
	}
	// An unknown device gets a dummy HA1, so checking its digest does the
	// same work as a wrong password for a known one (equal timing).
	if err != nil {
		s = secret{fetched: now, ha1: c.digest.Secret(user, "", false)}
	} else {
		s = secret{fetched: now, id: d.ID, ha1: c.digest.Secret(user, d.SIPPassword, true)}
		if whole {
			s.dev = d
		}
	}
	c.mu.Lock()
	// A change announced while the store was read may not be in what was
	// read: use it for this request, but do not keep it.
	if c.gen == gen {
		if len(c.m) >= maxCachedSecrets {
			clear(c.m)
		}
		var key string
		key, s = s.pack(user)
		c.m[key] = s
		c.sweepAt.lower(s.fetched.Add(ttl))
	}
	c.mu.Unlock()
	return s, nil
}

// pack copies the key user (a piece of the request's parsed
// Authorization header, which it would keep alive), the id (the key
// itself when equal) and the HA1 values into one allocation.
func (s secret) pack(user string) (string, secret) {
	id := s.id
	if id == user {
		id = ""
	}
	all := user + id + s.ha1.MD5 + s.ha1.SHA256
	cut := func(n int) string {
		v := all[:n]
		all = all[n:]
		return v
	}
	key := cut(len(user))
	if s.id == user {
		s.id = key
	} else {
		s.id = cut(len(id))
	}
	s.ha1.MD5 = cut(len(s.ha1.MD5))
	s.ha1.SHA256 = cut(len(s.ha1.SHA256))
	return key, s
}

// fresh reports whether user's credentials are cached and fresh (get
// would not ask the store).
func (c *secrets) fresh(user string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[user]
	ttl := c.ttl
	if !c.watching {
		ttl = min(ttl, unwatchedTTL)
	}
	return ok && now.Sub(s.fetched) < ttl
}

// sweep drops entries older than the TTL. It walks the entries only
// once the earliest may have expired (sweepAt): with the app's TTL of
// minutes, a walk of 10,000 entries every second found none (issue 18).
func (c *secrets) sweep(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.sweepAt.take(now) {
		return
	}
	c.sweeps++
	ttl := c.ttl
	if !c.watching {
		ttl = min(ttl, unwatchedTTL)
	}
	for k, s := range c.m {
		if now.Sub(s.fetched) >= ttl {
			delete(c.m, k)
		} else {
			c.sweepAt.lower(s.fetched.Add(ttl))
		}
	}
}

// forget drops one device (after a failed check, so a just-changed password
// is picked up on the client's retry; and when the device changed).
func (c *secrets) forget(user string) {
	c.mu.Lock()
	delete(c.m, user)
	c.gen++
	c.mu.Unlock()
}

// forgetAll drops every entry and sets whether events keep the cache
// current from now on.
func (c *secrets) forgetAll(watching bool) {
	c.mu.Lock()
	clear(c.m)
	c.sweepAt = sweepDue{}
	c.gen++
	c.watching = watching
	c.mu.Unlock()
}

// isWatching reports whether events keep the cache current (tests).
func (c *secrets) isWatching() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.watching
}

// cached is the number of cached entries (tests).
func (c *secrets) cached() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// watch keeps the cache current from the bus until ctx is done: it drops a
// device's entry when the device changes (here or on another node), and
// every entry when this subscription lost events or the cluster bridge
// says events were missed. ready is closed once watching.
//
// It subscribes to device changes only (issue 18: every call event woke
// it), so lost events are told by the bus with a resync, not by a gap in
// the sequence numbers.
func (c *secrets) watch(ctx context.Context, bus *events.Bus, ready chan<- struct{}) {
	ch, cancel := bus.SubscribeKinds(4096, func(kind string) bool { return kind == hotdesk.KindDeviceChanged })
	defer cancel()
	c.forgetAll(true) // what was cached before no event could reach us
	defer c.forgetAll(false)
	close(ready)
	c.follow(ctx, ch)
}

// follow applies the events of ch to the cache (see watch).
func (c *secrets) follow(ctx context.Context, ch <-chan events.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-ch:
			switch {
			case e.Kind == events.KindResync, e.Kind == hotdesk.KindDeviceChanged && e.Device == "":
				c.forgetAll(true) // events lost; or e.g. a CSV import: one event for many devices
			case e.Kind == hotdesk.KindDeviceChanged:
				c.forget(e.Device)
			}
		}
	}
}

// findCredentials returns the first Digest credentials for our realm.
func findCredentials(req *sip.Request, name, realm string) (*icdigest.Credentials, error) {
	var firstErr error
	for _, h := range signaling.Headers(req, name) {
		if !icdigest.IsDigest(h.Value()) {
			continue
		}
		c, err := digest.ParseCredentials(h.Value())
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

// errDeviceBlocked is what the secret lookup returns while the claimed
// device's failure budget is spent.
var errDeviceBlocked = errors.New("device digest refused")

// checkDigest verifies the request's credentials in header kind (the rules
// are internal/digest's). It returns the device's secret on authOK (with
// the whole device when whole is set) and the claimed username whenever
// there was one.
func (r *Registrar) checkDigest(ctx context.Context, req *sip.Request, kind authHeaders, now time.Time, whole bool, cr *creds) (secret, string, authOutcome, error) {
	if cr == nil {
		cr = &creds{}
		cr.c, cr.err = findCredentials(req, kind.credentials, r.opts.Realm)
	}
	c, err := cr.c, cr.err
	if err != nil {
		return secret{}, "", authMalformed, nil
	}
	var s secret
	out, err := r.digest.Check(c, string(req.Method), nonceBinding(req), now, func(user string) (digest.HA1, error) {
		if !r.devLimiter.Allow(user, now) {
			return digest.HA1{}, errDeviceBlocked
		}
		var err error
		if s, err = r.secrets.get(ctx, user, now, whole); err != nil {
			return digest.HA1{}, err
		}
		r.digestChecks.Add(1)
		return s.ha1, nil
	})
	user := ""
	if c != nil {
		user = c.Username
	}
	switch out {
	case digest.OK:
		return s, user, authOK, nil
	case digest.Stale:
		return secret{}, user, authStale, nil
	case digest.Failed:
		r.secrets.forget(user)
		return secret{}, user, authFailed, nil
	case digest.Error:
		if errors.Is(err, errDeviceBlocked) {
			return secret{}, user, authDeviceBlocked, nil
		}
		return secret{}, user, authError, err
	}
	return secret{}, user, authChallenge, nil
}

// nonceBinding is what a nonce is bound to: the transport and source
// address of the request.
func nonceBinding(req *sip.Request) string {
	return digest.Binding(req.Transport(), req.Source())
}

// challenge builds a 401/407 offering Options.Algorithms (by default MD5
// alone; RFC 8760 section 2.4 lists several in order of preference),
// each with qop=auth and all with one nonce.
func (r *Registrar) challenge(req *sip.Request, kind authHeaders, stale bool, now time.Time) *sip.Response {
	res := r.response(req, kind.status, kind.reason)
	for _, v := range r.digest.Challenges(nonceBinding(req), stale, now) {
		res.AppendHeader(sip.NewHeader(kind.challenge, v))
	}
	return res
}

// Authenticate checks digest credentials on a request other than REGISTER
// (INVITE, SUBSCRIBE, INFO, …) with 407 and Proxy-Authenticate. It returns
// the authenticated device and true; when it returns false it has already
// responded (challenge, 403 or error).
func (r *Registrar) Authenticate(req *sip.Request, tx sip.ServerTransaction) (*hotdesk.Device, bool) {
	s, ok := r.authenticate(context.Background(), req, tx, proxyAuth, true, nil)
	if !ok {
		return nil, false
	}
	return s.dev, true
}

// authenticate checks req's credentials (see checkDigest; c when parsed
// already) and returns the device's secret, or answers and returns false.
func (r *Registrar) authenticate(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, kind authHeaders, whole bool, c *creds) (secret, bool) {
	now := r.now()
	// No per-request deadline: a context with a timer per REGISTER cost 8%
	// of the CPU; the store's own timeouts bound a lookup. (ctx tells a
	// worker's job, see lookups.submit.)
	s, user, out, err := r.checkDigest(ctx, req, kind, now, whole, c)
	src := req.Source()
	switch out {
	case authOK:
		return s, true
	case authChallenge, authStale:
		r.reply(req, tx, r.challenge(req, kind, out == authStale, now), r.limiter.Slow(digest.Host(src), now))
	case authMalformed:
		r.reply(req, tx, sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Malformed Credentials", nil), false)
	case authFailed:
		r.authFailure(req, tx, user, src, now)
	case authDeviceBlocked:
		r.reply(req, tx, sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil), r.limiter.Slow(digest.Host(src), now))
	case authError:
		r.log.Error("sip auth: device lookup", "device", user, "error", err)
		r.reply(req, tx, signaling.NewResponse(req, signaling.ErrorStatus(err)), false)
	}
	return secret{}, false
}

// authFailure counts a failed authentication against the source (whose own
// nonce it answered) and against the claimed device from any source, audits
// a block, and answers 403 (delayed once the source is being slowed down).
func (r *Registrar) authFailure(req *sip.Request, tx sip.ServerTransaction, user, src string, now time.Time) {
	ip := digest.Host(src)
	v := r.limiter.Fail(ip, now)
	r.log.Info("sip auth failed", "device", user, "source", src, "method", req.Method)
	if v == limit.Blocked {
		r.log.Warn("sip source blocked after repeated auth failures", "source", ip, "for", r.opts.BlockFor)
		r.audit(&hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindAuthBlocked, Device: user, Source: ip,
			Detail: "blocked for " + r.opts.BlockFor.String()})
	}
	if r.devLimiter.Fail(user, now) == limit.Blocked {
		// Guesses from rotating addresses, each under BlockAfter.
		r.log.Warn("sip device digest refused after repeated auth failures", "device", user, "source", ip, "for", r.opts.DeviceBlockFor)
		r.audit(&hotdesk.AuditEvent{Time: now, Kind: hotdesk.KindAuthDeviceBlocked, Device: user, Source: ip,
			Detail: fmt.Sprintf("digest refused for %s after %d failures within %s", r.opts.DeviceBlockFor,
				r.opts.DeviceBlockAfter, r.opts.DeviceFailWindow)})
	}
	r.reply(req, tx, sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil), v != limit.Counted)
}

// Allow reports whether packets from src (ip or ip:port) may be processed:
// false while the source is blocked for repeated authentication failures.
// It is cheap when nothing is blocked; use it as signaling's ReadFilter.
func (r *Registrar) Allow(src string) bool {
	if !r.limiter.AnyBlocked() {
		return true
	}
	return r.limiter.Allow(digest.Host(src), r.now())
}

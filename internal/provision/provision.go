// Package provision serves desk-phone configuration files (Snom XML,
// Yealink .cfg, Grandstream XML) rendered from per-vendor templates for the
// phone's current state: neutral (placeholder name, a login key) or the
// logged-in user's name, logout key, BLF keys and speed dials. The phone
// always registers with the device's own SIP account, so a login changes
// the configuration, never the registration.
//
// Requests authenticate with HTTP digest (the --digest algorithms, by
// default MD5; internal/digest has the rules) using the device's
// own SIP credentials, or with the device's long random token in the path
// (/provision/t/{token}/{file}) for phones that cannot do digest. Unknown
// MACs get 404 without a challenge; sources that keep failing are blocked
// for a while; every fetch is audited with its source address.
package provision

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/digest"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/limit"
)

// Defaults of the brute-force limiter.
const (
	DefaultMaxFailures = 5
	DefaultWindow      = 10 * time.Minute
	DefaultBlockFor    = 15 * time.Minute
)

// Store is what provisioning needs of the store (hotdesk.Store has it).
type Store interface {
	FindDevices(ctx context.Context, f hotdesk.DeviceFilter) ([]*hotdesk.Device, int, error)
	FindDevice(ctx context.Context, id string) (*hotdesk.Device, error)
	UpdateDevice(ctx context.Context, id string, upd hotdesk.DeviceUpdate) (*hotdesk.Device, error)
	FindUser(ctx context.Context, ext string) (*hotdesk.User, error)
	LoginByDevice(ctx context.Context, device string) (*hotdesk.Login, error)
	GetSettings(ctx context.Context) (hotdesk.Settings, error)
	AppendAudit(ctx context.Context, e *hotdesk.AuditEvent) error
}

// Options configure the provisioning server.
type Options struct {
	Store  Store
	Desk   *desk.Service // who is logged in where; nil reads the store
	Logger *slog.Logger
	Now    hotdesk.Clock
	// SIPHost and SIPPort are the PBX address the phones register with.
	SIPHost string
	SIPPort int
	// SIPTLSPort is the PBX's SIP over TLS port; 0: no TLS listener, so
	// phones set to TLS are provisioned with UDP.
	SIPTLSPort int
	// Realm is the digest realm and SIP domain.
	Realm string
	// Algorithms are the digest algorithms challenged, in order of
	// preference: the registrar's setting (--digest), default MD5 alone.
	Algorithms []string
	// MaxFailures failed requests from one IP within Window block it for
	// BlockFor (defaults 5, 10 min, 15 min).
	MaxFailures int
	Window      time.Duration
	BlockFor    time.Duration
	// Bus hears of each configuration fetch (the console shows the last
	// one and the login pipeline); nil: they are only audited.
	Bus *events.Bus
}

// Server serves /provision/.
type Server struct {
	opts    Options
	log     *slog.Logger
	vendors map[string]*vendor
	digest  *digest.Verifier
	lim     *limit.Limiter
}

// New checks o and loads the templates.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, errors.New("provision: no store")
	}
	if o.Realm == "" || o.SIPHost == "" {
		return nil, errors.New("provision: realm and SIP host are required")
	}
	if o.SIPPort == 0 {
		o.SIPPort = 5060
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = DefaultMaxFailures
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.BlockFor <= 0 {
		o.BlockFor = DefaultBlockFor
	}
	vs, err := loadVendors()
	if err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	v, err := digest.NewVerifier(o.Realm, o.Algorithms, nonceTTL)
	if err != nil {
		return nil, fmt.Errorf("provision: %w", err)
	}
	return &Server{opts: o, log: o.Logger, vendors: vs, digest: v,
		lim: limit.NewBlocking(o.MaxFailures, o.Window, o.BlockFor)}, nil
}

// Handler serves GET /provision/{file} and /provision/t/{token}/{file}.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// fileRequest is a parsed request path.
type fileRequest struct {
	vendor string // hotdesk.Model*
	mac    string // 12 lower-case hex digits
	token  string // "" unless the token path was used
}

var (
	snomFile        = regexp.MustCompile(`^([0-9a-fA-F]{12})\.xml$`)
	yealinkFile     = regexp.MustCompile(`^([0-9a-fA-F]{12})\.cfg$`)
	grandstreamFile = regexp.MustCompile(`^cfg([0-9a-fA-F]{12})\.xml$`)
	tokenPrefix     = regexp.MustCompile(`^t/([A-Za-z0-9_-]{16,128})/(.*)$`)
)

// parsePath maps a URL path to a vendor file; ok is false for anything else.
func parsePath(p string) (fileRequest, bool) {
	p = strings.TrimPrefix(strings.TrimPrefix(p, "/provision"), "/")
	var fr fileRequest
	if m := tokenPrefix.FindStringSubmatch(p); m != nil {
		fr.token, p = m[1], m[2]
	}
	for _, f := range []struct {
		re     *regexp.Regexp
		vendor string
	}{{grandstreamFile, hotdesk.ModelGrandstream}, {snomFile, hotdesk.ModelSnom}, {yealinkFile, hotdesk.ModelYealink}} {
		if m := f.re.FindStringSubmatch(p); m != nil {
			fr.vendor, fr.mac = f.vendor, strings.ToLower(m[1])
			return fr, true
		}
	}
	return fr, false
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	now := s.opts.Now()
	src := r.RemoteAddr
	ip := digest.Host(src)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if wait := s.lim.BlockedFor(ip, now); wait > 0 {
		s.tooMany(w, wait)
		return
	}
	fr, ok := parsePath(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	d, err := s.deviceByMAC(r.Context(), fr.mac)
	if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND || err == nil && !modelMatches(d.Model, fr.vendor) {
		s.log.Info("provisioning: unknown MAC", "mac", fr.mac, "vendor", fr.vendor, "source", src)
		s.failure(w, r, "", src, now, http.StatusNotFound)
		return
	} else if err != nil {
		s.unavailable(w, "find device", err)
		return
	}
	via, ok := s.authorize(w, r, d, fr, now)
	if !ok {
		return
	}
	s.send(w, r, d, fr, via)
}

// authorize checks the token or digest; when it returns false it has
// already answered.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, d *hotdesk.Device, fr fileRequest, now time.Time) (string, bool) {
	src := r.RemoteAddr
	if fr.token != "" {
		if d.ProvisionToken == "" || subtle.ConstantTimeCompare([]byte(fr.token), []byte(d.ProvisionToken)) != 1 {
			s.log.Warn("provisioning: wrong token", "device", d.ID, "source", src)
			s.failure(w, r, d.ID, src, now, http.StatusForbidden)
			return "", false
		}
		return "token", true
	}
	switch s.checkDigest(r, d, now) {
	case authOK:
		return "digest", true
	case authMalformed:
		http.Error(w, "malformed Authorization header", http.StatusBadRequest)
	case authStale:
		s.challenge(w, r, true, now)
	case authFailed:
		s.log.Warn("provisioning: digest failed", "device", d.ID, "source", src)
		s.failure(w, r, d.ID, src, now, http.StatusUnauthorized)
	default:
		s.challenge(w, r, false, now)
	}
	return "", false
}

func (s *Server) challenge(w http.ResponseWriter, r *http.Request, stale bool, now time.Time) {
	for _, c := range s.digest.Challenges(nonceBinding(r), stale, now) {
		w.Header().Add("WWW-Authenticate", c)
	}
	http.Error(w, "authentication required", http.StatusUnauthorized)
}

// failure counts a failure from src and answers status (with a fresh
// challenge for 401), or 429 if this failure blocked the source.
func (s *Server) failure(w http.ResponseWriter, r *http.Request, device, src string, now time.Time, status int) {
	if s.lim.Fail(digest.Host(src), now) == limit.Blocked {
		s.log.Warn("provisioning: source blocked", "source", src, "for", s.opts.BlockFor)
		s.audit(r.Context(), &hotdesk.AuditEvent{Kind: hotdesk.KindAuthBlocked, Device: device, Source: src,
			Detail: "provisioning: too many failures"})
		s.tooMany(w, s.opts.BlockFor)
		return
	}
	switch status {
	case http.StatusUnauthorized:
		s.challenge(w, r, false, now)
	case http.StatusNotFound:
		http.Error(w, "not found", status)
	default:
		http.Error(w, http.StatusText(status), status)
	}
}

func (s *Server) tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.5)))
	http.Error(w, "too many failed requests; try again later", http.StatusTooManyRequests)
}

func (s *Server) unavailable(w http.ResponseWriter, op string, err error) {
	s.log.Error("provisioning: "+op, "error", err)
	http.Error(w, "service unavailable", http.StatusServiceUnavailable)
}

// send renders and writes d's configuration, and audits the fetch.
func (s *Server) send(w http.ResponseWriter, r *http.Request, d *hotdesk.Device, fr fileRequest, via string) {
	ctx := r.Context()
	st, err := s.opts.Store.GetSettings(ctx)
	if err != nil {
		s.unavailable(w, "settings", err)
		return
	}
	u, err := s.userAt(ctx, d)
	if err != nil {
		s.unavailable(w, "user at device", err)
		return
	}
	vd := s.vendors[fr.vendor]
	body, err := vd.render(s.buildView(ctx, d, u, st))
	if err != nil {
		s.unavailable(w, "render", err)
		return
	}
	state, ext := "neutral", ""
	if u != nil {
		state, ext = "user", u.Extension
	}
	s.log.Info("provisioning: fetched", "device", d.ID, "vendor", fr.vendor, "state", state,
		"extension", ext, "auth", via, "source", r.RemoteAddr)
	s.audit(ctx, &hotdesk.AuditEvent{Kind: hotdesk.KindProvisionFetch, Device: d.ID, Extension: ext,
		Source: r.RemoteAddr, Detail: fmt.Sprintf("vendor=%s state=%s auth=%s", fr.vendor, state, via)})
	w.Header().Set("Content-Type", vd.contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}

func (s *Server) audit(ctx context.Context, e *hotdesk.AuditEvent) {
	e.Time = s.opts.Now()
	if err := s.opts.Store.AppendAudit(ctx, e); err != nil {
		s.log.Error("provisioning: audit", "kind", e.Kind, "error", err)
	}
	if s.opts.Bus != nil {
		s.opts.Bus.Publish(events.Event{Time: e.Time, Kind: e.Kind, Extension: e.Extension, Device: e.Device, Source: e.Source, Detail: e.Detail})
	}
}

// modelMatches refuses a vendor file for a device of another vendor;
// generic and unset models accept any.
func modelMatches(model, vendor string) bool {
	switch model {
	case hotdesk.ModelSnom, hotdesk.ModelYealink, hotdesk.ModelGrandstream:
		return model == vendor
	}
	return true
}

func (s *Server) deviceByMAC(ctx context.Context, mac string) (*hotdesk.Device, error) {
	ds, _, err := s.opts.Store.FindDevices(ctx, hotdesk.DeviceFilter{MAC: mac, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("find device by mac: %w", err)
	}
	if len(ds) == 0 || !strings.EqualFold(ds[0].MAC, mac) {
		return nil, hotdesk.Errorf(hotdesk.ENOTFOUND, "Unknown MAC.")
	}
	return ds[0], nil
}

// userAt is the user whose keys the device shows: the logged-in user of a
// hot desk phone, the owner of a personal one, nil when neutral.
func (s *Server) userAt(ctx context.Context, d *hotdesk.Device) (*hotdesk.User, error) {
	if d.Mode == hotdesk.ModePersonal && d.Owner != "" {
		u, err := s.opts.Store.FindUser(ctx, d.Owner)
		if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
			return nil, nil
		}
		return u, err
	}
	if s.opts.Desk != nil {
		u, err := s.opts.Desk.UserAt(ctx, d.ID)
		if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
			return nil, nil
		}
		return u, err
	}
	l, err := s.opts.Store.LoginByDevice(ctx, d.ID)
	if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	u, err := s.opts.Store.FindUser(ctx, l.Extension)
	if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
		return nil, nil
	}
	return u, err
}

// Token returns the device's provisioning token for the
// /provision/t/{token}/{file} path, generating and storing one (256 random
// bits) on first need.
func (s *Server) Token(ctx context.Context, deviceID string) (string, error) {
	d, err := s.opts.Store.FindDevice(ctx, deviceID)
	if err != nil {
		return "", fmt.Errorf("provision token: %w", err)
	}
	if d.ProvisionToken != "" {
		return d.ProvisionToken, nil
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("provision token: %w", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(raw)
	if _, err := s.opts.Store.UpdateDevice(ctx, deviceID, hotdesk.DeviceUpdate{ProvisionToken: &tok}); err != nil {
		return "", fmt.Errorf("provision token: %w", err)
	}
	return tok, nil
}

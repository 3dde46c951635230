// Package web is the admin REST API of Hotdesk PBX (SPEC section 6): users,
// devices, logins, audit trail, live events, settings, webhooks and live
// calls under /api/v1/, plus /healthz and /metrics. Every handler returns an
// error and one wrapper writes it as {"error":{"code","message","field"}}
// with the status from one table. Hot-desk logins and logouts go through the
// desk Service, so the API obeys the same rules and audit trail as a phone.
package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// Source is the audit source of every change made through the API.
const Source = "api"

// Registrations reports the live contacts of a device (the registrar).
type Registrations interface {
	Contacts(device string) []hotdesk.Binding
}

// LiveCall is one call in progress, as GET /api/v1/calls lists it.
type LiveCall struct {
	CallID    string    `json:"call_id"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Extension string    `json:"extension"` // the PBX user involved, if any
	Device    string    `json:"device"`
	State     string    `json:"state"` // trying, early, confirmed
	Since     time.Time `json:"since"`
}

// Calls is the source of live calls (the B2BUA).
type Calls interface {
	Live() []LiveCall
}

// Options configures an API.
type Options struct {
	Store         Store
	Desk          *desk.Service
	Admin         Admin         // required: users, devices, settings and PINs change through it
	Bus           *events.Bus   // nil: /api/v1/events answers 503
	Registrations Registrations // nil: every device shows as unregistered
	Calls         Calls         // nil: no live calls
	// AdminToken is the bearer token every /api/v1 request must carry. An
	// empty token refuses every request.
	AdminToken string
	// Registry receives the API's metrics and is served at /metrics
	// (without a token, as Prometheus scrapers expect). Nil: a private one.
	Registry *prometheus.Registry
	Logger   *slog.Logger  // nil = slog.Default()
	Now      hotdesk.Clock // nil = time.Now
	// StreamMax bounds one SSE response so a shutdown never waits long on
	// a client; clients reconnect (default 5 min).
	StreamMax time.Duration
	// Heartbeat is the SSE comment interval that keeps proxies from timing
	// the stream out (default 15 s).
	Heartbeat time.Duration
	// Trunk reports the trunk registration for GET /api/v1/summary (nil:
	// its trunk is null).
	Trunk func() admin.TrunkState
}

// API serves the admin REST API. Safe for concurrent use.
type API struct {
	store     Store
	desk      *desk.Service
	admin     Admin
	bus       *events.Bus
	regs      Registrations
	calls     Calls
	trunk     func() admin.TrunkState
	tokenSum  [sha256.Size]byte
	hasToken  bool
	registry  *prometheus.Registry
	log       *slog.Logger
	now       hotdesk.Clock
	streamMax time.Duration
	heartbeat time.Duration
	metrics   *metrics

	done      chan struct{} // closed by Close: open event streams end
	closeOnce sync.Once
}

// New returns an API. It does no I/O. Store, Desk and Admin are required.
func New(o Options) *API {
	if o.Store == nil || o.Desk == nil || o.Admin == nil {
		panic("web: Store, Desk and Admin are required")
	}
	a := &API{store: o.Store, desk: o.Desk, admin: o.Admin, bus: o.Bus, regs: o.Registrations, calls: o.Calls, trunk: o.Trunk,
		registry: o.Registry, log: o.Logger, now: o.Now, streamMax: o.StreamMax, heartbeat: o.Heartbeat,
		done: make(chan struct{})}
	if o.AdminToken != "" {
		a.tokenSum, a.hasToken = sha256.Sum256([]byte(o.AdminToken)), true
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.streamMax <= 0 {
		a.streamMax = 5 * time.Minute
	}
	if a.heartbeat <= 0 {
		a.heartbeat = 15 * time.Second
	}
	if a.registry == nil {
		a.registry = prometheus.NewRegistry()
	}
	a.metrics = newMetrics(a)
	return a
}

// Close ends every open event stream (http.Server.Shutdown does not cancel
// running handlers). Register it with http.Server.RegisterOnShutdown. Safe
// to call more than once.
func (a *API) Close() {
	a.closeOnce.Do(func() { close(a.done) })
}

// Handler serves /api/v1/…, /healthz and /metrics.
func (a *API) Handler() http.Handler {
	mux := &patternMux{ServeMux: http.NewServeMux()}
	mux.Handle("GET /api/v1/openapi.json", a.handle("GET /api/v1/openapi.json", false, serveOpenAPI))
	a.resource(mux, "/api/v1/users", methods{"GET": a.listUsers, "POST": a.createUser})
	a.resource(mux, "/api/v1/users/{ext}", methods{"GET": a.getUser, "PATCH": a.patchUser, "DELETE": a.deleteUser})
	a.resource(mux, "/api/v1/users/{ext}/pin", methods{"POST": a.setPIN})
	a.resource(mux, "/api/v1/users/{ext}/logout", methods{"POST": a.logoutUser})
	a.resource(mux, "/api/v1/users/{ext}/unlock", methods{"POST": a.unlockUser})
	a.resource(mux, "/api/v1/users/{ext}/calls", methods{"GET": a.userCalls})
	a.resource(mux, "/api/v1/users/{ext}/voicemail", methods{"GET": a.listVoicemail})
	a.resource(mux, "/api/v1/users/{ext}/voicemail/{id}", methods{"GET": a.getVoicemail, "PATCH": a.patchVoicemail, "DELETE": a.deleteVoicemail})
	a.resource(mux, "/api/v1/devices", methods{"GET": a.listDevices, "POST": a.createDevice})
	a.resource(mux, "/api/v1/devices/{id}", methods{"GET": a.getDevice, "PATCH": a.patchDevice, "DELETE": a.deleteDevice})
	a.resource(mux, "/api/v1/devices/{id}/logout", methods{"POST": a.logoutDevice})
	a.resource(mux, "/api/v1/devices/{id}/unlock", methods{"POST": a.unlockDevice})
	a.resource(mux, "/api/v1/logins", methods{"GET": a.listLogins, "POST": a.createLogin, "DELETE": a.deleteLogins})
	a.resource(mux, "/api/v1/audit", methods{"GET": a.listAudit})
	a.resource(mux, "/api/v1/events", methods{"GET": a.stream})
	a.resource(mux, "/api/v1/settings", methods{"GET": a.getSettings, "PUT": a.putSettings})
	a.resource(mux, "/api/v1/webhooks", methods{"GET": a.listWebhooks, "POST": a.createWebhook})
	a.resource(mux, "/api/v1/webhooks/{id}", methods{"GET": admin.ByID("Webhook", a.getWebhook), "PATCH": admin.ByID("Webhook", a.patchWebhook), "DELETE": admin.ByID("Webhook", a.deleteWebhook)})
	a.resource(mux, "/api/v1/webhooks/{id}/deliveries", methods{"GET": admin.ByID("Webhook", a.listDeliveries)})
	a.resource(mux, "/api/v1/calls", methods{"GET": a.liveCalls})
	a.resource(mux, "/api/v1/sites", methods{"GET": a.listSites, "POST": a.createSite})
	a.resource(mux, "/api/v1/sites/{id}", methods{"GET": admin.ByID("Site", a.getSite), "PUT": admin.ByID("Site", a.putSite), "DELETE": admin.ByID("Site", a.deleteSite)})
	a.resource(mux, "/api/v1/emergency-calls", methods{"GET": a.listEmergencyCalls})
	a.resource(mux, "/api/v1/emergency-calls/{id}/ack", methods{"POST": admin.ByID("Emergency call", a.ackEmergencyCall)})
	a.routes17(mux)
	mux.Handle("/api/", a.handle("unmatched", true, func(w http.ResponseWriter, r *http.Request) error {
		return hotdesk.Errorf(hotdesk.ENOTFOUND, "There is no API endpoint at %s.", r.URL.Path)
	}))
	mux.Handle("GET /healthz", a.handle("/healthz", false, a.healthz))
	mux.Handle("GET /metrics", a.metrics.handler())
	return mux
}

// methods maps an HTTP method to its handler for one path.
type methods map[string]handlerFunc

// resource registers path's methods, and a 405 with Allow for the others.
func (a *API) resource(mux *patternMux, path string, ms methods) {
	allow := make([]string, 0, len(ms))
	for m, h := range ms {
		allow = append(allow, m)
		mux.Handle(m+" "+path, a.handle(m+" "+path, true, h))
	}
	allowed := strings.Join(sortedStrings(allow), ", ")
	mux.Handle(path, a.handle(path, true, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", allowed)
		return errMethod(r.Method, path)
	}))
}

// authorized reports whether r carries the admin token. Both sides are
// hashed first so the comparison is constant-time in the length too.
func (a *API) authorized(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || !a.hasToken {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(sum[:], a.tokenSum[:]) == 1
}

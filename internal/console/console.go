// Package console is the admin web console: server-rendered pages
// (html/template plus a vendored htmx) where an office admin sees every hot
// desk live, manages users, devices and settings, and reads the audit log.
// It signs admins in with its own password and session cookie and checks a
// CSRF token on every POST. Hot-desk logins and logouts go through the desk
// Service, so the console obeys the same rules and audit trail as a phone.
package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/limit"
)

//go:embed static
var staticFS embed.FS

// Registrations reports the live contacts of a device (the registrar).
type Registrations interface {
	Contacts(device string) []hotdesk.Binding
}

// Options configures a Console.
type Options struct {
	Store         Store
	Desk          *desk.Service
	Admin         Admin         // users, devices, settings and PINs change through it
	Bus           *events.Bus   // live desk updates; nil disables them
	Registrations Registrations // nil: every device shows as unregistered
	Logger        *slog.Logger  // nil = slog.Default()
	Now           hotdesk.Clock // nil = time.Now
	// Secure sets the Secure flag on the session cookie; requests that
	// arrive over TLS get it anyway. Set it behind a TLS-terminating proxy.
	Secure bool
	// SessionTTL is how long a sign-in lasts (default 12 h).
	SessionTTL time.Duration
	// StreamMax bounds one SSE response; the browser reconnects by itself,
	// so a server shutdown never waits on a console tab (default 5 min).
	StreamMax time.Duration
	// Trunk and LiveCalls feed the dashboard and the live calls page (nil:
	// no trunk state; calls counted from the bus).
	Trunk     func() admin.TrunkState
	LiveCalls func() []LiveCall
}

// Console serves the admin pages. Safe for concurrent use.
type Console struct {
	store   Store
	desk    *desk.Service
	admin   Admin
	bus     *events.Bus
	regs    Registrations
	log     *slog.Logger
	now     hotdesk.Clock
	secure  bool
	ttl     time.Duration
	maxSSE  time.Duration
	pages   map[string]*pageTemplate
	limiter *limit.Limiter // failed sign-ins per source address

	trunk     func() admin.TrunkState
	liveCalls func() []LiveCall

	calls     *calls        // which phones ring or are in a call
	phones    *phoneTracker // last fetches and login pipelines
	callsStop func()        // ends the bus handler that keeps calls and phones

	done     chan struct{} // closed when Run ends: open SSE streams finish
	doneOnce sync.Once
}

// New returns a Console. It does no I/O.
func New(o Options) (*Console, error) {
	if o.Store == nil || o.Desk == nil || o.Admin == nil {
		return nil, errors.New("console: Store, Desk and Admin are required")
	}
	c := &Console{store: o.Store, desk: o.Desk, admin: o.Admin, bus: o.Bus, regs: o.Registrations,
		log: o.Logger, now: o.Now, secure: o.Secure, ttl: o.SessionTTL, maxSSE: o.StreamMax,
		trunk: o.Trunk, liveCalls: o.LiveCalls}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.regs == nil {
		c.regs = noRegistrations{}
	}
	if c.ttl <= 0 {
		c.ttl = 12 * time.Hour
	}
	if c.maxSSE <= 0 {
		c.maxSSE = 5 * time.Minute
	}
	pages, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	c.pages = pages
	c.limiter = limit.NewBlocking(signInFailures, signInWindow, signInBlock)
	c.done = make(chan struct{})
	c.calls = newCalls(c.now)
	c.phones = newPhoneTracker(c.now)
	c.callsStop = func() {}
	if c.bus != nil {
		// Applied as published (two maps under their locks), rather than
		// by a goroutine woken for every event (issue 18); from here, so
		// no call of the first moments is missed, until Run returns.
		c.callsStop = c.bus.Handle(func(e events.Event) {
			c.calls.apply(e)
			c.phones.apply(e)
		})
	}
	return c, nil
}

// Run removes expired sessions every hour until ctx is done, then stops
// following the bus's call events (for the desks page's "on a call"
// badges, followed since New) and ends every open live-update stream so an
// HTTP server shutdown does not wait for console tabs. Without Run,
// sessions expire only when used.
func (c *Console) Run(ctx context.Context) error {
	defer c.doneOnce.Do(func() { close(c.done) })
	defer c.callsStop()
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := c.store.DeleteExpiredSessions(ctx, c.now()); err != nil {
				c.log.Warn("console: delete expired sessions", "err", err)
			}
			c.limiter.Sweep(c.now())
		}
	}
}

// Close ends every open live-update stream now and makes new ones end at
// once, like Run returning; for http.Server.RegisterOnShutdown, since
// Shutdown does not cancel running handlers. Safe to call more than once.
func (c *Console) Close() {
	c.doneOnce.Do(func() { close(c.done) })
}

type noRegistrations struct{}

func (noRegistrations) Contacts(string) []hotdesk.Binding { return nil }

// Handler returns the console's routes. The app mounts it at "/"; /api/,
// /healthz, /metrics and /provision/ belong to other handlers.
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	mux.Handle("GET /signin", c.handle(c.signInPage))
	mux.Handle("POST /signin", c.handle(c.signIn))
	mux.Handle("POST /signout", c.auth(c.signOut))

	mux.Handle("GET /{$}", c.auth(c.desksPage))
	c.routes17(mux)
	mux.Handle("GET /desks/table", c.auth(c.desksTable))
	mux.Handle("POST /desks/{id}/logout", c.auth(c.deskLogout))
	mux.Handle("GET /desks/logout-all", c.auth(c.logoutAllPage))
	mux.Handle("POST /desks/logout-all", c.auth(c.logoutAll))
	mux.Handle("GET /events", c.auth(c.stream))

	mux.Handle("GET /users", c.auth(c.usersPage))
	mux.Handle("GET /users/new", c.auth(c.userNewPage))
	mux.Handle("POST /users", c.auth(c.userCreate))
	mux.Handle("GET /users/{ext}", c.auth(c.userPage))
	mux.Handle("POST /users/{ext}", c.auth(c.userUpdate))
	mux.Handle("POST /users/{ext}/delete", c.auth(c.userDelete))
	mux.Handle("POST /users/{ext}/pin", c.auth(c.userPIN))
	mux.Handle("POST /users/{ext}/unlock", c.auth(c.userUnlock))
	mux.Handle("POST /users/{ext}/logout", c.auth(c.userLogout))
	mux.Handle("POST /users/{ext}/login", c.auth(c.userLogin))
	c.voicemailRoutes(mux)

	mux.Handle("GET /devices", c.auth(c.devicesPage))
	mux.Handle("GET /devices/new", c.auth(c.deviceNewPage))
	mux.Handle("POST /devices", c.auth(c.deviceCreate))
	mux.Handle("GET /devices/{id}", c.auth(c.devicePage))
	mux.Handle("POST /devices/{id}", c.auth(c.deviceUpdate))
	mux.Handle("POST /devices/{id}/unlock", c.auth(c.deviceUnlock))
	mux.Handle("POST /devices/{id}/delete", c.auth(c.deviceDelete))

	mux.Handle("GET /audit", c.auth(c.auditPage))
	mux.Handle("GET /settings", c.auth(c.settingsPage))
	mux.Handle("POST /settings", c.auth(c.settingsSave))
	c.emergencyRoutes(mux)
	c.trunkRoutes(mux)
	mux.Handle("/", c.maybeAuth(func(w http.ResponseWriter, r *http.Request) error {
		return hotdesk.Errorf(hotdesk.ENOTFOUND, "There is no page at %s.", r.URL.Path)
	}))
	return securityHeaders(mux)
}

// handlerFunc is a console handler: it writes a page or returns an error
// that handle turns into a friendly error page.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handlerFunc, rendering its error (never a stack trace).
func (c *Console) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				c.log.Error("console panic", "path", r.URL.Path, "panic", fmt.Sprint(v))
				c.renderError(w, r, errors.New("panic"))
			}
		}()
		if err := h(w, r); err != nil {
			c.renderError(w, r, err)
		}
	})
}

// errTooMany is the code of rate-limited sign-ins.
const errTooMany = admin.CodeTooMany

func (c *Console) renderError(w http.ResponseWriter, r *http.Request, err error) {
	status, _, msg := admin.Answer(c.log, r, err, "Something went wrong on the server. The error has been logged; please try again.")
	if errors.Is(err, context.Canceled) {
		return
	}
	data := map[string]any{"Status": status, "StatusText": http.StatusText(status), "Message": msg}
	c.render(w, r, status, "error", data)
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// securityHeaders forbids framing and inline scripts: the console's only
// scripts are its own static files.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// isHTMX reports whether the request came from htmx (it wants a fragment).
func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// redirect sends the browser to path after a POST (303 See Other). A
// flash parameter in path ("/users/201?flash=Saved.") does not go to the
// browser: it becomes the session's one-time flash (setFlash), the only
// place a flash is shown from.
func redirect(w http.ResponseWriter, r *http.Request, path string) error {
	path, msg := flashTarget(path)
	setFlash(w, r, msg)
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", path)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
	return nil
}

// source is the audit source of console actions.
func source(r *http.Request) string {
	if s := sessionOf(r); s != nil {
		return "console:" + s.Username
	}
	return "console"
}

// location returns the site time zone for display.
func (c *Console) location(ctx context.Context) *time.Location {
	st, err := c.store.GetSettings(ctx)
	if err != nil || st.Timezone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(st.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

func trimAll(ss []string) []string {
	out := ss[:0]
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
)

const testToken = "test-admin-token"

// fakeCalls is a Calls with fixed calls.
type fakeCalls []LiveCall

func (f fakeCalls) Live() []LiveCall { return f }

// env is an API over a real SQLite store and desk Service.
type env struct {
	t     testing.TB
	api   *API
	srv   *httptest.Server
	store hotdesk.Store
	desk  *desk.Service
	bus   *events.Bus
	clock *siptest.Clock
	regs  *siptest.Contacts
	logs  *siptest.Buffer
	reg   *prometheus.Registry
}

// MustEnv starts an API; opts may adjust the options before New.
func MustEnv(tb testing.TB, opts ...func(*Options)) *env {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	e := &env{t: tb, store: db, bus: events.New(), clock: siptest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)),
		regs: &siptest.Contacts{}, logs: &siptest.Buffer{}, reg: prometheus.NewRegistry()}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.desk = desk.New(desk.Options{Store: db, Bus: e.bus, Now: e.clock.Now, Logger: log})
	o := Options{Store: db, Desk: e.desk, Bus: e.bus, Registrations: e.regs, AdminToken: testToken,
		Registry: e.reg, Logger: log, Now: e.clock.Now}
	for _, f := range opts {
		f(&o)
	}
	if o.Admin == nil {
		o.Admin = admin.New(admin.Options{Store: db, Desk: o.Desk, Bus: o.Bus, Logger: log, Now: e.clock.Now})
	}
	e.api = New(o)
	e.srv = httptest.NewServer(e.api.Handler())
	tb.Cleanup(func() {
		e.api.Close()
		e.srv.Close()
	})
	return e
}

// resp is a finished response.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends a request with the admin token.
func (e *env) do(method, path, body string) resp {
	e.t.Helper()
	return e.doAuth(method, path, body, "Bearer "+testToken)
}

func (e *env) doAuth(method, path, body, auth string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

// want checks the status and decodes the body into v (if not nil).
func (r resp) want(tb testing.TB, status int, v any) resp {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	if v != nil {
		if err := json.Unmarshal(r.Body, v); err != nil {
			tb.Fatalf("decode %s: %v", r.Body, err)
		}
	}
	return r
}

// wantErr checks an error response's status, code and field.
func (r resp) wantErr(tb testing.TB, status int, code, field string) errorJSON {
	tb.Helper()
	var b errorBody
	r.want(tb, status, &b)
	if b.Error.Code != code || b.Error.Field != field || b.Error.Message == "" {
		tb.Fatalf("error %+v, want code %q field %q and a message", b.Error, code, field)
	}
	return b.Error
}

// MustUser creates a hot-desk user with PIN 1234 through the API.
func (e *env) MustUser(ext string) {
	e.t.Helper()
	e.do("POST", "/api/v1/users", `{"extension":"`+ext+`","name":"User `+ext+`","hotdesk":true,"pin":"1234"}`).want(e.t, 201, nil)
}

// MustDesk creates a hot desk phone through the API and returns its id.
func (e *env) MustDesk() string {
	e.t.Helper()
	var d deviceOut
	e.do("POST", "/api/v1/devices", `{"label":"Desk"}`).want(e.t, 201, &d)
	return d.ID
}

// auditCount counts audit rows of kind.
func (e *env) auditCount(kind string) int {
	e.t.Helper()
	n, err := e.store.CountAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{kind}})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

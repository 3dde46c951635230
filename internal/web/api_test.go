package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

func TestAuth(t *testing.T) {
	e := MustEnv(t)
	for _, auth := range []string{"", "Bearer", "Bearer wrong", "Basic " + testToken, "Bearer " + testToken + "x", testToken} {
		r := e.doAuth("GET", "/api/v1/users", "", auth)
		r.wantErr(t, 401, hotdesk.EUNAUTHORIZED, "")
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("no WWW-Authenticate for %q", auth)
		}
	}
	e.doAuth("POST", "/api/v1/users", `{"extension":"201","name":"x"}`, "Bearer nope").wantErr(t, 401, hotdesk.EUNAUTHORIZED, "")
	e.do("GET", "/api/v1/users/201", "").wantErr(t, 404, hotdesk.ENOTFOUND, "") // the refused POST wrote nothing
	e.doAuth("GET", "/api/v1/users", "", "bearer "+testToken).want(t, 200, nil)
	e.doAuth("GET", "/api/v1/nothing", "", "").wantErr(t, 401, hotdesk.EUNAUTHORIZED, "")
	e.do("GET", "/api/v1/nothing", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	r := e.do("PUT", "/api/v1/users", "{}")
	r.wantErr(t, 405, codeMethod, "")
	if r.Header.Get("Allow") != "GET, POST" {
		t.Errorf("Allow %q", r.Header.Get("Allow"))
	}

	// /healthz and /metrics need no token.
	var h map[string]string
	e.doAuth("GET", "/healthz", "", "").want(t, 200, &h)
	if h["status"] != "ok" {
		t.Errorf("healthz %v", h)
	}
	// An empty configured token refuses everything.
	e2 := MustEnv(t, func(o *Options) { o.AdminToken = "" })
	e2.doAuth("GET", "/api/v1/users", "", "Bearer ").wantErr(t, 401, hotdesk.EUNAUTHORIZED, "")
	e2.doAuth("GET", "/api/v1/users", "", "Bearer").wantErr(t, 401, hotdesk.EUNAUTHORIZED, "")
}

// failingStore fails Ping and ListLogins like a lost database.
type failingStore struct{ Store }

func (failingStore) Ping(context.Context) error { return errors.New("dial tcp: connection refused") }
func (failingStore) ListLogins(context.Context) ([]*hotdesk.Login, error) {
	return nil, errors.New("sql: database is closed (secret detail)")
}

func TestHealthAndInternalErrors(t *testing.T) {
	bad := MustEnv(t, func(o *Options) { o.Store = failingStore{o.Store} })
	bad.doAuth("GET", "/healthz", "", "").wantErr(t, 503, hotdesk.EUNAVAILABLE, "")
	m := bad.do("GET", "/api/v1/logins", "").wantErr(t, 500, hotdesk.EINTERNAL, "")
	if m.Message != "Internal error." {
		t.Errorf("500 message %q leaks", m.Message)
	}
	if !strings.Contains(bad.logs.String(), "secret detail") {
		t.Error("the real error is not in the log")
	}
}

func TestMetrics(t *testing.T) {
	e := MustEnv(t)
	e.MustUser("201")
	d := e.MustDesk()
	e.do("POST", "/api/v1/logins", `{"extension":"201","device":"`+d+`"}`).want(t, 201, nil)
	e.regs.Set(d, hotdesk.Binding{Device: d, Contact: "sip:x@192.0.2.1"})
	e.doAuth("GET", "/api/v1/users", "", "").want(t, 401, nil)
	b := string(e.doAuth("GET", "/metrics", "", "").want(t, 200, nil).Body)
	for _, want := range []string{
		`hotdesk_http_requests_total{code="201",route="POST /api/v1/users"} 1`,
		`hotdesk_http_requests_total{code="201",route="POST /api/v1/logins"} 1`,
		`hotdesk_http_requests_total{code="401",route="GET /api/v1/users"} 1`,
		"hotdesk_logins 1",
		"hotdesk_registered_devices 1",
		"hotdesk_http_request_duration_seconds_bucket",
	} {
		if !strings.Contains(b, want) {
			t.Errorf("metrics lack %q:\n%s", want, b)
		}
	}
	// A second API on the same registry does not panic and shares counters.
	New(Options{Store: e.store, Desk: e.desk, Admin: e.api.admin, Registry: e.reg, AdminToken: "x"})
}

func TestLiveCalls(t *testing.T) {
	e := MustEnv(t)
	var cs []LiveCall
	if r := e.do("GET", "/api/v1/calls", "").want(t, 200, &cs); len(cs) != 0 || strings.TrimSpace(string(r.Body)) != "[]" {
		t.Fatalf("calls without a source: %s", r.Body)
	}
	since := e.clock.Now()
	e2 := MustEnv(t, func(o *Options) {
		o.Calls = fakeCalls{{CallID: "abc", From: "201", To: "202", Extension: "201", Device: "HD00001", State: "confirmed", Since: since}}
	})
	e2.do("GET", "/api/v1/calls", "").want(t, 200, &cs)
	if len(cs) != 1 || cs[0].CallID != "abc" || !cs[0].Since.Equal(since) {
		t.Fatalf("calls %+v", cs)
	}
}

// sse reads one event stream.
type sse struct {
	res *http.Response
	sc  *bufio.Scanner
}

func (e *env) openSSE(path string) *sse {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		e.t.Fatalf("stream status %d type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	return &sse{res: res, sc: bufio.NewScanner(res.Body)}
}

// next returns the next event's kind and data, or "" when the stream ends.
// The caller bounds the wait with the API's StreamMax.
func (s *sse) next() (kind, data string) {
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			kind = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && kind != "":
			return kind, data
		}
	}
	return "", ""
}

func TestEventStream(t *testing.T) {
	e := MustEnv(t, func(o *Options) { o.StreamMax = 5 * time.Second })
	e.MustUser("201")
	d := e.MustDesk()
	s := e.openSSE("/api/v1/events?kinds=login,logout")
	// A device_changed event is filtered out; the login comes through.
	e.do("PATCH", "/api/v1/devices/"+d, `{"label":"x"}`).want(t, 200, nil)
	e.do("POST", "/api/v1/logins", `{"extension":"201","device":"`+d+`"}`).want(t, 201, nil)
	kind, data := s.next()
	if kind != hotdesk.KindLogin || !strings.Contains(data, `"extension":"201"`) || !strings.Contains(data, `"device":"`+d+`"`) {
		t.Fatalf("event %q %s", kind, data)
	}
	e.do("POST", "/api/v1/users/201/logout", "").want(t, 200, nil)
	if kind, _ := s.next(); kind != hotdesk.KindLogout {
		t.Fatalf("event %q, want logout", kind)
	}
	// Close ends open streams (so a server shutdown does not wait).
	done := make(chan struct{})
	go func() {
		defer close(done)
		for k, _ := s.next(); k != ""; k, _ = s.next() {
		}
	}()
	e.api.Close()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("stream still open after Close")
	}
	e.do("GET", "/api/v1/events?kinds=nonsense", "").wantErr(t, 400, hotdesk.EINVALID, "kinds")
}

func TestEventStreamMaxAndHeartbeat(t *testing.T) {
	e := MustEnv(t, func(o *Options) { o.StreamMax = 300 * time.Millisecond; o.Heartbeat = 50 * time.Millisecond })
	s := e.openSSE("/api/v1/events")
	start := time.Now()
	pings := 0
	for s.sc.Scan() {
		if s.sc.Text() == ": ping" {
			pings++
		}
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("stream lasted %v, StreamMax is 300ms", el)
	}
	if pings < 2 {
		t.Errorf("%d heartbeats in 300ms at 50ms", pings)
	}
	noBus := MustEnv(t, func(o *Options) { o.Bus = nil })
	noBus.do("GET", "/api/v1/events", "").wantErr(t, 503, hotdesk.EUNAVAILABLE, "")
}

// TestQueryParams: a query parameter an endpoint does not take is refused
// (it was silently ignored: users?q= listed everyone), naming each one;
// q is the search as in the console, search its accepted older name.
func TestQueryParams(t *testing.T) {
	e := MustEnv(t)
	e.do("POST", "/api/v1/users", `{"extension":"201","name":"Ann"}`).want(t, 201, nil)
	e.do("POST", "/api/v1/users", `{"extension":"202","name":"Fien"}`).want(t, 201, nil)
	for _, p := range []string{"q", "search"} {
		var list []map[string]any
		e.do("GET", "/api/v1/users?"+p+"=fien", "").want(t, 200, &list)
		if len(list) != 1 || list[0]["extension"] != "202" {
			t.Fatalf("%s=fien: %v", p, list)
		}
	}
	res := e.do("GET", "/api/v1/users?serach=fien&limt=5", "")
	res.wantErr(t, 400, hotdesk.EINVALID, "limt")
	var body struct {
		Error struct {
			Errors []struct{ Field, Message string }
		}
	}
	if err := json.Unmarshal(res.Body, &body); err != nil || len(body.Error.Errors) != 2 || body.Error.Errors[1].Field != "serach" {
		t.Fatalf("errors %+v, %v", body, err)
	}
	e.do("GET", "/api/v1/users/201?x=1", "").wantErr(t, 400, hotdesk.EINVALID, "x")
	e.do("GET", "/api/v1/devices?mode=hotdesk&owner=", "").want(t, 200, nil)
}

// TestAllErrorsAtOnce: invalid input lists every bad field, the first
// also in code/message/field as before.
func TestAllErrorsAtOnce(t *testing.T) {
	e := MustEnv(t)
	res := e.do("POST", "/api/v1/users", `{"extension":"2x","name":"","email":"ann@","outbound":"mars"}`)
	res.wantErr(t, 400, hotdesk.EINVALID, "extension")
	var body struct {
		Error struct {
			Errors []struct{ Field, Message string }
		}
	}
	if err := json.Unmarshal(res.Body, &body); err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, f := range body.Error.Errors {
		if f.Message == "" {
			t.Errorf("no message for %s", f.Field)
		}
		fields = append(fields, f.Field)
	}
	if strings.Join(fields, ",") != "extension,name,email,outbound" {
		t.Fatalf("fields %v", fields)
	}
	e.do("POST", "/api/v1/users", `{"extension":"203","name":"Cas","pin":""}`).wantErr(t, 400, hotdesk.EINVALID, "pin")
	res = e.do("POST", "/api/v1/devices", `{"mac":"zz","mode":"personal","location":{"country":"Holland"}}`)
	if err := json.Unmarshal(res.Body, &body); err != nil || len(body.Error.Errors) < 3 {
		t.Fatalf("device errors %s", res.Body)
	}
}

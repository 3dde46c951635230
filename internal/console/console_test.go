package console

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
)

// faultyStore is the real store with a switch that makes listing devices
// fail like a broken database, for the server-error test.
type faultyStore struct {
	hotdesk.Store
	mu   sync.Mutex
	fail error
}

func (s *faultyStore) setFail(err error) { s.mu.Lock(); s.fail = err; s.mu.Unlock() }

func (s *faultyStore) FindDevices(ctx context.Context, f hotdesk.DeviceFilter) ([]*hotdesk.Device, int, error) {
	s.mu.Lock()
	err := s.fail
	s.mu.Unlock()
	if err != nil {
		return nil, 0, err
	}
	return s.Store.FindDevices(ctx, f)
}

// MustOpenStore opens a fresh SQLite store (a throwaway WAL database that
// Close removes).
func MustOpenStore(tb testing.TB) *faultyStore {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return &faultyStore{Store: db}
}

type harness struct {
	t     testing.TB
	store *faultyStore
	desk  *desk.Service
	bus   *events.Bus
	regs  *siptest.Contacts
	clock *siptest.Clock
	con   *Console
	h     http.Handler
	pw    string
}

// newHarness runs a console on a fresh SQLite store with a test clock, a
// fake registrar and a signed-up admin.
func newHarness(t testing.TB) *harness {
	t.Helper()
	store := MustOpenStore(t)
	hs := &harness{t: t, store: store, bus: events.New(), regs: &siptest.Contacts{}, clock: siptest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hs.desk = desk.New(desk.Options{Store: store, Bus: hs.bus, Now: hs.clock.Now, Logger: log})
	adm := admin.New(admin.Options{Store: store, Desk: hs.desk, Bus: hs.bus, Logger: log, Now: hs.clock.Now, Sites: store})
	con, err := New(Options{Store: store, Desk: hs.desk, Admin: adm, Bus: hs.bus, Registrations: hs.regs, Logger: log, Now: hs.clock.Now, StreamMax: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hs.con, hs.h = con, con.Handler()
	_, pw, created, err := EnsureAdmin(context.Background(), store)
	if err != nil || !created || len(pw) < 16 {
		t.Fatalf("EnsureAdmin = %q, %v, %v", pw, created, err)
	}
	hs.pw = pw
	return hs
}

// user returns the stored user, or nil when there is none.
func (hs *harness) user(ext string) *hotdesk.User {
	hs.t.Helper()
	u, err := hs.store.FindUser(context.Background(), ext)
	if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
		return nil
	} else if err != nil {
		hs.t.Fatal(err)
	}
	return u
}

func (hs *harness) userCount() int {
	hs.t.Helper()
	_, n, err := hs.store.FindUsers(context.Background(), hotdesk.UserFilter{})
	if err != nil {
		hs.t.Fatal(err)
	}
	return n
}

// device returns the stored device or fails the test.
func (hs *harness) device(id string) *hotdesk.Device {
	hs.t.Helper()
	d, err := hs.store.FindDevice(context.Background(), id)
	if err != nil {
		hs.t.Fatal(err)
	}
	return d
}

// client is a signed-in (or anonymous) browser stand-in.
type client struct {
	hs     *harness
	cookie *http.Cookie
	flash  *http.Cookie // the one-time flash cookie, kept like a browser does
	csrf   string
}

func (hs *harness) do(c *client, method, path string, form url.Values, hdr ...string) *httptest.ResponseRecorder {
	hs.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	req.RemoteAddr = "192.0.2.10:5555"
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if c != nil && c.cookie != nil {
		req.AddCookie(c.cookie)
	}
	if c != nil && c.flash != nil {
		req.AddCookie(c.flash)
	}
	w := httptest.NewRecorder()
	hs.h.ServeHTTP(w, req)
	for _, ck := range w.Result().Cookies() {
		if c != nil && ck.Name == flashCookie {
			c.flash = ck
			if ck.MaxAge < 0 {
				c.flash = nil
			}
		}
	}
	return w
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (hs *harness) signIn() *client {
	hs.t.Helper()
	w := hs.do(nil, "POST", "/signin", url.Values{"username": {"admin"}, "password": {hs.pw}})
	if w.Code != http.StatusSeeOther {
		hs.t.Fatalf("sign in: %d %s", w.Code, w.Body)
	}
	c := &client{hs: hs}
	for _, ck := range w.Result().Cookies() {
		if ck.Name == cookieName {
			c.cookie = ck
		}
	}
	if c.cookie == nil {
		hs.t.Fatal("no session cookie")
	}
	page := hs.do(c, "GET", "/", nil)
	m := csrfRE.FindStringSubmatch(page.Body.String())
	if m == nil {
		hs.t.Fatalf("no csrf token on the desks page: %s", page.Body)
	}
	c.csrf = m[1]
	return c
}

// post submits a form with the client's CSRF token.
func (c *client) post(path string, form url.Values) *httptest.ResponseRecorder {
	c.hs.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", c.csrf)
	return c.hs.do(c, "POST", path, form)
}

// mustPost posts a form that must succeed (answer 303, to the next page).
func (c *client) mustPost(path string, form url.Values) *httptest.ResponseRecorder {
	c.hs.t.Helper()
	w := c.post(path, form)
	if w.Code != http.StatusSeeOther {
		c.hs.t.Fatalf("POST %s: %d %s", path, w.Code, w.Body)
	}
	return w
}

// login logs ext in at device through the desk Service, as the API does.
func (hs *harness) login(ext, device string) {
	hs.t.Helper()
	if _, err := hs.desk.Login(context.Background(), desk.LoginRequest{Extension: ext, Device: device, Via: hotdesk.ViaAPI, Source: "api"}); err != nil {
		hs.t.Fatal(err)
	}
}

func (c *client) get(path string) *httptest.ResponseRecorder {
	c.hs.t.Helper()
	return c.hs.do(c, "GET", path, nil)
}

func mustContain(t *testing.T, w *httptest.ResponseRecorder, wantCode int, subs ...string) {
	t.Helper()
	if w.Code != wantCode {
		t.Fatalf("status %d, want %d; body:\n%s", w.Code, wantCode, w.Body)
	}
	for _, s := range subs {
		if !strings.Contains(w.Body.String(), s) {
			t.Fatalf("body lacks %q:\n%s", s, w.Body)
		}
	}
}

func TestServerErrorIsFriendly(t *testing.T) {
	hs, c := newSignedIn(t)
	hs.store.setFail(errors.New("database is locked: SQLITE_BUSY at /src/store.go:42"))
	w := c.get("/")
	mustContain(t, w, http.StatusInternalServerError, "Something went wrong")
	if strings.Contains(w.Body.String(), "SQLITE") || strings.Contains(w.Body.String(), "goroutine") {
		t.Fatal("internal error leaked")
	}
	hs.store.setFail(nil)
	mustContain(t, c.get("/users/999"), http.StatusNotFound, "not found")
	mustContain(t, c.get("/no/such/page"), http.StatusNotFound, "There is no page")
}

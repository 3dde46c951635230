package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
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
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
)

// fakeRegs is a Registrations whose contacts tests set.
type fakeRegs struct {
	mu sync.Mutex
	m  map[string][]hotdesk.Binding
}

func (f *fakeRegs) Contacts(device string) []hotdesk.Binding {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[device]
}

func (f *fakeRegs) set(device string, bs ...hotdesk.Binding) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string][]hotdesk.Binding{}
	}
	f.m[device] = bs
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

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
	t     *testing.T
	store *faultyStore
	desk  *desk.Service
	bus   *events.Bus
	regs  *fakeRegs
	clock *clock
	con   *Console
	h     http.Handler
	pw    string
}

// newHarness runs a console on a fresh SQLite store with a test clock, a
// fake registrar and a signed-up admin.
func newHarness(t *testing.T) *harness {
	t.Helper()
	store := MustOpenStore(t)
	hs := &harness{t: t, store: store, bus: events.New(), regs: &fakeRegs{}, clock: &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hs.desk = desk.New(desk.Options{Store: store, Bus: hs.bus, Now: hs.clock.Now, Logger: log})
	con, err := New(Options{Store: store, Desk: hs.desk, Bus: hs.bus, Registrations: hs.regs, Logger: log, Now: hs.clock.Now, StreamMax: 5 * time.Second})
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
	w := httptest.NewRecorder()
	hs.h.ServeHTTP(w, req)
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

func TestAuthRequired(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{"GET", "/", http.StatusSeeOther},
		{"GET", "/users", http.StatusSeeOther},
		{"GET", "/audit", http.StatusSeeOther},
		{"GET", "/events", http.StatusUnauthorized},
		{"GET", "/desks/table", http.StatusSeeOther},
		{"POST", "/users", http.StatusUnauthorized},
		{"POST", "/desks/logout-all", http.StatusUnauthorized},
		{"POST", "/settings", http.StatusUnauthorized},
	} {
		w := hs.do(nil, tc.method, tc.path, url.Values{})
		if w.Code != tc.code {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, w.Code, tc.code)
		}
		if tc.code == http.StatusSeeOther && !strings.HasPrefix(w.Header().Get("Location"), "/signin") {
			t.Errorf("%s %s redirects to %q", tc.method, tc.path, w.Header().Get("Location"))
		}
	}
	// Public: the sign-in page and static files.
	mustContain(t, hs.do(nil, "GET", "/signin", nil), 200, "Sign in")
	mustContain(t, hs.do(nil, "GET", "/static/htmx.min.js", nil), 200, "htmx")
}

func TestSignInCookieCSRFAndSignOut(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	w := hs.do(nil, "POST", "/signin", url.Values{"username": {"admin"}, "password": {"wrong"}})
	mustContain(t, w, http.StatusUnauthorized, "Wrong username or password", `value="admin"`)

	c := hs.signIn()
	if !c.cookie.HttpOnly || c.cookie.SameSite != http.SameSiteStrictMode || c.cookie.Path != "/" || c.cookie.Secure {
		t.Fatalf("cookie flags: %+v", c.cookie)
	}
	ctx := context.Background()
	if s, err := hs.store.FindSession(ctx, tokenHash(c.cookie.Value)); err != nil || s.Username != "admin" {
		t.Fatalf("session by token hash: %+v, %v", s, err)
	}
	if _, err := hs.store.FindSession(ctx, c.cookie.Value); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("store must hold the token's SHA-256, not the token (lookup by token: %v)", err)
	}
	// A POST without or with a wrong CSRF token is refused and changes nothing.
	form := url.Values{"extension": {"201"}, "name": {"Ann"}, "outbound": {"national"}}
	mustContain(t, hs.do(c, "POST", "/users", form), http.StatusForbidden, "expired")
	form.Set("csrf", "x"+c.csrf)
	mustContain(t, hs.do(c, "POST", "/users", form), http.StatusForbidden)
	if hs.userCount() != 0 {
		t.Fatal("user created without a valid CSRF token")
	}
	// The htmx header works as well as the form field.
	form.Del("csrf")
	w = hs.do(c, "POST", "/users", form, csrfHeader, c.csrf, "HX-Request", "true")
	if w.Code != http.StatusNoContent || w.Header().Get("HX-Redirect") != "/users/201?flash=Created+user+201." {
		t.Fatalf("htmx create: %d %v", w.Code, w.Header())
	}
	// Audit has the sign-in; sign out ends the session.
	evs, _ := hs.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindAdminSignIn}})
	if len(evs) != 2 || evs[0].Reason != "" || evs[1].Reason != "bad_password" {
		t.Fatalf("sign-in audit: %+v", evs)
	}
	if w := c.post("/signout", nil); w.Code != http.StatusSeeOther {
		t.Fatalf("sign out: %d", w.Code)
	}
	if w := c.get("/"); w.Code != http.StatusSeeOther {
		t.Fatalf("after sign-out GET / = %d", w.Code)
	}
}

func TestSignInCrossOriginRefused(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	w := hs.do(nil, "POST", "/signin", url.Values{"username": {"admin"}, "password": {hs.pw}}, "Origin", "https://evil.example")
	mustContain(t, w, http.StatusForbidden)
}

func TestSignInRateLimited(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	bad := url.Values{"username": {"admin"}, "password": {"nope"}}
	for i := 0; i < signInFailures; i++ {
		if w := hs.do(nil, "POST", "/signin", bad); w.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, w.Code)
		}
		hs.clock.Add(time.Second)
	}
	good := url.Values{"username": {"admin"}, "password": {hs.pw}}
	mustContain(t, hs.do(nil, "POST", "/signin", good), http.StatusTooManyRequests, "Too many failed sign-ins", "Try again in 55 seconds")
	hs.clock.Add(55 * time.Second)
	if w := hs.do(nil, "POST", "/signin", good); w.Code != http.StatusSeeOther {
		t.Fatalf("after the window: %d %s", w.Code, w.Body)
	}
}

func TestUserFormValidationKeepsInput(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	c := hs.signIn()
	w := c.post("/users", url.Values{"extension": {"2x"}, "name": {"Ann <Smith>"}, "email": {"ann@"},
		"caller_id": {"0201234567"}, "dids": {"+31201234567, 12"}, "outbound": {"national"}, "blf": {"202, 9"},
		"hotdesk": {"on"}, "pin": {"12"}})
	mustContain(t, w, http.StatusBadRequest,
		"Extension must be 2 to 6 digits.", "Email must be an address", "E.164", "Direct number 12 is not",
		"BLF key 9 is not", "PIN must be 4 to 8 digits.",
		`value="2x"`, `value="Ann &lt;Smith&gt;"`, `value="&#43;31201234567, 12"`, `value="202, 9"`)
	if !strings.Contains(w.Body.String(), `id="err-extension"`) || hs.userCount() != 0 {
		t.Fatal("error not next to the field, or a user was created")
	}
	// A duplicate extension is shown on the extension field.
	ok := url.Values{"extension": {"201"}, "name": {"Ann"}, "outbound": {"national"}, "hotdesk": {"on"}, "pin": {"1234"}}
	if w := c.post("/users", ok); w.Code != http.StatusSeeOther {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	u := hs.user("201")
	if !u.Hotdesk || !desk.CheckPIN(u.PINHash, "1234") {
		t.Fatalf("user stored wrong: %+v", u)
	}
	mustContain(t, c.post("/users", ok), http.StatusBadRequest, "already exists", `value="Ann"`)
	// Edit with a bad value keeps the typed values.
	mustContain(t, c.post("/users/201", url.Values{"name": {""}, "email": {"new@example.com"}, "outbound": {"mars"}}),
		http.StatusBadRequest, "Name is required.", "Outbound must be", `value="new@example.com"`)
}

func TestUserPINGeneratedOnceAndUnlock(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	c := hs.signIn()
	c.post("/users", url.Values{"extension": {"201"}, "name": {"Ann"}, "outbound": {"national"}, "hotdesk": {"on"}})
	w := c.post("/users/201/pin", url.Values{"generate": {"1"}})
	mustContain(t, w, http.StatusOK, "shown only now")
	pin := regexp.MustCompile(`id="new-pin">(\d{6})<`).FindStringSubmatch(w.Body.String())
	if pin == nil || !desk.CheckPIN(hs.user("201").PINHash, pin[1]) {
		t.Fatalf("generated PIN not shown or not stored")
	}
	if strings.Contains(c.get("/users/201").Body.String(), pin[1]) {
		t.Fatal("the PIN is shown again")
	}
	mustContain(t, c.post("/users/201/pin", url.Values{"pin": {"12ab"}}), http.StatusBadRequest, "PIN must be")
	until := hs.clock.Now().Add(time.Hour)
	locked := &until
	if _, err := hs.store.UpdateUser(context.Background(), "201", hotdesk.UserUpdate{LockedUntil: &locked}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, c.get("/users/201"), 200, "locked", "Unlock")
	if w := c.post("/users/201/unlock", nil); w.Code != http.StatusSeeOther || hs.user("201").LockedUntil != nil {
		t.Fatalf("unlock: %d", w.Code)
	}
}

func TestDeviceCreateShowsPasswordOnce(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	c := hs.signIn()
	mustContain(t, c.post("/devices", url.Values{"mac": {"00:04:13:zz"}, "model": {"snom"}, "mode": {"hotdesk"}, "label": {"Desk 1"}, "country": {"Netherlands"}}),
		http.StatusBadRequest, "MAC must be 12 hex digits", "Country must be", `value="Desk 1"`, `value="00:04:13:zz"`)
	mustContain(t, c.post("/devices", url.Values{"model": {"snom"}, "mode": {"personal"}, "id": {"ann-soft"}, "owner": {"999"}}),
		http.StatusBadRequest, "There is no user with extension 999.")
	w := c.post("/devices", url.Values{"mac": {"00:04:13:AA:BB:CC"}, "model": {"yealink"}, "mode": {"hotdesk"}, "label": {"Desk 1"}, "location": {"Floor 3"}})
	mustContain(t, w, http.StatusOK, "HD00001", "shown only once", "http://example.com/provision/000413aabbcc.cfg")
	d := hs.device("HD00001")
	if d.SIPPassword == "" || !strings.Contains(w.Body.String(), d.SIPPassword) || d.ProvisionToken == "" {
		t.Fatal("SIP password not generated or not shown")
	}
	if strings.Contains(c.get("/devices/HD00001").Body.String(), d.SIPPassword) {
		t.Fatal("SIP password shown again")
	}
	hs.regs.set("HD00001", hotdesk.Binding{Contact: "sip:HD00001@192.0.2.5:5062", Source: "192.0.2.5:5062", UserAgent: "Yealink T54W", Expires: hs.clock.Now().Add(time.Hour)})
	mustContain(t, c.get("/devices/HD00001"), 200, "sip:HD00001@192.0.2.5:5062", "Yealink T54W", "registered")
}

func TestDesksLoginLogoutAndAudit(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	c := hs.signIn()
	c.post("/users", url.Values{"extension": {"201"}, "name": {"Ann Jansen"}, "outbound": {"national"}, "hotdesk": {"on"}})
	c.post("/devices", url.Values{"model": {"snom"}, "mode": {"hotdesk"}, "label": {"Desk A"}, "location": {"Floor 3"}})
	c.post("/devices", url.Values{"model": {"snom"}, "mode": {"hotdesk"}, "label": {"Desk B"}, "location": {"Floor 4"}})
	hs.regs.set("HD00001", hotdesk.Binding{Contact: "sip:a@192.0.2.1"})
	mustContain(t, c.get("/"), 200, `data-state="free"`, `data-state="unregistered"`, "0</strong> of 2 desks occupied")

	if _, err := hs.desk.Login(context.Background(), desk.LoginRequest{Extension: "201", Device: "HD00001", Via: hotdesk.ViaAPI, Source: "api"}); err != nil {
		t.Fatal(err)
	}
	w := c.get("/desks/table?state=occupied")
	mustContain(t, w, 200, `id="desk-HD00001"`, `data-state="occupied"`, "Ann Jansen")
	if strings.Contains(w.Body.String(), "HD00002") || strings.Contains(w.Body.String(), "<html") {
		t.Fatal("filter ignored or the fragment is a whole page")
	}
	mustContain(t, c.get("/?location=Floor+4"), 200, "HD00002")

	w = hs.do(c, "POST", "/desks/HD00001/logout", url.Values{"filter": {"location=&state="}}, csrfHeader, c.csrf, "HX-Request", "true")
	mustContain(t, w, 200, `id="desk-HD00001" class="desk state-free"`)
	if _, err := hs.store.LoginByDevice(context.Background(), "HD00001"); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("still logged in: %v", err)
	}
	mustContain(t, c.get("/audit?kind=logout"), 200, "admin", "console:admin", "HD00001")
	mustContain(t, c.get("/audit?since=yesterday"), http.StatusBadRequest, "Use a date and time")

	// Log everyone out, with a confirmation step.
	hs.desk.Login(context.Background(), desk.LoginRequest{Extension: "201", Device: "HD00002", Via: hotdesk.ViaAPI})
	mustContain(t, c.get("/desks/logout-all"), 200, "Yes, log everyone out", "<strong>1</strong> user")
	if w := c.post("/desks/logout-all", nil); w.Code != http.StatusSeeOther {
		t.Fatalf("logout all: %d", w.Code)
	}
	if ls, _ := hs.store.ListLogins(context.Background()); len(ls) != 0 {
		t.Fatalf("logins left: %v", ls)
	}
}

func TestEventsStream(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	c := hs.signIn()
	srv := httptest.NewServer(hs.h)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/events", nil)
	req.AddCookie(c.cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	rd := bufio.NewReader(resp.Body)
	if _, err := rd.ReadString('\n'); err != nil { // the hello preamble arrives before we publish
		t.Fatal(err)
	}
	hs.bus.Publish(events.Event{Kind: events.KindCallTrying, Device: "HD00009"}) // not a desk change
	hs.bus.Publish(events.Event{Kind: hotdesk.KindLogin, Device: "HD00001", Extension: "201"})
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended: %v", err)
		}
		if strings.Contains(line, "HD00009") {
			t.Fatal("non-desk event forwarded")
		}
		if strings.HasPrefix(line, "data: ") {
			if !strings.Contains(line, `"kind":"login"`) || !strings.Contains(line, `"device":"HD00001"`) {
				t.Fatalf("data = %q", line)
			}
			return
		}
	}
}

func TestSettingsValidationAndSave(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	c := hs.signIn()
	mustContain(t, c.get("/settings"), 200, `value="*35"`, `value="112, 911, 999"`)
	form := url.Values{"star35_enabled": {"on"}, "star35": {"*35"}, "star77": {"77"}, "logout77": {"5"},
		"emergency": {"112, 11a"}, "daily_at": {"25:00"}, "lang": {"de"}, "timezone": {"Mars/Base"},
		"national_prefix": {"0"}, "international_prefix": {"00"}, "country_code": {"31"},
		"trunk_enabled": {"on"}, "trunk_sources": {"10.0.0.0/8, nonsense"}, "trunk_password": {"s3cret"}}
	mustContain(t, c.post("/settings", form), http.StatusBadRequest, "A feature code is *", "Emergency number 11a",
		"Daily logout time", "Language must be", "Time zone must be", "An enabled trunk needs a proxy",
		"Source nonsense", `value="Mars/Base"`)
	if strings.Contains(c.post("/settings", form).Body.String(), "s3cret") {
		t.Fatal("trunk password echoed")
	}
	form.Set("star77", "*77")
	form.Set("emergency", "112 911")
	form.Set("daily_at", "03:00")
	form.Set("lang", "nl")
	form.Set("timezone", "Europe/Amsterdam")
	form.Set("trunk_proxy", "sip.example.net:5060")
	form.Set("trunk_sources", "10.0.0.0/8 192.0.2.7")
	if w := c.post("/settings", form); w.Code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", w.Code, w.Body)
	}
	s, err := hs.store.GetSettings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Lang != "nl" || s.AutoLogout.DailyAt != "03:00" || len(s.Emergency) != 2 || s.Trunk.Password != "s3cret" || s.FeatureCodes.Star77Enabled {
		t.Fatalf("settings stored: %+v", s)
	}
	form.Del("trunk_password")
	c.post("/settings", form)
	if s, _ := hs.store.GetSettings(context.Background()); s.Trunk.Password != "s3cret" {
		t.Fatal("an empty password field must keep the stored password")
	}
}

func TestServerErrorIsFriendly(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	c := hs.signIn()
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

func TestEnsureAdminAndResetPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := MustOpenStore(t)
	user, pw, created, err := EnsureAdmin(ctx, st)
	if err != nil || !created || user != "admin" || pw == "" {
		t.Fatalf("first: %q %q %v %v", user, pw, created, err)
	}
	if _, pw2, created, _ := EnsureAdmin(ctx, st); created || pw2 != "" {
		t.Fatal("second EnsureAdmin must not create or reveal anything")
	}
	if a, err := st.FindAdmin(ctx, "admin"); err != nil || strings.Contains(a.PasswordHash, pw) {
		t.Fatal("password stored in clear")
	}
	npw, err := ResetPassword(ctx, st, "")
	if err != nil || npw == pw {
		t.Fatalf("reset: %v", err)
	}
	c := &Console{store: st, now: time.Now}
	if _, ok, _ := c.checkPassword(ctx, "admin", npw); !ok {
		t.Fatal("new password does not work")
	}
	if _, ok, _ := c.checkPassword(ctx, "admin", pw); ok {
		t.Fatal("old password still works")
	}
	if _, err := ResetPassword(ctx, st, "ops"); err != nil {
		t.Fatalf("reset of a new admin: %v", err)
	}
	if _, err := st.FindAdmin(ctx, "ops"); err != nil {
		t.Fatalf("reset of a new admin: %v", err)
	}
}

func TestRunEndsStreams(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	c := hs.signIn()
	srv := httptest.NewServer(hs.h)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- hs.con.Run(ctx) }()
	req, _ := http.NewRequest("GET", srv.URL+"/events", nil)
	req.AddCookie(c.cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	cancel()
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	read := make(chan error, 1)
	go func() { _, err := io.ReadAll(resp.Body); read <- err }()
	select {
	case err := <-read:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("stream still open after Run ended")
	}
}

func TestUserDeskLoginAndDeletes(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	c := hs.signIn()
	c.post("/users", url.Values{"extension": {"201"}, "name": {"Ann"}, "outbound": {"national"}, "hotdesk": {"on"}})
	c.post("/devices", url.Values{"model": {"snom"}, "mode": {"hotdesk"}})
	mustContain(t, c.post("/users/201/login", url.Values{"device": {"HD00404"}}), http.StatusBadRequest, "Unknown device.")
	if w := c.post("/users/201/login", url.Values{"device": {"HD00001"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("admin login: %d %s", w.Code, w.Body)
	}
	l, err := hs.store.LoginByUser(context.Background(), "201")
	if err != nil || l.Device != "HD00001" || l.Via != hotdesk.ViaAdmin {
		t.Fatalf("login = %+v, %v", l, err)
	}
	mustContain(t, c.get("/users/201"), 200, "Logged in at", "HD00001")
	// Without the confirmation box the page comes back with the message
	// next to the box, and nothing is deleted.
	mustContain(t, c.post("/devices/HD00001/delete", nil), http.StatusBadRequest, `id="err-sure"`, "Tick the box", "Registration")
	hs.device("HD00001")
	mustContain(t, c.post("/users/201/delete", nil), http.StatusBadRequest, `id="err-sure"`, "Tick the box", "Call history")
	if hs.user("201") == nil {
		t.Fatal("user deleted without confirmation")
	}
	if w := c.post("/devices/HD00001/delete", url.Values{"sure": {"on"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("delete device: %d", w.Code)
	}
	evs, _ := hs.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindLogout}})
	if len(evs) != 1 || evs[0].Reason != hotdesk.ReasonDeleted {
		t.Fatalf("logout on delete not audited: %+v", evs)
	}
	if w := c.post("/users/201/delete", url.Values{"sure": {"on"}}); w.Code != http.StatusSeeOther || hs.user("201") != nil {
		t.Fatalf("delete user: %d", w.Code)
	}
}

func TestUserLogoutAndCallHistory(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	c := hs.signIn()
	ctx := context.Background()
	c.post("/users", url.Values{"extension": {"201"}, "name": {"Ann"}, "outbound": {"national"}, "hotdesk": {"on"}})
	c.post("/devices", url.Values{"model": {"snom"}, "mode": {"hotdesk"}})
	mustContain(t, c.get("/users/201"), 200, "No calls yet.")

	// Call records come from the B2BUA; here they are written directly.
	start := hs.clock.Now().Add(-time.Hour)
	answer, end := start.Add(5*time.Second), start.Add(70*time.Second)
	for _, cr := range []*hotdesk.CallRecord{
		{CallID: "a@x", Extension: "201", Direction: hotdesk.DirectionInbound, Peer: "+31201234567", Device: "HD00001",
			Start: start, Answer: &answer, End: &end, Result: hotdesk.ResultAnswered},
		{CallID: "b@x", Extension: "201", Direction: hotdesk.DirectionOutbound, Peer: "0612345678", Device: "HD00001",
			Start: start.Add(10 * time.Minute), End: &end, Result: hotdesk.ResultNoAnswer},
		{CallID: "c@x", Extension: "202", Direction: hotdesk.DirectionOutbound, Peer: "0699999999", Start: start, Result: hotdesk.ResultBusy},
	} {
		if err := hs.store.CreateCall(ctx, cr); err != nil {
			t.Fatal(err)
		}
	}
	w := c.get("/users/201")
	mustContain(t, w, 200, `"Number">&#43;31201234567`, "1:05", "0612345678", "no answer", `class="call call-answered"`)
	body := w.Body.String()
	if strings.Contains(body, "No calls yet.") || strings.Contains(body, "0699999999") {
		t.Fatal("call history shows the empty note or another user's call")
	}
	if strings.Index(body, `"Number">0612345678`) > strings.Index(body, `"Number">&#43;31201234567`) {
		t.Fatal("call history is not newest first")
	}

	// Logging a user out from the user page needs no confirmation box.
	if _, err := hs.desk.Login(ctx, desk.LoginRequest{Extension: "201", Device: "HD00001", Via: hotdesk.ViaAPI}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, c.get("/users/201"), 200, "Logged in at", `action="/users/201/logout"`)
	if w := c.post("/users/201/logout", nil); w.Code != http.StatusSeeOther {
		t.Fatalf("log out user: %d %s", w.Code, w.Body)
	}
	if _, err := hs.store.LoginByUser(ctx, "201"); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("still logged in: %v", err)
	}
	evs, _ := hs.store.FindAudit(ctx, hotdesk.AuditFilter{Kinds: []string{hotdesk.KindLogout}})
	if len(evs) != 1 || evs[0].Reason != hotdesk.ReasonAdmin || evs[0].Source != "console:admin" {
		t.Fatalf("logout audit: %+v", evs)
	}
}

func TestDeviceAutoLogoutOverride(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	c := hs.signIn()
	ctx := context.Background()
	c.post("/users", url.Values{"extension": {"201"}, "name": {"Ann"}, "outbound": {"national"}, "hotdesk": {"on"}})
	mustContain(t, c.get("/devices/new"), 200, `<option value="site" selected>`)
	form := url.Values{"model": {"snom"}, "mode": {"hotdesk"}, "label": {"Desk 7"}, "al_mode": {"own"},
		"al_daily_at": {"25:61"}, "al_max_duration": {"5s"}, "al_idle_timeout": {"soon"}}
	w := c.post("/devices", form)
	mustContain(t, w, http.StatusBadRequest, `id="err-al_daily_at"`, "Daily logout time", `id="err-al_max_duration"`,
		`id="err-al_idle_timeout"`, "at least 1m", `value="5s"`, `value="Desk 7"`, `<option value="own" selected>`)
	if _, n, _ := hs.store.FindDevices(ctx, hotdesk.DeviceFilter{}); n != 0 {
		t.Fatal("a device was created from a bad form")
	}
	form.Set("al_daily_at", "18:30")
	form.Set("al_max_duration", "8h")
	form.Del("al_idle_timeout")
	if w := c.post("/devices", form); w.Code != http.StatusOK {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	if p := hs.device("HD00001").AutoLogout; p == nil || *p != (hotdesk.AutoLogout{DailyAt: "18:30", MaxDuration: "8h"}) {
		t.Fatalf("override stored as %+v", p)
	}
	mustContain(t, c.get("/devices/HD00001"), 200, `<option value="own" selected>`, `value="18:30"`, `value="8h"`)

	// The desk rules use the override: 8 h from 09:00 ends before 18:30.
	res, err := hs.desk.Login(ctx, desk.LoginRequest{Extension: "201", Device: "HD00001", Via: hotdesk.ViaAPI})
	if err != nil {
		t.Fatal(err)
	}
	if want := hs.clock.Now().Add(8 * time.Hour); res.Login.EndsAt == nil || !res.Login.EndsAt.Equal(want) {
		t.Fatalf("login ends at %v, want %v", res.Login.EndsAt, want)
	}

	// Back to the site policy clears the override.
	edit := url.Values{"model": {"snom"}, "mode": {"hotdesk"}, "label": {"Desk 7"}, "al_mode": {"site"}, "al_max_duration": {"8h"}}
	if w := c.post("/devices/HD00001", edit); w.Code != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", w.Code, w.Body)
	}
	if p := hs.device("HD00001").AutoLogout; p != nil {
		t.Fatalf("override kept: %+v", p)
	}
	edit.Set("al_mode", "sometimes")
	mustContain(t, c.post("/devices/HD00001", edit), http.StatusBadRequest, `id="err-al_mode"`)
}

func TestSecureCookieOverTLS(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	req := httptest.NewRequest("POST", "https://pbx.example/signin", strings.NewReader(url.Values{"username": {"admin"}, "password": {hs.pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	hs.h.ServeHTTP(w, req)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("sign in over TLS: %d", w.Code)
	}
	cks := w.Result().Cookies()
	if len(cks) != 1 || !cks[0].Secure || !cks[0].HttpOnly || cks[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie over TLS: %+v", cks)
	}
}

func TestCloseEndsStreams(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	c := hs.signIn()
	srv := httptest.NewServer(hs.h)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/events", nil)
	req.AddCookie(c.cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	hs.con.Close()
	hs.con.Close() // twice is fine
	read := make(chan error, 1)
	go func() { _, err := io.ReadAll(resp.Body); read <- err }()
	select {
	case err := <-read:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("stream still open after Close")
	}
}

func TestAuditFiltersAndPaging(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	c := hs.signIn()
	ctx := context.Background()
	base := hs.clock.Now().Add(-24 * time.Hour)
	for i := range 120 {
		e := &hotdesk.AuditEvent{Time: base.Add(time.Duration(i) * time.Minute), Kind: hotdesk.KindLogin,
			Extension: "201", Device: "HD00001", Reason: hotdesk.ViaPhone, Source: "sip", Detail: fmt.Sprintf("n%03d", i)}
		if i%2 == 1 {
			e.Kind, e.Extension = hotdesk.KindLogout, "202"
		}
		if err := hs.store.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	w := c.get("/audit?extension=201&kind=login")
	mustContain(t, w, 200, "60 events", "n118", "Older")
	body := w.Body.String()
	if strings.Contains(body, "n117") || strings.Contains(body, "n018") || strings.Contains(body, "192.0.2.10") {
		t.Fatal("filter ignored or the first page holds more than one page")
	}
	older := regexp.MustCompile(`href="(/audit\?[^"]+)">Older`).FindStringSubmatch(body)
	if older == nil {
		t.Fatal("no link to older events")
	}
	w = c.get(strings.ReplaceAll(older[1], "&amp;", "&"))
	mustContain(t, w, 200, "60 events", "n018", "n000", "Newest")
	if strings.Contains(w.Body.String(), "n020<") {
		t.Fatal("the second page repeats the first")
	}
	// A time range in the site time zone (UTC here): 10 minutes of events.
	from, to := base.Add(10*time.Minute).Format(datetimeLocal), base.Add(19*time.Minute).Format(datetimeLocal)
	w = c.get("/audit?since=" + from + "&until=" + to)
	mustContain(t, w, 200, "10 events", "n010", "n019")
	if strings.Contains(w.Body.String(), "n020") || strings.Contains(w.Body.String(), "n009") {
		t.Fatal("time range not applied")
	}
	mustContain(t, c.get("/audit?device=HD00404"), 200, "No events match.")
}

package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

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
	if w.Code != http.StatusNoContent || w.Header().Get("HX-Redirect") != "/users/201" {
		t.Fatalf("htmx create: %d %v", w.Code, w.Header())
	}
	// Audit has the sign-in; sign out ends the session.
	evs, _ := hs.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindAdminSignIn}})
	if len(evs) != 2 || evs[0].Reason != "" || evs[1].Reason != "bad_password" {
		t.Fatalf("sign-in audit: %+v", evs)
	}
	c.mustPost("/signout", nil)
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
		hs.clock.Advance(time.Second)
	}
	good := url.Values{"username": {"admin"}, "password": {hs.pw}}
	mustContain(t, hs.do(nil, "POST", "/signin", good), http.StatusTooManyRequests, "Too many failed sign-ins", "Try again in 59 seconds")
	hs.clock.Advance(59 * time.Second)
	if w := hs.do(nil, "POST", "/signin", good); w.Code != http.StatusSeeOther {
		t.Fatalf("after the window: %d %s", w.Code, w.Body)
	}
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

package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hotdesk-pbx/hotdesk"
)

const (
	cookieName     = "hotdesk_session"
	csrfField      = "csrf"
	csrfHeader     = "X-CSRF-Token"
	signInFailures = 5           // failed sign-ins per source IP …
	signInWindow   = time.Minute // … within this window block it …
	signInBlock    = time.Minute // … for this long (429)
	bcryptCost     = bcrypt.DefaultCost
)

// dummyHash is compared against when the username does not exist, so a
// wrong username costs as long as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("hotdesk-dummy-password"), bcryptCost)

type ctxKey struct{}

// sessionOf returns the signed-in session of r, or nil.
func sessionOf(r *http.Request) *hotdesk.Session {
	s, _ := r.Context().Value(ctxKey{}).(*hotdesk.Session)
	return s
}

// EnsureAdmin creates the first console admin, "admin" with a generated
// password, when there is none. The password is returned only then
// (created=true) so the app can print it once; it is never stored in clear.
func EnsureAdmin(ctx context.Context, store hotdesk.AdminStore) (username, password string, created bool, err error) {
	admins, err := store.ListAdmins(ctx)
	if err != nil {
		return "", "", false, fmt.Errorf("list admins: %w", err)
	}
	if len(admins) > 0 {
		return admins[0].Username, "", false, nil
	}
	password, hash, err := newPassword()
	if err != nil {
		return "", "", false, err
	}
	a := &hotdesk.Admin{Username: "admin", PasswordHash: hash, CreatedAt: time.Now()}
	if err := store.CreateAdmin(ctx, a); err != nil {
		return "", "", false, fmt.Errorf("create admin: %w", err)
	}
	return a.Username, password, true, nil
}

// ResetPassword gives username ("" means "admin") a new generated password
// and returns it. An admin that does not exist yet is created, so a locked
// out site can always get back in with `hotdesk admin passwd`.
func ResetPassword(ctx context.Context, store hotdesk.AdminStore, username string) (string, error) {
	if username == "" {
		username = "admin"
	}
	password, hash, err := newPassword()
	if err != nil {
		return "", err
	}
	_, err = store.FindAdmin(ctx, username)
	switch hotdesk.ErrorCode(err) {
	case "":
		err = store.SetAdminPassword(ctx, username, hash)
	case hotdesk.ENOTFOUND:
		err = store.CreateAdmin(ctx, &hotdesk.Admin{Username: username, PasswordHash: hash, CreatedAt: time.Now()})
	}
	if err != nil {
		return "", fmt.Errorf("reset password: %w", err)
	}
	return password, nil
}

// newPassword returns a random 20-character password (100 bits) and its
// bcrypt hash.
func newPassword() (password, hash string, err error) {
	b := make([]byte, 13)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("generate password: %w", err)
	}
	password = strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:20]
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return "", "", fmt.Errorf("hash password: %w", err)
	}
	return password, string(h), nil
}

// randomToken returns n random bytes, URL-safe base64.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// tokenHash is what the store keeps instead of the session token.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// auth wraps a handler that needs a signed-in admin and, for POSTs, a valid
// CSRF token.
func (c *Console) auth(h handlerFunc) http.Handler {
	return c.handle(func(w http.ResponseWriter, r *http.Request) error {
		s, err := c.session(r)
		if err != nil {
			return err
		}
		if s == nil {
			return c.toSignIn(w, r)
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if err := r.ParseForm(); err != nil {
				return hotdesk.Errorf(hotdesk.EINVALID, "Malformed form.")
			}
		}
		if r.Method == http.MethodPost && !validCSRF(r, s.CSRF) {
			return hotdesk.Errorf(hotdesk.EFORBIDDEN, "The form has expired or did not come from this console. Reload the page and try again.")
		}
		if err := c.authorize(r, s); err != nil { // roles (roles.go)
			return err
		}
		return h(w, c.withSession(r, s))
	})
}

// withSession returns r carrying the signed-in session s.
func (c *Console) withSession(r *http.Request, s *hotdesk.Session) *http.Request {
	ctx := context.WithValue(r.Context(), ctxKey{}, s)
	return r.WithContext(context.WithValue(ctx, secureKey{}, c.secure))
}

// maybeAuth is for pages anyone may see (the "no such page" page): a
// signed-in admin gets them with the navigation, anyone else without, and
// nobody is sent to sign in.
func (c *Console) maybeAuth(h handlerFunc) http.Handler {
	page := c.handle(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, err := c.session(r); err == nil && s != nil {
			r = c.withSession(r, s)
		}
		page.ServeHTTP(w, r)
	})
}

// session returns the valid session named by the cookie, or nil.
func (c *Console) session(r *http.Request) (*hotdesk.Session, error) {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	s, err := c.store.FindSession(r.Context(), tokenHash(ck.Value))
	if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	if !c.now().Before(s.Expires) {
		return nil, nil
	}
	return s, nil
}

func (c *Console) toSignIn(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet || isHTMX(r) || r.URL.Path == "/events" {
		if isHTMX(r) {
			w.Header().Set("HX-Redirect", "/signin")
		}
		return hotdesk.Errorf(hotdesk.EUNAUTHORIZED, "Please sign in.")
	}
	target := "/signin"
	if r.URL.RequestURI() != "/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// validCSRF checks the token from the form field or the htmx header.
func validCSRF(r *http.Request, want string) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

type signInData struct {
	Form *form
	Next string
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) error {
	if s, _ := c.session(r); s != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	f := newForm(nil)
	c.render(w, r, http.StatusOK, "signin", signInData{Form: f, Next: safeNext(r.URL.Query().Get("next"))})
	return nil
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) error {
	if !sameOrigin(r) {
		return hotdesk.Errorf(hotdesk.EFORBIDDEN, "Sign-in must come from this console's own page.")
	}
	ip := clientIP(r)
	if wait := c.limiter.BlockedFor(ip, c.now()); wait > 0 {
		return hotdesk.Errorf(errTooMany, "Too many failed sign-ins from your address. Try again in %d seconds.", int(wait.Seconds()+0.999))
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return hotdesk.Errorf(hotdesk.EINVALID, "Malformed form.")
	}
	f := newForm(url.Values{"username": {strings.TrimSpace(r.PostForm.Get("username"))}})
	next := safeNext(r.PostForm.Get("next"))
	a, ok, err := c.checkPassword(r.Context(), f.Get("username"), r.PostForm.Get("password"))
	if err != nil {
		return err
	}
	if !ok {
		c.limiter.Fail(ip, c.now())
		c.audit(r.Context(), &hotdesk.AuditEvent{Kind: hotdesk.KindAdminSignIn, Reason: "bad_password", Source: ip, Detail: "admin " + f.Get("username")})
		f.Error = "Wrong username or password."
		c.render(w, r, http.StatusUnauthorized, "signin", signInData{Form: f, Next: next})
		return nil
	}
	if err := c.startSession(w, r, a.Username); err != nil {
		return err
	}
	c.audit(r.Context(), &hotdesk.AuditEvent{Kind: hotdesk.KindAdminSignIn, Source: ip, Detail: "admin " + a.Username})
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (c *Console) checkPassword(ctx context.Context, username, password string) (*hotdesk.Admin, bool, error) {
	a, err := c.store.FindAdmin(ctx, username)
	if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND || username == "" {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("find admin: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(password)) != nil || c.disabled(ctx, username) {
		return nil, false, nil
	}
	return a, true, nil
}

func (c *Console) startSession(w http.ResponseWriter, r *http.Request, username string) error {
	token, err := randomToken(32)
	if err != nil {
		return err
	}
	csrf, err := randomToken(32)
	if err != nil {
		return err
	}
	now := c.now()
	s := &hotdesk.Session{TokenHash: tokenHash(token), Username: username, CSRF: csrf, Expires: now.Add(c.ttl)}
	if err := c.store.CreateSession(r.Context(), s); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	if err := c.store.DeleteExpiredSessions(r.Context(), now); err != nil {
		c.log.Warn("console: delete expired sessions", "err", err)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: token, Path: "/", MaxAge: int(c.ttl.Seconds()),
		HttpOnly: true, Secure: c.secure || r.TLS != nil, SameSite: http.SameSiteStrictMode})
	return nil
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) error {
	if err := c.store.DeleteSession(r.Context(), sessionOf(r).TokenHash); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: c.secure || r.TLS != nil, SameSite: http.SameSiteStrictMode})
	return redirect(w, r, "/signin")
}

// audit appends a console audit event; a failure is logged, not shown.
func (c *Console) audit(ctx context.Context, e *hotdesk.AuditEvent) {
	c.admin.Audit(ctx, e.Source, e)
}

// sameOrigin rejects cross-site form posts: browsers send Origin on POST.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" && r.Header.Get("Sec-Fetch-Site") == "same-origin" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/"
	}
	return next
}

// clientIP is the peer address; X-Forwarded-For is not trusted because
// anyone could send it to dodge the sign-in limit.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

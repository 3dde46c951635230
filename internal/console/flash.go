package console

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// flashCookie carries the one-time message ("Saved.") from a handler that
// redirects to the page that shows it. Flashes come only from here, never
// from the URL: a link with ?flash=… would let anyone put a convincing
// success message on the console.
const flashCookie = "hotdesk_flash"

// flashMAC binds a flash to the session it was set in: the key is the
// session's CSRF token, a per-session secret that is on the session's
// pages but in no cookie, so a flash cookie planted by someone else (or
// carried over from another session) does not verify.
func flashMAC(csrf, msg string) string {
	m := hmac.New(sha256.New, []byte("hotdesk flash\x00"+csrf))
	m.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// setFlash stores msg for the next page this session renders. Without a
// session (nothing to bind it to) there is no flash.
func setFlash(w http.ResponseWriter, r *http.Request, msg string) {
	s := sessionOf(r)
	if s == nil || msg == "" {
		return
	}
	v := base64.RawURLEncoding.EncodeToString([]byte(msg)) + "." + flashMAC(s.CSRF, msg)
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: v, Path: "/", MaxAge: 300,
		HttpOnly: true, Secure: secureCookie(r), SameSite: http.SameSiteStrictMode})
}

// takeFlash returns the session's pending flash and clears it, so a reload
// does not show it again. A cookie that does not verify is cleared too.
func takeFlash(w http.ResponseWriter, r *http.Request) string {
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: secureCookie(r), SameSite: http.SameSiteStrictMode})
	s := sessionOf(r)
	if s == nil {
		return ""
	}
	enc, mac, ok := strings.Cut(ck.Value, ".")
	if !ok {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || !hmac.Equal([]byte(mac), []byte(flashMAC(s.CSRF, string(b)))) {
		return ""
	}
	return string(b)
}

// flashTarget splits a redirect target with a flash parameter
// ("/users/201?flash=Saved.") into the address the browser goes to and
// the message, which travels in the flash cookie instead.
func flashTarget(path string) (string, string) {
	u, err := url.Parse(path)
	if err != nil || !u.Query().Has("flash") {
		return path, ""
	}
	q := u.Query()
	msg := q.Get("flash")
	q.Del("flash")
	u.RawQuery = q.Encode()
	return u.String(), msg
}

// secureKey marks a request whose cookies get the Secure flag (Options.Secure
// or TLS), as the session cookie does.
type secureKey struct{}

func secureCookie(r *http.Request) bool {
	s, _ := r.Context().Value(secureKey{}).(bool)
	return s || r.TLS != nil
}

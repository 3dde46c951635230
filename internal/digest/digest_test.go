package digest

import (
	"errors"
	"testing"
	"time"

	"github.com/icholy/digest"
)

// TestCheck is the one rule both digest servers (SIP registrar, HTTP
// provisioning) follow.
func TestCheck(t *testing.T) {
	const realm, bind = "pbx.test", "UDP 127.0.0.2"
	v, err := NewVerifier(realm, []string{MD5}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_700_000_000, 0)
	users := map[string]string{"HD00001": "pw"}
	lookups := 0
	secret := func(user string) (HA1, error) {
		lookups++
		if user == "broken" {
			return HA1{}, errors.New("store down")
		}
		if pw, ok := users[user]; ok {
			return NewHA1(user, realm, pw), nil
		}
		return v.Unknown(user), nil
	}
	chal, err := digest.ParseChallenge(v.Challenges(bind, false, t0)[0])
	if err != nil {
		t.Fatal(err)
	}
	cred := func(user, pass, alg string, nc int, qop bool) *digest.Credentials {
		c := *chal
		c.Algorithm = alg
		if !qop {
			c.QOP = nil
		}
		cr, err := digest.Digest(&c, digest.Options{Method: "REGISTER", URI: "sip:pbx.test", Username: user, Password: pass, Cnonce: "cn", Count: nc})
		if err != nil {
			t.Fatal(err)
		}
		return cr
	}
	for _, tt := range []struct {
		name  string
		c     *digest.Credentials
		bind  string
		at    time.Time
		want  Outcome
		looks bool // the secret was looked up and a response compared
	}{
		{"right", cred("HD00001", "pw", "MD5", 1, true), bind, t0, OK, true},
		{"replayed count", cred("HD00001", "pw", "MD5", 1, true), bind, t0, Challenge, true},
		{"higher count", cred("HD00001", "pw", "MD5", 2, true), bind, t0, OK, true},
		{"wrong password", cred("HD00001", "nope", "MD5", 3, true), bind, t0, Failed, true},
		{"unknown user does the same work", cred("HD09999", "pw", "MD5", 1, true), bind, t0, Failed, true},
		{"lookup fails", cred("broken", "pw", "MD5", 1, true), bind, t0, Error, true},
		{"algorithm not offered", cred("HD00001", "pw", "SHA-256", 4, true), bind, t0, Challenge, false},
		{"nonce of another address", cred("HD00001", "pw", "MD5", 5, true), "UDP 127.0.0.3", t0, Challenge, false},
		{"expired nonce, right password", cred("HD00001", "pw", "MD5", 6, true), bind, t0.Add(2 * time.Minute), Stale, true},
		{"expired nonce, wrong password", cred("HD00001", "x", "MD5", 7, true), bind, t0.Add(2 * time.Minute), Failed, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := lookups
			got, _ := v.Check(tt.c, "REGISTER", tt.bind, tt.at, secret)
			if got != tt.want {
				t.Fatalf("outcome %d, want %d", got, tt.want)
			}
			if (lookups > before) != tt.looks {
				t.Fatalf("secret looked up: %v, want %v", lookups > before, tt.looks)
			}
		})
	}
	// Without qop (RFC 2069) a nonce is good for one request only.
	v2, _ := NewVerifier(realm, nil, time.Minute)
	chal, _ = digest.ParseChallenge(v2.Challenges(bind, false, t0)[0])
	plain := cred("HD00001", "pw", "", 0, false)
	plain.Cnonce, plain.Nc = "", 0 // as RFC 2069 clients send it
	for i, want := range []Outcome{OK, Challenge} {
		if got, _ := v2.Check(plain, "REGISTER", bind, t0, secret); got != want {
			t.Fatalf("request %d without qop: %d, want %d", i+1, got, want)
		}
	}
}

func TestCheckAlgorithms(t *testing.T) {
	if a, err := CheckAlgorithms(nil); err != nil || len(a) != 1 || a[0] != MD5 {
		t.Fatalf("default %v %v", a, err)
	}
	if _, err := CheckAlgorithms([]string{"SHA-256", "SHA-512"}); err == nil {
		t.Fatal("SHA-512 accepted")
	}
}

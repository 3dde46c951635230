package digest

import (
	"errors"
	"reflect"
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

func TestNonces(t *testing.T) {
	n, err := NewNonces(5 * time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_700_000_000, 0)
	const bind = "UDP 127.0.0.2"
	a, b := n.Issue(t0, bind), n.Issue(t0, bind)
	if a == b {
		t.Fatal("two nonces issued at the same instant are equal")
	}
	other, _ := NewNonces(5 * time.Minute)
	tampered := []byte(a)
	tampered[3] ^= 1
	for _, tt := range []struct {
		name  string
		nonce string
		at    time.Time
		want  error
		bind  string // "" = bind
	}{
		{"fresh", a, t0.Add(time.Second), nil, ""},
		{"at ttl", a, t0.Add(5 * time.Minute), nil, ""},
		{"expired", a, t0.Add(5*time.Minute + time.Second), ErrStale, ""},
		{"from the future", a, t0.Add(-2 * time.Minute), ErrStale, ""},
		{"tampered", string(tampered), t0, ErrInvalid, ""},
		{"other process", other.Issue(t0, bind), t0, ErrInvalid, ""},
		// Issue 11 item 8: a nonce passes only from where it was sent.
		{"other address", a, t0, ErrInvalid, "UDP 127.0.0.3"},
		{"other transport", a, t0, ErrInvalid, "TCP 127.0.0.2"},
		{"garbage", "abc", t0, ErrInvalid, ""},
		{"empty", "", t0, ErrInvalid, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.bind
			if b == "" {
				b = bind
			}
			if _, err := n.Check(tt.nonce, tt.at, b); !errors.Is(err, tt.want) {
				t.Fatalf("check = %v, want %v", err, tt.want)
			}
		})
	}
	sa, _ := n.Check(a, t0, bind)
	sb, _ := n.Check(b, t0, bind)
	if sa == sb {
		t.Fatal("two nonces share a serial")
	}
	if err := n.Use(sa, 1); err != nil {
		t.Fatal(err)
	}
	if err := n.Use(sa, 1); !errors.Is(err, ErrReplay) {
		t.Fatalf("same nc: %v, want replay", err)
	}
	if err := n.Use(sb, 1); err != nil {
		t.Fatalf("other nonce: %v", err)
	}
	if err := n.Use(sa, 2); err != nil {
		t.Fatalf("higher nc: %v", err)
	}
	if err := n.Use(sa, 1); !errors.Is(err, ErrReplay) {
		t.Fatalf("lower nc: %v, want replay", err)
	}
	// Counts are kept while the nonce can pass check: later, as before.
	if err := n.Use(sa, 2); !errors.Is(err, ErrReplay) {
		t.Fatalf("later: %v, want replay", err)
	}
}

func TestExpectedResponseRFC7616Vectors(t *testing.T) {
	const (
		user, realm, pass = "Mufasa", "http-auth@example.org", "Circle of Life"
		nonce             = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
		cnonce            = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
	)
	for _, tt := range []struct {
		alg, ha1, want string
	}{
		{"MD5", hashHex(false, user, realm, pass), "8ca523f5e9506fed4657c9700eebdbec"},
		{"SHA-256", hashHex(true, user, realm, pass), "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	} {
		t.Run(tt.alg, func(t *testing.T) {
			c := &digest.Credentials{Username: user, Realm: realm, Nonce: nonce, URI: "/dir/index.html",
				Algorithm: tt.alg, Cnonce: cnonce, QOP: "auth", Nc: 1}
			got, err := Response("GET", c, tt.ha1)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("response %s, want %s", got, tt.want)
			}
		})
	}
}

// RFC 2617 section 3.5 style without qop (RFC 2069 compatibility).
func TestExpectedResponseWithoutQOP(t *testing.T) {
	c := &digest.Credentials{Username: "u", Realm: "r", Nonce: "n", URI: "sip:r"}
	ha1 := hashHex(false, "u", "r", "p")
	got, err := Response("REGISTER", c, ha1)
	if err != nil {
		t.Fatal(err)
	}
	if want := hashHex(false, ha1, "n", hashHex(false, "REGISTER", "sip:r")); got != want {
		t.Fatalf("response %s, want %s", got, want)
	}
}

func TestHostOf(t *testing.T) {
	for in, want := range map[string]string{"1.2.3.4:5060": "1.2.3.4", "[::1]:5060": "::1", "1.2.3.4": "1.2.3.4"} {
		if got := Host(in); got != want {
			t.Errorf("Host(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseCredentialsAgreesWithLibrary(t *testing.T) {
	for _, in := range []string{
		`Digest username="HD00001", realm="pbx.test", nonce="abc", uri="sip:pbx.test", response="0123", algorithm=MD5, cnonce="c1", qop=auth, nc=00000001`,
		`Digest username="HD00001",realm="pbx.test",nonce="abc",uri="sip:pbx.test",response="0123",algorithm=SHA-256,cnonce="c1",qop=auth,nc=0000000a`,
		`digest username="a\"b", realm="r", nonce="n", uri="sip:x", response="r", opaque="o"`,
		`Digest username=unquoted, realm="r r", nonce="n,with,commas", uri="sip:x;transport=tcp", response="r"`,
		`Digest   username = "spaces" ,  realm = "r", nc=7fffffff, userhash=true`,
	} {
		t.Run(in, func(t *testing.T) {
			want, err := digest.ParseCredentials(in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseCredentials(in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseCredentialsRejectsMalformed(t *testing.T) {
	for _, in := range []string{
		`Basic dXNlcjpwYXNz`,
		`Digest username="unterminated`,
		`Digest username`,
		`Digest nc=zz`,
	} {
		if c, err := ParseCredentials(in); err == nil {
			t.Errorf("ParseCredentials(%q) = %+v, want error", in, c)
		}
	}
}

func TestDigestResponseAgreesWithLibrary(t *testing.T) {
	for _, alg := range []string{"MD5", "SHA-256"} {
		for _, qop := range [][]string{nil, {"auth"}} {
			for nc := 1; nc < 300; nc += 97 {
				chal := &digest.Challenge{Realm: "pbx.test", Nonce: "n0nce", Algorithm: alg, QOP: qop}
				want, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: "sip:201@pbx.test",
					Username: "HD00001", Password: "pw", Cnonce: "cn", Count: nc})
				if err != nil {
					t.Fatal(err)
				}
				ha1 := NewHA1("HD00001", "pbx.test", "pw").of(alg)
				got, err := Response("INVITE", want, ha1)
				if err != nil || got != want.Response {
					t.Fatalf("%s qop=%v nc=%d: got %s (%v), want %s", alg, qop, nc, got, err, want.Response)
				}
			}
		}
	}
	if _, err := Response("INVITE", &digest.Credentials{Algorithm: "SHA-512"}, hashHex(false, "x")); err == nil {
		t.Error("SHA-512 accepted")
	}
}

func TestChallengeTemplatesMatchLibrary(t *testing.T) {
	tm := NewChallenges("pbx.test", []string{"SHA-256", "MD5"})
	for _, stale := range []bool{false, true} {
		got := tm.Headers("N1", stale)
		for i, alg := range []string{"SHA-256", "MD5"} {
			want := (&digest.Challenge{Realm: "pbx.test", Nonce: "N1", Algorithm: alg, QOP: []string{"auth"}, Stale: stale}).String()
			if got[i] != want {
				t.Errorf("got %q, want %q", got[i], want)
			}
		}
	}
}

func FuzzParseCredentials(f *testing.F) {
	f.Add(`Digest username="a", realm="b", nonce="c", nc=00000001`)
	f.Add(`Digest username="a\"`)
	f.Fuzz(func(t *testing.T, s string) {
		ParseCredentials(s) // must not panic
	})
}

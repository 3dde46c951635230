package digest

import (
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/icholy/digest"
)

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
	// Counts survive one rotation (the nonce may still be valid) and go after two.
	n.Sweep(t0)
	n.Sweep(t0.Add(6 * time.Minute))
	if err := n.Use(sa, 2); !errors.Is(err, ErrReplay) {
		t.Fatalf("after one rotation: %v, want replay", err)
	}
	n.Sweep(t0.Add(12 * time.Minute))
	if got := n.Tracked(); got != 0 {
		t.Fatalf("%d nonces tracked after two rotations, want 0", got)
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
		{"MD5", hashHex(md5.New(), user, realm, pass), "8ca523f5e9506fed4657c9700eebdbec"},
		{"SHA-256", hashHex(sha256.New(), user, realm, pass), "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
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
	ha1 := hashHex(md5.New(), "u", "r", "p")
	got, err := Response("REGISTER", c, ha1)
	if err != nil {
		t.Fatal(err)
	}
	if want := hashHex(md5.New(), ha1, "n", hashHex(md5.New(), "REGISTER", "sip:r")); got != want {
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

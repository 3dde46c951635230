package registrar

import (
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

func TestNonces(t *testing.T) {
	n, err := newNonces(5 * time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_700_000_000, 0)
	const bind = "UDP 127.0.0.2"
	a, b := n.issue(t0, bind), n.issue(t0, bind)
	if a == b {
		t.Fatal("two nonces issued at the same instant are equal")
	}
	other, _ := newNonces(5 * time.Minute)
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
		{"expired", a, t0.Add(5*time.Minute + time.Second), errNonceStale, ""},
		{"from the future", a, t0.Add(-2 * time.Minute), errNonceStale, ""},
		{"tampered", string(tampered), t0, errNonceInvalid, ""},
		{"other process", other.issue(t0, bind), t0, errNonceInvalid, ""},
		// Issue 11 item 8: a nonce passes only from where it was sent.
		{"other address", a, t0, errNonceInvalid, "UDP 127.0.0.3"},
		{"other transport", a, t0, errNonceInvalid, "TCP 127.0.0.2"},
		{"garbage", "abc", t0, errNonceInvalid, ""},
		{"empty", "", t0, errNonceInvalid, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.bind
			if b == "" {
				b = bind
			}
			if _, err := n.check(tt.nonce, tt.at, b); !errors.Is(err, tt.want) {
				t.Fatalf("check = %v, want %v", err, tt.want)
			}
		})
	}
	sa, _ := n.check(a, t0, bind)
	sb, _ := n.check(b, t0, bind)
	if sa == sb {
		t.Fatal("two nonces share a serial")
	}
	if err := n.use(sa, 1); err != nil {
		t.Fatal(err)
	}
	if err := n.use(sa, 1); !errors.Is(err, errNonceReplay) {
		t.Fatalf("same nc: %v, want replay", err)
	}
	if err := n.use(sb, 1); err != nil {
		t.Fatalf("other nonce: %v", err)
	}
	if err := n.use(sa, 2); err != nil {
		t.Fatalf("higher nc: %v", err)
	}
	if err := n.use(sa, 1); !errors.Is(err, errNonceReplay) {
		t.Fatalf("lower nc: %v, want replay", err)
	}
	// Counts survive one rotation (the nonce may still be valid) and go after two.
	n.sweep(t0)
	n.sweep(t0.Add(6 * time.Minute))
	if err := n.use(sa, 2); !errors.Is(err, errNonceReplay) {
		t.Fatalf("after one rotation: %v, want replay", err)
	}
	n.sweep(t0.Add(12 * time.Minute))
	if got := n.tracked(); got != 0 {
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
			got, err := expectedResponse("GET", c, tt.ha1)
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
	got, err := expectedResponse("REGISTER", c, ha1)
	if err != nil {
		t.Fatal(err)
	}
	if want := hashHex(md5.New(), ha1, "n", hashHex(md5.New(), "REGISTER", "sip:r")); got != want {
		t.Fatalf("response %s, want %s", got, want)
	}
}

func mustParseRequest(tb testing.TB, headers ...string) *sip.Request {
	tb.Helper()
	raw := "REGISTER sip:pbx.test SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n" +
		"From: <sip:HD1@pbx.test>;tag=1\r\nTo: <sip:HD1@pbx.test>\r\n" +
		"Call-ID: c1\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n" +
		strings.Join(headers, "") + "Content-Length: 0\r\n\r\n"
	msg, err := sip.NewParser().ParseSIP([]byte(raw))
	if err != nil {
		tb.Fatalf("parse: %v", err)
	}
	return msg.(*sip.Request)
}

func TestParseContacts(t *testing.T) {
	for _, tt := range []struct {
		name     string
		headers  []string
		want     []contactReq
		wildcard bool
		wantErr  bool
	}{
		{"default expiry", []string{"Contact: <sip:HD1@10.0.0.1:5060>\r\n"},
			[]contactReq{{"sip:HD1@10.0.0.1:5060", 3600}}, false, false},
		{"expires header", []string{"Contact: <sip:HD1@10.0.0.1>\r\n", "Expires: 120\r\n"},
			[]contactReq{{"sip:HD1@10.0.0.1", 120}}, false, false},
		{"param beats header", []string{"Contact: <sip:HD1@10.0.0.1>;expires=300\r\n", "Expires: 120\r\n"},
			[]contactReq{{"sip:HD1@10.0.0.1", 300}}, false, false},
		{"two headers", []string{"Contact: <sip:a@10.0.0.1>\r\n", "Contact: <sip:b@10.0.0.2;transport=tcp>;expires=0\r\n"},
			[]contactReq{{"sip:a@10.0.0.1", 3600}, {"sip:b@10.0.0.2;transport=tcp", 0}}, false, false},
		{"comma separated", []string{"Contact: <sip:a@10.0.0.1>;expires=60, <sip:b@10.0.0.2>;expires=90\r\n"},
			[]contactReq{{"sip:a@10.0.0.1", 60}, {"sip:b@10.0.0.2", 90}}, false, false},
		{"no contact is a query", nil, nil, false, false},
		{"wildcard", []string{"Contact: *\r\n", "Expires: 0\r\n"}, nil, true, false},
		{"wildcard without expires 0", []string{"Contact: *\r\n", "Expires: 60\r\n"}, nil, false, true},
		{"wildcard with other contact", []string{"Contact: *\r\n", "Contact: <sip:a@10.0.0.1>\r\n", "Expires: 0\r\n"}, nil, false, true},
		{"bad expires header", []string{"Contact: <sip:a@10.0.0.1>\r\n", "Expires: soon\r\n"}, nil, false, true},
		{"negative expires param", []string{"Contact: <sip:a@10.0.0.1>;expires=-1\r\n"}, nil, false, true},
		{"huge expires clamped", []string{"Contact: <sip:a@10.0.0.1>;expires=99999999999\r\n"},
			[]contactReq{{"sip:a@10.0.0.1", 1<<32 - 1}}, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, wildcard, err := parseContacts(mustParseRequest(t, tt.headers...), 3600)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if wildcard != tt.wildcard {
				t.Errorf("wildcard = %v", wildcard)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("contact %d = %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestLimiter(t *testing.T) {
	l := newLimiter(3, 5, time.Minute, 10*time.Minute)
	t0 := time.Unix(1_700_000_000, 0)
	ip := "192.0.2.1"
	want := []verdict{verdictCounted, verdictCounted, verdictSlow, verdictSlow, verdictBlocked, verdictSlow}
	for i, w := range want {
		if got := l.fail(ip, t0.Add(time.Duration(i)*time.Second)); got != w {
			t.Fatalf("failure %d: verdict %d, want %d", i+1, got, w)
		}
	}
	if !l.slow(ip, t0.Add(10*time.Second)) {
		t.Error("source not slowed")
	}
	if l.allow(ip, t0.Add(9*time.Minute)) {
		t.Error("blocked source allowed")
	}
	if !l.allow("192.0.2.2", t0) {
		t.Error("other source not allowed")
	}
	if !l.allow(ip, t0.Add(11*time.Minute)) {
		t.Error("source still blocked after block time")
	}
	l.sweep(t0.Add(11 * time.Minute))
	if l.blocked.Load() != 0 || len(l.src) != 0 {
		t.Errorf("after sweep: blocked=%d sources=%d", l.blocked.Load(), len(l.src))
	}
	// Failures spread wider than the window never add up.
	l2 := newLimiter(3, 5, time.Minute, 10*time.Minute)
	for i := 0; i < 10; i++ {
		if v := l2.fail(ip, t0.Add(time.Duration(i)*61*time.Second)); v != verdictCounted {
			t.Fatalf("spread failure %d: verdict %d", i, v)
		}
	}
}

func TestHostOf(t *testing.T) {
	for in, want := range map[string]string{"1.2.3.4:5060": "1.2.3.4", "[::1]:5060": "::1", "1.2.3.4": "1.2.3.4"} {
		if got := hostOf(in); got != want {
			t.Errorf("hostOf(%q) = %q, want %q", in, got, want)
		}
	}
}

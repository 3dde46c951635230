package digest

import (
	"crypto/md5"
	"reflect"
	"testing"

	"github.com/icholy/digest"
)

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
				ha1 := hashHex(hashFor(alg)(), "HD00001", "pbx.test", "pw")
				got, err := Response("INVITE", want, ha1)
				if err != nil || got != want.Response {
					t.Fatalf("%s qop=%v nc=%d: got %s (%v), want %s", alg, qop, nc, got, err, want.Response)
				}
			}
		}
	}
	if _, err := Response("INVITE", &digest.Credentials{Algorithm: "SHA-512"}, hashHex(md5.New(), "x")); err == nil {
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

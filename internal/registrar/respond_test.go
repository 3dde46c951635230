package registrar

import (
	"strings"
	"testing"
	"time"
)

// The Date header is formatted once per second and still follows the
// clock; To tags stay unique without a nonce cut per REGISTER.
func TestDateAndToTagWithoutPerRequestWork(t *testing.T) {
	r, err := New(Options{Store: newFakeStore(), Realm: testRealm, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 2, 5, 0, 0, 100, time.UTC)
	for _, at := range []time.Time{t0, t0.Add(900 * time.Millisecond), t0.Add(time.Second), t0.Add(-time.Hour)} {
		if got, want := r.date(at), at.Format("Mon, 02 Jan 2006 15:04:05 GMT"); got != want {
			t.Fatalf("date at %v: %q, want %q", at, got, want)
		}
	}
	other, err := New(Options{Store: newFakeStore(), Realm: testRealm, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 1000 {
		for _, tag := range []string{r.toTag(), other.toTag()} {
			if seen[tag] || !strings.HasPrefix(tag, "r") {
				t.Fatalf("To tag %q repeated or malformed", tag)
			}
			seen[tag] = true
		}
	}
}

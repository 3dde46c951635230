package digest

import (
	"testing"
	"time"
)

// Secret computes the HA1 of the offered algorithms only, the same values
// as NewHA1, and a dummy one (same work, never the same value) for an
// unknown user.
func TestSecretOfferedAlgorithmsOnly(t *testing.T) {
	full := NewHA1("HD00001", "pbx.test", "pw-one")
	for _, algs := range [][]string{{MD5}, {SHA256}, {SHA256, MD5}} {
		v, err := NewVerifier("pbx.test", algs, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, known := range []bool{true, false} {
			h := v.Secret("HD00001", "pw-one", known)
			for _, alg := range []string{MD5, SHA256} {
				offered := alg == algs[0] || len(algs) > 1
				got, want := h.of(alg), full.of(alg)
				switch {
				case !offered && got != "":
					t.Errorf("%v known=%v: %s HA1 computed, not offered", algs, known, alg)
				case offered && known && got != want:
					t.Errorf("%v: %s HA1 %q, want %q", algs, alg, got, want)
				case offered && !known && (len(got) != len(want) || got == want):
					t.Errorf("%v unknown: %s HA1 %q", algs, alg, got)
				}
			}
			if h.Known != known {
				t.Errorf("%v: Known %v, want %v", algs, h.Known, known)
			}
		}
	}
}

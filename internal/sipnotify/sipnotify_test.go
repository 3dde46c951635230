package sipnotify

import (
	"testing"
	"time"
)

func TestState(t *testing.T) {
	for _, tt := range []struct {
		final  bool
		reason string
		left   time.Duration
		want   string
	}{
		{false, "", 299600 * time.Millisecond, "active;expires=300"},
		{false, "", -time.Second, "active;expires=0"},
		{true, "timeout", time.Minute, "terminated;reason=timeout"},
		{true, "", time.Minute, "terminated"},
	} {
		if got := State(tt.final, tt.reason, tt.left); got != tt.want {
			t.Errorf("State(%v, %q, %v) = %q, want %q", tt.final, tt.reason, tt.left, got, tt.want)
		}
	}
}

func TestExpiryDefaulted(t *testing.T) {
	for _, tt := range []struct{ in, want Expiry }{
		{Expiry{}, Expiry{60, 3600, 3600}},
		{Expiry{Min: 120, Max: 30}, Expiry{120, 120, 120}},
		{Expiry{Min: 10, Max: 600, Default: 5}, Expiry{10, 600, 10}},
	} {
		if got := tt.in.Defaulted(); got != tt.want {
			t.Errorf("%+v.Defaulted() = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

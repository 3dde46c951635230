package admin

import "testing"

func TestTrunkStateLabel(t *testing.T) {
	for _, tc := range []struct {
		s    TrunkState
		want string
		ok   bool
	}{
		{TrunkState{}, "no trunk", true},
		{TrunkState{Configured: true}, "no registration (by address)", true},
		{TrunkState{Configured: true, Register: true}, "not registered yet", false},
		{TrunkState{Configured: true, Register: true, Error: "timeout"}, "failed", false},
		{TrunkState{Configured: true, Register: true, Registered: true}, "registered", true},
	} {
		if got := tc.s.Label(); got != tc.want || tc.s.OK() != tc.ok {
			t.Errorf("%+v: %q ok=%v, want %q ok=%v", tc.s, got, tc.s.OK(), tc.want, tc.ok)
		}
	}
}

package feature_test

import (
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// BenchmarkInlineLoginCall is one login call by feature code through the
// real SIP, desk, media and feature pieces on loopback (the in-memory
// store): INVITE *35*201*1234 with digest, the 200 with the confirmation
// playing, ACK, BYE at once. The code toggles, so the calls alternate
// login and logout, as bench/featurelogin's do. Allocations and CPU of
// the test phone are included; profile with -memprofile and focus on the
// server's packages to see the PBX's part.
func BenchmarkInlineLoginCall(b *testing.B) {
	p := mustPBX(b)
	p.mustUser(b, "201", "1234", true)
	ph := p.mustPhone(b, "HD00001", hotdesk.ModeHotdesk)
	b.ReportAllocs()
	for b.Loop() {
		c := mustDial(b, ph, "*35*201*1234")
		if err := c.Hangup(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	p.waitIdle(b, 10e9)
}

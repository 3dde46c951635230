package b2bua_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

func TestTrunkRegistersWithDigestAndRefreshes(t *testing.T) {
	t.Parallel()
	p := mustPBX(t)
	port := siptest.FreePort(t, providerIP)
	r := startSipp(t, "call_trunk_register_uas.xml", port, "", "-key", "trunkuser", "pbxuser", "-key", "trunkpass", "s3cret")
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	p.withTrunk(t, port)
	p.updateSettings(t, func(st *hotdesk.Settings) { st.Trunk.Register = true })
	trace := r.MustWait(t) // two cycles: register, then refresh of the 2 s registration
	if d := time.Since(start); d > 3500*time.Millisecond {
		t.Errorf("registered and refreshed in %v; a 2 s registration must be refreshed before it lapses", d)
	}
	reg := received(trace, "REGISTER")
	for _, want := range []string{"REGISTER sip:provider.test", "From: <sip:pbxuser@provider.test>", "<sip:pbxuser@127.0.0.1:", "Expires: 3600"} {
		if !strings.Contains(reg, want) {
			t.Errorf("REGISTER lacks %q:\n%s", want, reg)
		}
	}
	if strings.Count(trace, "Authorization: Digest") < 2 {
		t.Error("the PBX did not answer both challenges")
	}
	if strings.Contains(trace, "s3cret") {
		t.Error("the trunk password went over the wire")
	}
	if s := p.b2b.TrunkStatus(); !s.Registered || s.Error != "" {
		t.Errorf("status %+v, want registered", s)
	}
}

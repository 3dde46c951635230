package web

import (
	"context"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// Issue 15: the NAT keep-alive interval and the no-media timeout are
// settings with defaults, checked on PUT.
func TestSettingsNAT(t *testing.T) {
	e := MustEnv(t)
	var s hotdesk.Settings
	e.do("GET", "/api/v1/settings", "").want(t, 200, &s)
	if s.NAT != (hotdesk.NATSettings{KeepaliveSeconds: 25, NoMediaSeconds: 60}) {
		t.Fatalf("default NAT settings %+v", s.NAT)
	}
	e.do("PUT", "/api/v1/settings", `{"nat":{"keepalive_seconds":3}}`).wantErr(t, 400, hotdesk.EINVALID, "nat.keepalive_seconds")
	e.do("PUT", "/api/v1/settings", `{"nat":{"keepalive_seconds":15}}`).want(t, 200, &s)
	st, _ := e.store.GetSettings(context.Background())
	if st.NAT.KeepaliveSeconds != 15 || st.NAT.NoMediaSeconds != 60 {
		t.Fatalf("stored %+v", st.NAT)
	}
}

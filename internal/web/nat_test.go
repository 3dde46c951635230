package web

import (
	"context"
	"testing"
	"time"

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

// A device's registration says whether the phone is behind NAT and where
// its flow is (source, transport): how an admin checks a phone's flow.
func TestRegistrationShowsNAT(t *testing.T) {
	e := MustEnv(t)
	id := e.MustDesk()
	e.regs.Set(id, hotdesk.Binding{Device: id, Contact: "sip:HD00001@192.168.1.20:5060", Expires: e.clock.Now().Add(time.Hour),
		Source: "203.0.113.7:40312", Transport: "udp", NAT: true})
	var d deviceOut
	e.do("GET", "/api/v1/devices/"+id, "").want(t, 200, &d)
	if len(d.Registration) != 1 || !d.Registration[0].NAT || d.Registration[0].Source != "203.0.113.7:40312" {
		t.Fatalf("registration %+v", d.Registration)
	}
}

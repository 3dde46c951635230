package web

import (
	"context"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/admin/admintest"
)

// TestPhoneActions: check-sync, reprovision and reboot reach the phone
// through the admin service; a reset SIP password is returned once and
// stored; unknown phones are 404.
func TestPhoneActions(t *testing.T) {
	t.Parallel()
	sig := &admintest.Phones{}
	var e *env
	e = MustEnv(t, func(o *Options) {
		o.Admin = admin.New(admin.Options{Store: o.Store.(admin.Store), Desk: o.Desk, Bus: o.Bus, Logger: o.Logger, Now: o.Now, Phones: sig})
	})
	id := e.MustDesk()
	for _, tc := range []struct{ path, event string }{
		{"check-sync", "check-sync"}, {"reprovision", "check-sync;reboot=false"}, {"reboot", "check-sync;reboot=true"},
	} {
		var out phoneActionOut
		e.do("POST", "/api/v1/devices/"+id+"/"+tc.path, "").want(t, 200, &out)
		if out.Device != id || out.Contacts != 1 || sig.Last() != id+" "+tc.event {
			t.Fatalf("%s: %+v, sent %v", tc.path, out, sig.Sent())
		}
	}
	e.do("POST", "/api/v1/devices/HD09999/reboot", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	e.do("GET", "/api/v1/devices/"+id+"/reboot", "").wantErr(t, 405, admin.CodeMethod, "")

	var pw struct {
		Device      string `json:"device"`
		SIPPassword string `json:"sip_password"`
	}
	e.do("POST", "/api/v1/devices/"+id+"/sip-password", "").want(t, 200, &pw)
	d, err := e.store.FindDevice(context.Background(), id)
	if err != nil || pw.Device != id || len(pw.SIPPassword) < 20 || d.SIPPassword != pw.SIPPassword {
		t.Fatalf("reset: %+v, stored %q, %v", pw, d.SIPPassword, err)
	}
	e.do("POST", "/api/v1/devices/HD09999/sip-password", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
}

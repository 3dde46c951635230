package web

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
)

func TestDeviceCreate(t *testing.T) {
	e := MustEnv(t)
	var d deviceOut
	r := e.do("POST", "/api/v1/devices", `{"label":"Desk 3.01","mode":"hotdesk","model":"yealink","mac":"80:5E:C0:12:34:56",
		"location":{"text":"3rd floor","country":"nl","seat":"3.01"},"emergency_callback":"+31201234000"}`)
	r.want(t, 201, &d)
	if d.ID != "HD00001" || d.MAC != "805ec0123456" || d.Model != "yealink" || d.Location.Country != "NL" ||
		d.LoggedIn != nil || len(d.Registration) != 0 || r.Header.Get("Location") != "/api/v1/devices/HD00001" {
		t.Fatalf("created %+v", d)
	}
	if len(d.SIPPassword) < 20 {
		t.Fatalf("sip_password %q is not a strong generated one", d.SIPPassword)
	}
	stored, err := e.store.FindDevice(context.Background(), "HD00001")
	if err != nil {
		t.Fatal(err)
	}
	if stored.SIPPassword != d.SIPPassword || len(stored.ProvisionToken) < 40 {
		t.Fatalf("stored password %q token %q", stored.SIPPassword, stored.ProvisionToken)
	}
	var d2 deviceOut
	e.do("POST", "/api/v1/devices", `{}`).want(t, 201, &d2)
	if d2.ID != "HD00002" || d2.Model != "generic" || d2.Mode != "hotdesk" || d2.SIPPassword == d.SIPPassword {
		t.Fatalf("second device %+v", d2)
	}
	// The password is shown once: never in later reads.
	for _, path := range []string{"/api/v1/devices/HD00001", "/api/v1/devices"} {
		b := e.do("GET", path, "").want(t, 200, nil).Body
		if strings.Contains(string(b), d.SIPPassword) || strings.Contains(string(b), "sip_password") {
			t.Errorf("GET %s shows the SIP password: %s", path, b)
		}
	}
	if strings.Contains(e.logs.String(), d.SIPPassword) {
		t.Error("SIP password in the log")
	}
	// A given password is kept.
	var p deviceOut
	e.do("POST", "/api/v1/devices", `{"id":"soft-205","mode":"personal","owner":"205","sip_password":"a-long-enough-secret"}`).
		wantErr(t, 400, hotdesk.EINVALID, "owner")
	e.MustUser("205")
	e.do("POST", "/api/v1/devices", `{"id":"soft-205","mode":"personal","owner":"205","sip_password":"a-long-enough-secret"}`).want(t, 201, &p)
	if p.SIPPassword != "a-long-enough-secret" || p.Owner != "205" {
		t.Fatalf("personal %+v", p)
	}
	if n := e.auditCount(hotdesk.KindDeviceChanged); n != 3 {
		t.Errorf("device_changed audits = %d, want 3", n)
	}
}

func TestDeviceValidation(t *testing.T) {
	e := MustEnv(t)
	e.do("POST", "/api/v1/devices", `{"mac":"805ec0123456"}`).want(t, 201, nil)
	for _, c := range []struct {
		body, field string
		status      int
	}{
		{`{"mac":"80-5e-c0-12-34-56"}`, "mac", 409},
		{`{"mac":"805ec01234"}`, "mac", 400},
		{`{"model":"cisco"}`, "model", 400},
		{`{"mode":"shared"}`, "mode", 400},
		{`{"mode":"personal","owner":"201"}`, "id", 400},
		{`{"id":"x","mode":"personal"}`, "owner", 400},
		{`{"id":"bad id"}`, "id", 400},
		{`{"id":"HD00001"}`, "id", 409},
		{`{"emergency_callback":"112"}`, "emergency_callback", 400},
		{`{"location":{"country":"NLD"}}`, "location.country", 400},
		{`{"location":{"planet":"Mars"}}`, "location.planet", 400},
		{`{"sip_password":"short"}`, "sip_password", 400},
		{`{"auto_logout":{"daily_at":"25:00"}}`, "auto_logout.daily_at", 400},
		{`{"auto_logout":{"max_duration":"soon"}}`, "auto_logout.max_duration", 400},
		{`{"auto_logout":{"when":"never"}}`, "auto_logout.when", 400},
		{`{"label":"` + strings.Repeat("x", 101) + `"}`, "label", 400},
	} {
		code := hotdesk.EINVALID
		if c.status == 409 {
			code = hotdesk.ECONFLICT
		}
		e.do("POST", "/api/v1/devices", c.body).wantErr(t, c.status, code, c.field)
	}
	var list []deviceOut
	r := e.do("GET", "/api/v1/devices", "").want(t, 200, &list)
	if len(list) != 1 || r.Header.Get("X-Total-Count") != "1" {
		t.Fatalf("bad creates left devices: %+v", list)
	}
	e.do("GET", "/api/v1/devices?mode=x", "").wantErr(t, 400, hotdesk.EINVALID, "mode")
}

func TestDevicePatchDeleteAndRegistration(t *testing.T) {
	e := MustEnv(t)
	id := e.MustDesk()
	exp := e.clock.Now().Add(time.Hour)
	e.regs.Set(id, hotdesk.Binding{Device: id, Contact: "sip:HD00001@192.0.2.10:5060", Expires: exp,
		UserAgent: "Yealink T54W", Source: "192.0.2.10:5060", Transport: "udp", Node: "pbx2"})

	var d deviceOut
	e.do("PATCH", "/api/v1/devices/"+id, `{"label":"Desk 4.02","auto_logout":{"max_duration":"8h"}}`).want(t, 200, &d)
	if d.Label != "Desk 4.02" || d.AutoLogout == nil || d.AutoLogout.MaxDuration != "8h" {
		t.Fatalf("patched %+v", d)
	}
	if len(d.Registration) != 1 || d.Registration[0].UserAgent != "Yealink T54W" || d.Registration[0].Transport != "udp" ||
		!d.Registration[0].Expires.Equal(exp) || d.Registration[0].Node != "pbx2" {
		t.Fatalf("registration %+v", d.Registration)
	}
	e.do("PATCH", "/api/v1/devices/"+id, `{"auto_logout":null}`).want(t, 200, &d)
	if d.AutoLogout != nil || d.Label != "Desk 4.02" {
		t.Fatalf("override not cleared: %+v", d)
	}
	e.do("PATCH", "/api/v1/devices/"+id, `{"id":"HD00009"}`).wantErr(t, 400, hotdesk.EINVALID, "id")
	e.do("PATCH", "/api/v1/devices/"+id, `{"mode":"personal"}`).wantErr(t, 400, hotdesk.EINVALID, "owner")
	e.do("PATCH", "/api/v1/devices/HD00099", `{"label":"x"}`).wantErr(t, 404, hotdesk.ENOTFOUND, "")

	// A logged-in desk shows its user; making it personal frees it.
	e.MustUser("201")
	e.do("POST", "/api/v1/logins", `{"extension":"201","device":"`+id+`"}`).want(t, 201, nil)
	e.do("GET", "/api/v1/devices/"+id, "").want(t, 200, &d)
	if d.LoggedIn == nil || *d.LoggedIn != "201" {
		t.Fatalf("logged_in %v", d.LoggedIn)
	}
	e.do("PATCH", "/api/v1/devices/"+id, `{"mode":"personal","owner":"201"}`).want(t, 200, &d)
	if d.Mode != "personal" || d.LoggedIn != nil {
		t.Fatalf("personal %+v", d)
	}

	e.do("DELETE", "/api/v1/devices/"+id, "").want(t, 204, nil)
	e.do("GET", "/api/v1/devices/"+id, "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	e.do("DELETE", "/api/v1/devices/"+id, "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
}

// Issue 11 item 7: a device lock (after wrong PINs from it) is visible in
// the device JSON and the list, and an admin can lift it (audited).
func TestDeviceLockVisibleAndUnlock(t *testing.T) {
	e := MustEnv(t)
	id := e.MustDesk()
	other := e.MustDesk()
	ctx := context.Background()
	for _, ext := range []string{"201", "202", "203", "204", "205"} {
		e.MustUser(ext)
		_, err := e.desk.Login(ctx, desk.LoginRequest{Extension: ext, Device: id, PIN: "0000", CheckPIN: true, Source: "192.0.2.7:5060"})
		if !errors.Is(err, desk.ErrBadPIN) {
			t.Fatalf("wrong PIN for %s: %v", ext, err)
		}
	}
	var d deviceOut
	e.do("GET", "/api/v1/devices/"+id, "").want(t, 200, &d)
	if d.LockedUntil == nil || !d.LockedUntil.Equal(e.clock.Now().Add(desk.LockFor)) {
		t.Fatalf("locked_until %v", d.LockedUntil)
	}
	var list []deviceOut
	e.do("GET", "/api/v1/devices", "").want(t, 200, &list)
	if len(list) != 2 || list[0].ID != id || list[0].LockedUntil == nil || list[1].ID != other || list[1].LockedUntil != nil {
		t.Fatalf("list %+v", list)
	}
	if b := e.do("GET", "/api/v1/devices/"+other, "").want(t, 200, nil).Body; !strings.Contains(string(b), `"locked_until":null`) {
		t.Fatalf("unlocked device JSON: %s", b)
	}
	e.doAuth("POST", "/api/v1/devices/"+id+"/unlock", "", "").wantErr(t, 401, hotdesk.EUNAUTHORIZED, "")
	e.do("POST", "/api/v1/devices/"+id+"/unlock", "").want(t, 204, nil)
	e.do("GET", "/api/v1/devices/"+id, "").want(t, 200, &d)
	if d.LockedUntil != nil {
		t.Fatalf("still locked until %v", d.LockedUntil)
	}
	es, err := e.store.FindAudit(ctx, hotdesk.AuditFilter{Device: id, Kinds: []string{hotdesk.KindUnlocked}})
	if err != nil || len(es) != 1 || es[0].Source != Source || es[0].Detail != desk.LockScopeDevice {
		t.Fatalf("unlock audit %+v, %v", es, err)
	}
	e.do("POST", "/api/v1/devices/HD09999/unlock", "").wantErr(t, 404, hotdesk.ENOTFOUND, "")
	// An expired lock shows as null.
	for _, ext := range []string{"201", "202", "203", "204", "205"} {
		e.desk.Login(ctx, desk.LoginRequest{Extension: ext, Device: id, PIN: "0000", CheckPIN: true})
	}
	e.clock.Advance(desk.LockFor)
	e.do("GET", "/api/v1/devices/"+id, "").want(t, 200, &d)
	if d.LockedUntil != nil {
		t.Fatalf("expired lock shown: %v", d.LockedUntil)
	}
}

// TestDeviceIDCase: device ids are unique regardless of case, so hd00001
// next to HD00001 is refused with 409 on the id; the audit filter by
// device ignores case too.
func TestDeviceIDCase(t *testing.T) {
	e := MustEnv(t)
	e.do("POST", "/api/v1/devices", `{"id":"HD00001"}`).want(t, 201, nil)
	e.do("POST", "/api/v1/devices", `{"id":"hd00001"}`).wantErr(t, 409, hotdesk.ECONFLICT, "id")
	var es []map[string]any
	e.do("GET", "/api/v1/audit?device=hd00001", "").want(t, 200, &es)
	if len(es) != 1 || es[0]["device"] != "HD00001" {
		t.Fatalf("audit by device hd00001: %v", es)
	}
}

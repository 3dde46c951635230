package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
)

func TestDeviceCreateShowsPasswordOnce(t *testing.T) {
	hs, c := newSignedIn(t)
	mustContain(t, c.post("/devices", url.Values{"mac": {"00:04:13:zz"}, "model": {"snom"}, "mode": {"hotdesk"}, "label": {"Desk 1"}, "country": {"Netherlands"}}),
		http.StatusBadRequest, "MAC must be 12 hex digits", "ountry must be", `value="Desk 1"`, `value="00:04:13:zz"`)
	mustContain(t, c.post("/devices", url.Values{"model": {"snom"}, "mode": {"personal"}, "id": {"ann-soft"}, "owner": {"999"}}),
		http.StatusBadRequest, "There is no user with extension 999.")
	w := c.post("/devices", url.Values{"mac": {"00:04:13:AA:BB:CC"}, "model": {"yealink"}, "mode": {"hotdesk"}, "label": {"Desk 1"}, "location": {"Floor 3"}})
	mustContain(t, w, http.StatusOK, "HD00001", "shown only once", "http://example.com/provision/000413aabbcc.cfg")
	d := hs.device("HD00001")
	if d.SIPPassword == "" || !strings.Contains(w.Body.String(), d.SIPPassword) || d.ProvisionToken == "" {
		t.Fatal("SIP password not generated or not shown")
	}
	if strings.Contains(c.get("/devices/HD00001").Body.String(), d.SIPPassword) {
		t.Fatal("SIP password shown again")
	}
	hs.regs.Set("HD00001", hotdesk.Binding{Contact: "sip:HD00001@192.0.2.5:5062", Source: "192.0.2.5:5062", UserAgent: "Yealink T54W", Expires: hs.clock.Now().Add(time.Hour), Node: "pbx2"})
	mustContain(t, c.get("/devices/HD00001"), 200, "sip:HD00001@192.0.2.5:5062", "Yealink T54W", "registered", "node pbx2")
}

func TestDeviceAutoLogoutOverride(t *testing.T) {
	hs, c := newSignedIn(t)
	ctx := context.Background()
	c.post("/users", url.Values{"extension": {"201"}, "name": {"Ann"}, "outbound": {"national"}, "hotdesk": {"on"}})
	mustContain(t, c.get("/devices/new"), 200, `<option value="site" selected>`)
	form := url.Values{"model": {"snom"}, "mode": {"hotdesk"}, "label": {"Desk 7"}, "al_mode": {"own"},
		"al_daily_at": {"25:61"}, "al_max_duration": {"5s"}, "al_idle_timeout": {"soon"}}
	w := c.post("/devices", form)
	mustContain(t, w, http.StatusBadRequest, `id="err-al_daily_at"`, "Daily logout time", `id="err-al_max_duration"`,
		`id="err-al_idle_timeout"`, "at least 1m", `value="5s"`, `value="Desk 7"`, `<option value="own" selected>`)
	if _, n, _ := hs.store.FindDevices(ctx, hotdesk.DeviceFilter{}); n != 0 {
		t.Fatal("a device was created from a bad form")
	}
	form.Set("al_daily_at", "18:30")
	form.Set("al_max_duration", "8h")
	form.Del("al_idle_timeout")
	if w := c.post("/devices", form); w.Code != http.StatusOK {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	if p := hs.device("HD00001").AutoLogout; p == nil || *p != (hotdesk.AutoLogout{DailyAt: "18:30", MaxDuration: "8h"}) {
		t.Fatalf("override stored as %+v", p)
	}
	mustContain(t, c.get("/devices/HD00001"), 200, `<option value="own" selected>`, `value="18:30"`, `value="8h"`)

	// The desk rules use the override: 8 h from 09:00 ends before 18:30.
	res, err := hs.desk.Login(ctx, desk.LoginRequest{Extension: "201", Device: "HD00001", Via: hotdesk.ViaAPI})
	if err != nil {
		t.Fatal(err)
	}
	if want := hs.clock.Now().Add(8 * time.Hour); res.Login.EndsAt == nil || !res.Login.EndsAt.Equal(want) {
		t.Fatalf("login ends at %v, want %v", res.Login.EndsAt, want)
	}

	// Back to the site policy clears the override.
	edit := url.Values{"model": {"snom"}, "mode": {"hotdesk"}, "label": {"Desk 7"}, "al_mode": {"site"}, "al_max_duration": {"8h"}}
	c.mustPost("/devices/HD00001", edit)
	if p := hs.device("HD00001").AutoLogout; p != nil {
		t.Fatalf("override kept: %+v", p)
	}
	edit.Set("al_mode", "sometimes")
	mustContain(t, c.post("/devices/HD00001", edit), http.StatusBadRequest, `id="err-al_mode"`)
}

func TestDeviceToPersonalEndsLogin(t *testing.T) {
	hs, c := newSignedIn(t)
	c.post("/users", url.Values{"extension": {"201"}, "name": {"Ann"}, "outbound": {"national"}, "hotdesk": {"on"}})
	c.post("/devices", url.Values{"model": {"snom"}, "mode": {"hotdesk"}, "label": {"Desk 9"}})
	hs.login("201", "HD00001")
	edit := url.Values{"model": {"snom"}, "mode": {"personal"}, "owner": {"201"}, "label": {"Ann's phone"}, "mac": {"bad"}}
	mustContain(t, c.post("/devices/HD00001", edit), http.StatusBadRequest, `id="err-mac"`)
	if !hs.occupied("HD00001") {
		t.Fatal("a rejected edit ended the login")
	}
	edit.Del("mac")
	c.mustPost("/devices/HD00001", edit)
	if d := hs.device("HD00001"); d.Mode != hotdesk.ModePersonal || d.Owner != "201" {
		t.Fatalf("device = %+v", d)
	}
	hs.adminLoggedOut("201", "HD00001")
}

// Issue 11 item 7: a phone locked after wrong PINs shows as locked (not
// "neutral") on its page, the desks and the devices list, and an admin
// unlocks it with a CSRF-checked button; the unlock is audited.
func TestDeviceLockShownAndUnlocked(t *testing.T) {
	hs, c := newSignedIn(t)
	ctx := context.Background()
	c.post("/devices", url.Values{"model": {"snom"}, "mode": {"hotdesk"}})
	until := hs.clock.Now().Add(10 * time.Minute)
	p := &until
	if _, err := hs.store.UpdateDevice(ctx, "HD00001", hotdesk.DeviceUpdate{LockedUntil: &p}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, c.get("/devices/HD00001"), 200, `id="unlock-device"`, "PIN logins from this phone are refused")
	mustContain(t, c.get("/"), 200, "locked until", `action="/devices/HD00001/unlock"`)
	mustContain(t, c.get("/devices"), 200, `badge warn locked`)
	// Without the CSRF token nothing changes.
	if w := hs.do(c, "POST", "/devices/HD00001/unlock", url.Values{}); w.Code != http.StatusForbidden || hs.device("HD00001").LockedUntil == nil {
		t.Fatalf("unlock without CSRF: %d", w.Code)
	}
	if w := c.post("/devices/HD00001/unlock", url.Values{"back": {"desks"}}); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("unlock: %d %q", w.Code, w.Header().Get("Location"))
	}
	if hs.device("HD00001").LockedUntil != nil {
		t.Fatal("still locked")
	}
	mustContain(t, c.get("/"), 200, `<p class="flash" role="status">HD00001 unlocked.</p>`)
	w := c.get("/devices/HD00001")
	if strings.Contains(w.Body.String(), `id="unlock-device"`) {
		t.Fatal("unlock button on an unlocked phone")
	}
	es, err := hs.store.FindAudit(ctx, hotdesk.AuditFilter{Device: "HD00001", Kinds: []string{hotdesk.KindUnlocked}})
	if err != nil || len(es) != 1 || es[0].Source != "console:admin" {
		t.Fatalf("audit %+v, %v", es, err)
	}
	mustContain(t, c.post("/devices/HD00404/unlock", nil), http.StatusNotFound)
}

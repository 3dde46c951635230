package console

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
)

// office makes users 201-203 (PIN 1234) and hot desks HD00001-HD00003
// plus a personal phone P201 of 201.
func (hs *harness) office() {
	hs.t.Helper()
	ctx := context.Background()
	for _, ext := range []string{"201", "202", "203"} {
		hs.addUser(&hotdesk.User{Extension: ext, Name: "User " + ext, Hotdesk: true, Outbound: hotdesk.OutboundNational})
		if _, err := hs.desk.SetPIN(ctx, ext, "1234"); err != nil {
			hs.t.Fatal(err)
		}
	}
	for i := range 3 {
		hs.addDevice(&hotdesk.Device{Label: "Desk " + string(rune('A'+i)), Model: hotdesk.ModelSnom, Mode: hotdesk.ModeHotdesk})
	}
	hs.addDevice(&hotdesk.Device{ID: "P201", Model: hotdesk.ModelYealink, Mode: hotdesk.ModePersonal, Owner: "201"})
}

// dashboardScene: 2 of 4 phones registered, 1 of 3 desks occupied, two
// logins and one failed PIN today (one login yesterday), user 203 and
// desk HD00003 locked, one live call, and a trunk whose registration failed.
func dashboardScene(t *testing.T) *harness {
	hs := newHarness(t)
	hs.reconfigure(func(o *Options, _ *admin.Options) {
		o.Trunk = func() admin.TrunkState {
			return admin.TrunkState{Configured: true, Register: true, Error: "403 Forbidden", Updated: hs.clock.Now()}
		}
		o.LiveCalls = func() []LiveCall {
			return []LiveCall{{CallID: "c1", From: "201", To: "0201234567", State: "confirmed"}}
		}
	})
	hs.office()
	ctx := context.Background()
	login := func(ext, dev string) {
		if _, err := hs.desk.Login(ctx, desk.LoginRequest{Extension: ext, Device: dev, Via: hotdesk.ViaAPI, Source: "api"}); err != nil {
			t.Fatal(err)
		}
	}
	hs.clock.Advance(-24 * time.Hour)
	login("202", "HD00002")
	hs.clock.Advance(24 * time.Hour)
	login("201", "HD00002") // replaces 202 on it
	login("201", "HD00001") // roams
	if _, err := hs.desk.Login(ctx, desk.LoginRequest{Extension: "202", PIN: "9999", CheckPIN: true, Device: "HD00002", Via: hotdesk.ViaPhone}); err == nil {
		t.Fatal("a wrong PIN logged in")
	}
	until := hs.clock.Now().Add(10 * time.Minute)
	pu := &until
	if _, err := hs.store.UpdateUser(ctx, "203", hotdesk.UserUpdate{LockedUntil: &pu}); err != nil {
		t.Fatal(err)
	}
	if _, err := hs.store.UpdateDevice(ctx, "HD00003", hotdesk.DeviceUpdate{LockedUntil: &pu}); err != nil {
		t.Fatal(err)
	}
	hs.regs.Set("HD00001", hotdesk.Binding{Device: "HD00001", Contact: "sip:HD00001@127.0.0.1:5062"})
	hs.regs.Set("P201", hotdesk.Binding{Device: "P201", Contact: "sip:P201@127.0.0.1:5064"})
	return hs
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	hs := dashboardScene(t)
	c := hs.signIn()
	w := c.get("/dashboard")
	mustContain(t, w, http.StatusOK, "<h1>Dashboard</h1>", `aria-current="page">Dashboard`)
	body := w.Body.String()
	for _, want := range []string{
		`data-n="phones_registered">2<`, `data-n="phones">4<`,
		`data-n="desks_occupied">1<`, `data-n="desks">3<`,
		`data-n="logins_today">2<`, `data-n="failed_logins_today">1<`,
		`href="/users/203">203<`, `href="/devices/HD00003">HD00003<`,
		`data-n="live_calls">1<`, `id="trunk-state">failed<`, "403 Forbidden",
		`<span class="badge">login_failed</span>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
}

func TestBrowserDashboard(t *testing.T) {
	// Not parallel: Chromiums side by side time out on a loaded 2-core machine.
	hs := dashboardScene(t)
	ctx, url := hs.browse(t)
	step(t, ctx, "dashboard", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.ID("desks")))
	submit(t, ctx, "nav to dashboard", `nav a[href="/dashboard"]`)
	waitFor(t, ctx, "dashboard figures", `document.querySelector('[data-n=desks_occupied]')?.textContent === '1' && document.querySelector('#trunk-state').textContent === 'failed'`)
	if n := eval[int](t, ctx, `document.querySelectorAll('#recent tbody tr').length`); n != 10 {
		t.Fatalf("%d recent audit rows, want 10", n)
	}
	screenshot(t, ctx, outputDir(t), "dashboard")
}

package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// startEmergency records an emergency call as internal/emergency does and
// publishes its event.
func (hs *harness) startEmergency(t *testing.T, c *hotdesk.EmergencyCall) {
	t.Helper()
	c.Time = hs.clock.Now()
	if err := hs.store.CreateEmergencyCall(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	hs.bus.Publish(events.Event{Kind: hotdesk.KindEmergency, Device: c.Device, Extension: c.Extension})
}

// The sites form creates a site with its phones; a bad network is named
// beside its field; the desks page flags a phone registered from a
// network not its site's ("moved?") and shows a desk's callback window.
func TestSitesPageAndDeskBadges(t *testing.T) {
	hs, c := newSignedIn(t)
	for _, id := range []string{"HD00001", "HD00002"} {
		hs.addDevice(&hotdesk.Device{ID: id, Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelGeneric})
	}
	w := c.post("/sites", url.Values{"name": {"Amsterdam"}, "networks": {"10.1.0.0/16, nope"}, "devices": {"HD00001"}})
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `id="err-networks"`) {
		t.Fatalf("bad network: %d %s", w.Code, w.Body)
	}
	w = c.post("/sites", url.Values{"name": {"Amsterdam"}, "networks": {"10.1.0.0/16"}, "devices": {"HD00001, HD00002"},
		"street": {"Keizersgracht"}, "house_no": {"1"}, "a3": {"Amsterdam"}, "country": {"NL"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	sites, _ := hs.store.ListSites(context.Background())
	if len(sites) != 1 || len(sites[0].Devices) != 2 || sites[0].Location.Street != "Keizersgracht" {
		t.Fatalf("sites %+v", sites)
	}
	if body := c.get("/sites").Body.String(); !strings.Contains(body, "Amsterdam") || !strings.Contains(body, "10.1.0.0/16") {
		t.Fatalf("sites page: %s", body)
	}
	hs.regs.Set("HD00001", hotdesk.Binding{Contact: "sip:HD00001@10.1.2.3", Source: "10.1.2.3:5060", Expires: hs.clock.Now().Add(time.Hour)})
	hs.regs.Set("HD00002", hotdesk.Binding{Contact: "sip:HD00002@192.0.2.9", Source: "192.0.2.9:5060", Expires: hs.clock.Now().Add(time.Hour)})
	hs.startEmergency(t, &hotdesk.EmergencyCall{Device: "HD00001", Number: "112", Callback: "+31201234000"})
	body := c.get("/").Body.String()
	row1 := body[strings.Index(body, `id="desk-HD00001"`):strings.Index(body, `id="desk-HD00002"`)]
	row2 := body[strings.Index(body, `id="desk-HD00002"`):]
	if strings.Contains(row1, "moved?") || !strings.Contains(row2, "moved?") || !strings.Contains(row2, "192.0.2.9") {
		t.Errorf("moved badges: HD00001 %q\nHD00002 %q", row1, row2)
	}
	if !strings.Contains(row1, "emergency callback until") || strings.Contains(row2, "emergency callback until") {
		t.Errorf("callback window badges: HD00001 %q\nHD00002 %q", row1, row2)
	}
	// The emergency page lists the call.
	if body := c.get("/emergency").Body.String(); !strings.Contains(body, "31201234000") || !strings.Contains(body, "never") {
		t.Errorf("emergency page: %s", body)
	}
}

// TestBrowserEmergencyBanner: an emergency call covers an open console
// page (not the desks page) with the banner, live, without a reload; the
// admin acknowledges it; it goes, and the acknowledgement is stored and
// audited with who and how.
func TestBrowserEmergencyBanner(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	ctx, base := hs.browse(t)
	out := outputDir(t)
	step(t, ctx, "users page", chromedp.Navigate(base+"/users"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	waitFor(t, ctx, "event stream open", `document.body.classList.contains('live')`)
	if eval[bool](t, ctx, `!!document.querySelector('.emergency-overlay')`) {
		t.Fatal("a banner with no emergency call")
	}
	call := &hotdesk.EmergencyCall{Device: "HD00007", Extension: "201", Name: "Anna de Vries", Number: "112", Callback: "+31201234201",
		Location: hotdesk.Location{Country: "NL", A3: "Amsterdam", Street: "Keizersgracht", HouseNo: "1", Floor: "2", Room: "2.03"}}
	hs.startEmergency(t, call)
	waitFor(t, ctx, "banner", `!!document.querySelector('.emergency-overlay')`)
	text := eval[string](t, ctx, `document.querySelector('.emergency-overlay').innerText`)
	for _, want := range []string{"112", "HD00007", "floor 2", "room 2.03", "Keizersgracht 1", "Anna de Vries", "extension 201", "+31201234201"} {
		if !strings.Contains(text, want) {
			t.Errorf("banner lacks %q:\n%s", want, text)
		}
	}
	screenshot(t, ctx, out, "emergency-banner")
	step(t, ctx, "acknowledge", chromedp.Click(chromedp.ID("ack-1")))
	waitFor(t, ctx, "banner gone", `!document.querySelector('.emergency-overlay')`)
	cs, err := hs.store.FindEmergencyCalls(context.Background(), hotdesk.EmergencyCallFilter{})
	if err != nil || len(cs) != 1 || cs[0].AckedBy != "admin" || cs[0].AckedVia != "console" || cs[0].AckedAt == nil {
		t.Fatalf("record %+v %v", cs, err)
	}
	es, _ := hs.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindEmergencyAck}})
	if len(es) != 1 || es[0].Source != "console:admin" || es[0].Reason != "console" {
		t.Errorf("ack audit %+v", es)
	}
	// A reload shows no banner: it is acknowledged for everyone.
	step(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("main h1")))
	time.Sleep(300 * time.Millisecond)
	if eval[bool](t, ctx, `!!document.querySelector('.emergency-overlay')`) {
		t.Error("the banner came back after the acknowledgement")
	}
}

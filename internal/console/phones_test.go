package console

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/admin/admintest"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// phonesScene: the office with HD00001 registered from 127.0.0.1 by a
// Snom, which fetched its configuration at 09:00; user 201 has a BLF key.
func phonesScene(t *testing.T) (*harness, *admintest.Phones) {
	hs := newHarness(t)
	sig := &admintest.Phones{Contacts: func(device string) int { return len(hs.regs.Contacts(device)) }}
	hs.reconfigure(func(_ *Options, a *admin.Options) { a.Phones = sig })
	hs.office()
	blf := []string{"202"}
	if _, err := hs.store.UpdateUser(context.Background(), "201", hotdesk.UserUpdate{BLF: &blf}); err != nil {
		t.Fatal(err)
	}
	hs.regs.Set("HD00001", hotdesk.Binding{Device: "HD00001", Contact: "sip:HD00001@127.0.0.1:5062", Source: "127.0.0.1:5062", UserAgent: "snom D785/10.1.141.13"})
	hs.bus.Publish(events.Event{Kind: hotdesk.KindProvisionFetch, Device: "HD00001", Source: "127.0.0.1:40000"})
	return hs, sig
}

var stepRE = regexp.MustCompile(`data-step="(\w+)"`)

// steps returns the pipeline step states of desk id on the desks page.
func steps(t *testing.T, c *client, id string) string {
	t.Helper()
	w := c.get("/desks/table")
	if w.Code != http.StatusOK {
		t.Fatalf("desks table: %d", w.Code)
	}
	body := w.Body.String()
	i := strings.Index(body, `id="desk-`+id+`"`)
	if i < 0 {
		t.Fatalf("no desk %s", id)
	}
	row := body[i:]
	row = row[:strings.Index(row, "</tr>")]
	var out []string
	for _, m := range stepRE.FindAllStringSubmatch(row, -1) {
		out = append(out, m[1])
	}
	return strings.Join(out, " ")
}

func TestPhonesInLists(t *testing.T) {
	t.Parallel()
	hs, _ := phonesScene(t)
	c := hs.signIn()
	mustContain(t, c.get("/devices"), http.StatusOK, `<span class="ip">127.0.0.1</span>`, `title="snom D785/10.1.141.13"`, "fetched 09:00", "never fetched")
	mustContain(t, c.get("/"), http.StatusOK, `<small class="muted model">snom</small>`, `<span class="ip">127.0.0.1</span>`, "fetched 09:00")
}

func TestPhoneActionsConsole(t *testing.T) {
	t.Parallel()
	hs, sig := phonesScene(t)
	c := hs.signIn()
	for _, tc := range []struct{ action, event, flash string }{
		{"check-sync", "check-sync", "Sent check-sync to HD00001 (1 contact)."},
		{"reprovision", "check-sync;reboot=false", "Asked to re-provision: HD00001 (1 contact)."},
		{"reboot", "check-sync;reboot=true", "Asked to reboot: HD00001 (1 contact)."},
	} {
		w := c.post("/devices/HD00001/action", map[string][]string{"action": {tc.action}})
		if w.Code != http.StatusSeeOther || sig.Last() != "HD00001 "+tc.event {
			t.Fatalf("%s: %d, sent %q", tc.action, w.Code, sig.Last())
		}
		mustContain(t, c.get("/devices/HD00001"), http.StatusOK, tc.flash)
	}
	c.post("/devices/HD00002/action", map[string][]string{"action": {"reboot"}})
	mustContain(t, c.get("/devices/HD00002"), http.StatusOK, "HD00002 is not registered: nothing was sent.")
	mustContain(t, c.post("/devices/HD00001/action", map[string][]string{"action": {"explode"}}), http.StatusBadRequest, "Unknown phone action")

	old := hs.device("HD00001").SIPPassword
	w := c.post("/devices/HD00001/sip-password", nil)
	mustContain(t, w, http.StatusOK, "shown only once")
	pw := hs.device("HD00001").SIPPassword
	if pw == old || !strings.Contains(w.Body.String(), `id="sip-password" class="big">`+pw+"<") {
		t.Fatal("the new password is not the one shown")
	}
	if strings.Contains(c.get("/devices/HD00001").Body.String(), pw) {
		t.Fatal("the password is shown again")
	}
	mustContain(t, c.post("/devices/HD09999/sip-password", nil), http.StatusNotFound)
}

// TestLoginPipeline follows a login through check-sync, fetch,
// registration and BLF subscription; a phone that does nothing turns
// failed after the timeout, and the retry re-provisions it.
func TestLoginPipeline(t *testing.T) {
	t.Parallel()
	hs, sig := phonesScene(t)
	c := hs.signIn()
	ctx := context.Background()
	if _, err := hs.desk.Login(ctx, desk.LoginRequest{Extension: "201", Device: "HD00001", Via: hotdesk.ViaAPI, Source: "api"}); err != nil {
		t.Fatal(err)
	}
	if got := steps(t, c, "HD00001"); got != "pending pending pending pending" {
		t.Fatalf("after login: %s", got)
	}
	hs.bus.Publish(events.Event{Kind: events.KindCheckSync, Device: "HD00001", Detail: "check-sync;reboot=false"})
	hs.bus.Publish(events.Event{Kind: hotdesk.KindProvisionFetch, Device: "HD00001"})
	if got := steps(t, c, "HD00001"); got != "done done done pending" {
		t.Fatalf("fetched while registered: %s", got)
	}
	hs.bus.Publish(events.Event{Kind: events.KindSubscribed, Device: "HD00001", Extension: "202"})
	if got := steps(t, c, "HD00001"); got != "done done done done" {
		t.Fatalf("subscribed: %s", got)
	}
	if w := c.get("/desks/table"); strings.Contains(w.Body.String(), "Retry HD00001") {
		t.Fatal("a retry offered for a phone that took the login")
	}

	// 202 at HD00002, which is not registered: nothing happens.
	if _, err := hs.desk.Login(ctx, desk.LoginRequest{Extension: "202", Device: "HD00002", Via: hotdesk.ViaAPI, Source: "api"}); err != nil {
		t.Fatal(err)
	}
	if got := steps(t, c, "HD00002"); got != "pending pending pending skipped" {
		t.Fatalf("202 has no BLF keys: %s", got)
	}
	hs.bus.Publish(events.Event{Kind: events.KindCheckSyncFailed, Device: "HD00002", Detail: "timeout"})
	if got := steps(t, c, "HD00002"); got != "failed pending pending skipped" {
		t.Fatalf("check-sync failed: %s", got)
	}
	hs.clock.Advance(2 * time.Minute)
	mustContain(t, c.get("/desks/table"), http.StatusOK, `data-pipeline="failed"`, `aria-label="Retry HD00002"`)
	if got := steps(t, c, "HD00002"); got != "failed failed failed skipped" {
		t.Fatalf("after the timeout: %s", got)
	}
	hs.regs.Set("HD00002", hotdesk.Binding{Device: "HD00002", Contact: "sip:HD00002@127.0.0.1:5066", Source: "127.0.0.1:5066"})
	w := c.post("/desks/HD00002/retry", nil)
	if w.Code != http.StatusSeeOther || sig.Last() != "HD00002 check-sync;reboot=false" {
		t.Fatalf("retry: %d, sent %q", w.Code, sig.Last())
	}
	if got := steps(t, c, "HD00002"); got != "pending pending pending skipped" {
		t.Fatalf("after retry: %s", got)
	}
	// A logout starts over for the neutral phone.
	if _, err := hs.desk.Logout(ctx, "HD00001", hotdesk.ReasonAdmin, "api"); err != nil {
		t.Fatal(err)
	}
	if got := steps(t, c, "HD00001"); got != "pending pending pending skipped" {
		t.Fatalf("after logout: %s", got)
	}
}

// TestBrowserPhones: in Chromium, the desks page shows a login's pipeline
// move live, keeps it across a reload, offers a retry once it failed; the
// device page reboots the phone and resets its SIP password.
func TestBrowserPhones(t *testing.T) {
	// Not parallel: Chromiums side by side time out on a loaded 2-core machine.
	hs, sig := phonesScene(t)
	ctx, url := hs.browse(t)
	step(t, ctx, "desks", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.ID("desk-HD00001")))
	waitFor(t, ctx, "live stream connected", `document.body.classList.contains('live')`)
	if ip := eval[string](t, ctx, `document.querySelector('#desk-HD00001 .ip').textContent`); ip != "127.0.0.1" {
		t.Fatalf("ip %q", ip)
	}
	if _, err := hs.desk.Login(context.Background(), desk.LoginRequest{Extension: "201", Device: "HD00001", Via: hotdesk.ViaAPI, Source: "api"}); err != nil {
		t.Fatal(err)
	}
	pipe := `document.querySelector('#desk-HD00001 .pipeline')?.dataset.pipeline`
	waitFor(t, ctx, "pipeline pending live", pipe+` === 'pending'`)
	hs.bus.Publish(events.Event{Kind: events.KindCheckSync, Device: "HD00001"})
	hs.bus.Publish(events.Event{Kind: hotdesk.KindProvisionFetch, Device: "HD00001"})
	waitFor(t, ctx, "fetched live", `document.querySelectorAll('#desk-HD00001 [data-step=done]').length === 3`)
	step(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("desk-HD00001")))
	waitFor(t, ctx, "pipeline kept across a reload", `document.querySelectorAll('#desk-HD00001 [data-step=done]').length === 3 && `+pipe+` === 'pending'`)
	hs.clock.Advance(2 * time.Minute)
	step(t, ctx, "reload after timeout", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("desk-HD00001")))
	waitFor(t, ctx, "failed", pipe+` === 'failed' && !!document.querySelector('#desk-HD00001 button.retry')`)
	screenshot(t, ctx, outputDir(t), "desks-pipeline-failed")
	step(t, ctx, "retry", chromedp.Click(chromedp.CSS(`#desk-HD00001 button.retry`)))
	waitFor(t, ctx, "pending again", pipe+` === 'pending' && document.querySelectorAll('#desk-HD00001 [data-step=done]').length === 0`)
	if got := sig.Last(); got != "HD00001 check-sync;reboot=false" {
		t.Fatalf("retry sent %q", got)
	}

	step(t, ctx, "device page", chromedp.Navigate(url+"/devices/HD00001"), chromedp.WaitVisible(chromedp.ID("phone-actions")))
	submit(t, ctx, "reboot", `#action-reboot`)
	waitFor(t, ctx, "reboot flash", `document.querySelector('.flash')?.textContent === 'Asked to reboot: HD00001 (1 contact).'`)
	if got := sig.Last(); got != "HD00001 check-sync;reboot=true" {
		t.Fatalf("reboot sent %q", got)
	}
	submit(t, ctx, "reset SIP password", `#action-sip-password`)
	waitFor(t, ctx, "new password shown", `document.querySelector('#sip-password')?.textContent.length > 20`)
	if shown := eval[string](t, ctx, `document.querySelector('#sip-password').textContent`); shown != hs.device("HD00001").SIPPassword {
		t.Fatal("the password shown is not the stored one")
	}
	screenshot(t, ctx, outputDir(t), "sip-password")
}

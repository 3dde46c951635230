package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hotdesk-pbx/hotdesk"
)

func TestWebhooksAndSpeedDials(t *testing.T) {
	hs, c := newSignedIn(t)
	hs.office()
	mustContain(t, c.get("/webhooks"), http.StatusOK, "No webhooks yet.")
	mustContain(t, c.post("/webhooks", url.Values{"url": {"http://example.com/hook"}, "kinds": {"login, bogus"}}), http.StatusBadRequest,
		"url must use https://", "bogus")
	w := c.post("/webhooks", url.Values{"url": {"https://hooks.example.com/pbx"}, "kinds": {"login, logout"}})
	mustContain(t, w, http.StatusOK, "shown only once", `id="webhook-1" data-enabled="true"`, "login, logout")
	hs1, err := hs.store.FindWebhook(context.Background(), 1)
	if err != nil || !strings.Contains(w.Body.String(), `id="webhook-secret">`+hs1.Secret+"<") {
		t.Fatalf("secret not shown once: %v", err)
	}
	if strings.Contains(c.get("/webhooks").Body.String(), hs1.Secret) {
		t.Fatal("the secret is shown again")
	}
	c.post("/webhooks/1", url.Values{"enabled": {"0"}})
	mustContain(t, c.get("/webhooks"), http.StatusOK, `id="webhook-1" data-enabled="false"`, "Saved webhook 1.")
	c.post("/webhooks/1/delete", nil)
	mustContain(t, c.get("/webhooks"), http.StatusOK, "No webhooks yet.", "Deleted webhook 1.")
	mustContain(t, c.post("/webhooks/9/delete", nil), http.StatusNotFound)

	// Speed dials; and the user page lists the personal phones.
	mustContain(t, c.get("/users/201"), http.StatusOK, `<a href="/devices/P201"><strong>P201</strong></a>`, "Speed dials (0)")
	mustContain(t, c.post("/users/201/speed-dials", url.Values{"dials": {"Reception = 200\nnot a number = abc"}}), http.StatusBadRequest, "abc")
	if w := c.post("/users/201/speed-dials", url.Values{"dials": {"Reception = 200\n\n0612345678\n"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", w.Code, w.Body)
	}
	u := hs.user("201")
	if len(u.SpeedDials) != 2 || u.SpeedDials[0] != (hotdesk.SpeedDial{Label: "Reception", Number: "200"}) || u.SpeedDials[1].Number != "0612345678" {
		t.Fatalf("speed dials %+v", u.SpeedDials)
	}
	mustContain(t, c.get("/users/201/speed-dials"), http.StatusOK, "Reception = 200\n0612345678<", "Saved 2 speed dials.")
}

func TestBrowserWebhooks(t *testing.T) {
	// Not parallel: Chromiums side by side time out on a loaded 2-core machine.
	hs := newHarness(t)
	ctx, url := hs.browse(t)
	step(t, ctx, "webhooks", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.ID("desks")))
	submit(t, ctx, "nav", `nav a[href="/webhooks"]`)
	step(t, ctx, "form", chromedp.WaitVisible(chromedp.ID("new-webhook")),
		chromedp.SendKeys(chromedp.ID("f-url"), "https://hooks.example.com/pbx"),
		chromedp.SendKeys(chromedp.ID("f-kinds"), "login"))
	submit(t, ctx, "create", `#create-webhook`)
	waitFor(t, ctx, "created", `document.querySelector('#webhook-secret')?.textContent.length === 64 && document.querySelector('#webhook-1')?.dataset.enabled === 'true'`)
	submit(t, ctx, "switch off", `#toggle-1`)
	waitFor(t, ctx, "off", `document.querySelector('#webhook-1')?.dataset.enabled === 'false'`)
	screenshot(t, ctx, outputDir(t), "webhooks")
}

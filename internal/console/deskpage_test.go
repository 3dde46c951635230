package console

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
)

// manyDesks makes n hot desks "Desk 0001"… on two floors and users
// 1000… logged in at the first logged of them.
func (hs *harness) manyDesks(n, logged int) {
	hs.t.Helper()
	ctx := context.Background()
	for i := range n {
		hs.addDevice(&hotdesk.Device{Label: fmt.Sprintf("Desk %04d", i+1), Model: hotdesk.ModelSnom, Mode: hotdesk.ModeHotdesk,
			Location: hotdesk.Location{Text: fmt.Sprintf("Floor %d", i%2)}})
		if i < logged {
			ext := fmt.Sprint(1000 + i)
			hs.addUser(&hotdesk.User{Extension: ext, Name: "Person " + ext, Hotdesk: true, Outbound: hotdesk.OutboundNational})
			if _, err := hs.desk.Login(ctx, desk.LoginRequest{Extension: ext, Device: fmt.Sprintf("HD%05d", i+1), Via: hotdesk.ViaAPI}); err != nil {
				hs.t.Fatal(err)
			}
		}
	}
}

func TestDesksPaging(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	hs.manyDesks(250, 20)
	c := hs.signIn()
	rows := func(w string) int { return strings.Count(w, `<tr id="desk-`) }

	w := c.get("/").Body.String()
	if rows(w) != desksPerPage || !strings.Contains(w, "showing 1–100 of 250") || !strings.Contains(w, `<strong>20</strong> of 250 desks occupied`) {
		t.Fatalf("first page: %d rows\n%s", rows(w), w)
	}
	if !strings.Contains(w, `href="/?location=&amp;state=&amp;offset=100"`) || strings.Contains(w, "← Previous") {
		t.Fatal("first page links")
	}
	w = c.get("/?offset=200").Body.String()
	if rows(w) != 50 || !strings.Contains(w, "showing 201–250 of 250") || !strings.Contains(w, `id="desk-HD00250"`) || strings.Contains(w, "Next →") {
		t.Fatalf("last page: %d rows", rows(w))
	}
	// The live refresh keeps the page and the search.
	if !strings.Contains(w, `hx-get="/desks/table?location=&amp;state=&amp;offset=200"`) {
		t.Fatal("the live refresh loses the page")
	}
	w = c.get("/desks/table?q=desk+024&location=Floor+1").Body.String()
	if rows(w) != 5 || !strings.Contains(w, "showing 1–5 of 5") {
		t.Fatalf("search: %d rows", rows(w))
	}
	// Search finds a user by name or extension.
	for _, q := range []string{"person+1007", "1007"} {
		w = c.get("/desks/table?q=" + q).Body.String()
		if rows(w) != 1 || !strings.Contains(w, `id="desk-HD00008"`) {
			t.Fatalf("search %s: %d rows", q, rows(w))
		}
	}
	mustContain(t, c.get("/?q=nothing-like-this"), http.StatusOK, "No desks match the filter.")
	if w := c.get("/?offset=9999").Body.String(); rows(w) != 50 {
		t.Fatalf("offset past the end: %d rows", rows(w))
	}
}

func TestBrowserDesksSearch(t *testing.T) {
	// Not parallel: Chromiums side by side time out on a loaded 2-core machine.
	hs := newHarness(t)
	hs.manyDesks(230, 5)
	ctx, url := hs.browse(t)
	step(t, ctx, "desks", chromedp.Navigate(url+"/"), chromedp.WaitVisible(chromedp.ID("desks")))
	count := `document.querySelectorAll('#desks tbody tr').length`
	if n := eval[int](t, ctx, count); n != 100 {
		t.Fatalf("%d rows on the first page", n)
	}
	step(t, ctx, "next page", chromedp.Click(chromedp.CSS(`#desks-pager a`)))
	waitFor(t, ctx, "second page", `!!document.querySelector('#desk-HD00101') && !document.querySelector('#desk-HD00001') && location.search.includes('offset=100')`)
	step(t, ctx, "type a search", chromedp.SendKeys(chromedp.ID("f-q"), "desk 0003"))
	waitFor(t, ctx, "search result", count+` === 1 && !!document.querySelector('#desk-HD00003')`)
	screenshot(t, ctx, outputDir(t), "desks-search")
	step(t, ctx, "reload keeps the search", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("desks")))
	waitFor(t, ctx, "search after reload", count+` === 1 && document.querySelector('#f-q').value === 'desk 0003'`)
}

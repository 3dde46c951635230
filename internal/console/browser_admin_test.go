package console

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hotdesk-pbx/hotdesk"
)

// TestBrowserDeleteUserOwningPhones drives the delete of a user who owns a
// personal phone in Chromium: the page names the phone and asks; deleting
// without the box answers with the refusal next to it and keeps the user;
// with the box the user goes and the phone becomes a hot desk phone.
func TestBrowserDeleteUserOwningPhones(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	ctx0 := context.Background()
	if err := hs.store.CreateUser(ctx0, &hotdesk.User{Extension: "205", Name: "Eve", Outbound: hotdesk.OutboundNational}); err != nil {
		t.Fatal(err)
	}
	if err := hs.store.CreateDevice(ctx0, &hotdesk.Device{ID: "eve-soft", Mode: hotdesk.ModePersonal, Owner: "205", Model: hotdesk.ModelGeneric}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(hs.h)
	defer srv.Close()
	ctx := browser(t)
	step(t, ctx, "sign in", chromedp.Navigate(srv.URL+"/signin"),
		chromedp.WaitVisible(chromedp.ID("f-username")),
		chromedp.SendKeys(chromedp.ID("f-username"), "admin"),
		chromedp.SendKeys(chromedp.ID("f-password"), hs.pw))
	submit(t, ctx, "sign in", `button[type=submit]`)
	waitFor(t, ctx, "desks page", `document.querySelector('h1')?.textContent === 'Desks'`)

	step(t, ctx, "user page", chromedp.Navigate(srv.URL+"/users/205"), chromedp.WaitVisible(chromedp.ID("f-free_phones")))
	waitFor(t, ctx, "phone named", `document.querySelector('.danger-zone').innerText.includes('eve-soft')`)
	step(t, ctx, "tick sure only", chromedp.Click(chromedp.ID("f-sure")))
	submit(t, ctx, "delete", `#delete-user`)
	waitFor(t, ctx, "refusal shown", `document.querySelector('#err-free_phones')?.innerText.includes('eve-soft')`)
	if hs.user("205") == nil {
		t.Fatal("user deleted although the phone was not freed")
	}
	step(t, ctx, "tick both", chromedp.Click(chromedp.ID("f-sure")), chromedp.Click(chromedp.ID("f-free_phones")))
	submit(t, ctx, "delete with phones freed", `#delete-user`)
	waitFor(t, ctx, "users page", `document.body.innerText.includes('Deleted user 205.')`)
	if hs.user("205") != nil {
		t.Fatal("user not deleted")
	}
	if d := hs.device("eve-soft"); d.Mode != hotdesk.ModeHotdesk || d.Owner != "" {
		t.Fatalf("phone not freed: %+v", d)
	}
	screenshot(t, ctx, outputDir(t), "user-deleted-phones-freed")
}

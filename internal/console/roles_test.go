package console

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hotdesk-pbx/hotdesk"
)

// signInAs signs in another account.
func (hs *harness) signInAs(user, pw string) *client {
	hs.t.Helper()
	w := hs.do(nil, "POST", "/signin", url.Values{"username": {user}, "password": {pw}})
	if w.Code != http.StatusSeeOther {
		hs.t.Fatalf("sign in %s: %d", user, w.Code)
	}
	c := &client{hs: hs}
	for _, ck := range w.Result().Cookies() {
		if ck.Name == cookieName {
			c.cookie = ck
		}
	}
	m := csrfRE.FindStringSubmatch(hs.do(c, "GET", "/account", nil).Body.String())
	if m == nil {
		hs.t.Fatal("no csrf token")
	}
	c.csrf = m[1]
	return c
}

func TestRoles(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	hs.office()
	admin := hs.signIn()
	for _, a := range []struct{ user, role string }{{"hanna", "helpdesk"}, {"vic", "viewer"}} {
		w := admin.post("/admins", url.Values{"username": {a.user}, "password": {"correct horse battery"}, "role": {a.role}})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("create %s: %d %s", a.user, w.Code, w.Body)
		}
	}
	mustContain(t, admin.post("/admins", url.Values{"username": {"Bad Name"}, "password": {"short"}, "role": {"god"}}), http.StatusBadRequest,
		"A username is 1 to 32", "A password must be 12", "role must be admin, helpdesk or viewer")
	mustContain(t, admin.get("/admins"), http.StatusOK, `id="admin-hanna" data-role="helpdesk"`, `id="admin-vic" data-role="viewer"`)

	help := hs.signInAs("hanna", "correct horse battery")
	view := hs.signInAs("vic", "correct horse battery")
	ctx := context.Background()
	if _, err := hs.desk.SetPIN(ctx, "201", "1234"); err != nil {
		t.Fatal(err)
	}
	// Viewers look; helpdesk logs out, unlocks and resets PINs; neither
	// changes settings, users or accounts.
	for _, tc := range []struct {
		c          *client
		method     string
		path       string
		form       url.Values
		wantStatus int
	}{
		{view, "GET", "/", nil, 200},
		{view, "GET", "/settings", nil, 200},
		{view, "GET", "/admins", nil, 403},
		{view, "POST", "/users/201/pin", url.Values{"generate": {"1"}}, 403},
		{view, "POST", "/desks/logout-all", nil, 403},
		{help, "POST", "/users/201/pin", url.Values{"generate": {"1"}}, 200},
		{help, "POST", "/users/201/unlock", nil, 303},
		{help, "POST", "/settings", url.Values{"timezone": {"UTC"}}, 403},
		{help, "POST", "/users/201", url.Values{"name": {"Renamed"}}, 403},
		{help, "POST", "/users/201/delete", url.Values{"sure": {"on"}}, 403},
		{help, "POST", "/admins", url.Values{"username": {"mallory"}, "password": {"correct horse battery"}, "role": {"admin"}}, 403},
		{help, "GET", "/admins", nil, 403},
		{admin, "GET", "/admins", nil, 200},
	} {
		var w = tc.c.get(tc.path)
		if tc.method == "POST" {
			w = tc.c.post(tc.path, tc.form)
		}
		if w.Code != tc.wantStatus {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, w.Code, tc.wantStatus)
		}
	}
	if hs.user("201").Name == "Renamed" {
		t.Fatal("helpdesk renamed a user")
	}

	// Nobody changes their own access; disabling ends the sessions and
	// refuses sign-in.
	mustContain(t, admin.post("/admins/admin", url.Values{"role": {"viewer"}, "op": {"save"}}), http.StatusForbidden, "You cannot change your own role")
	if w := admin.post("/admins/vic", url.Values{"role": {"viewer"}, "op": {"disable"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("disable: %d", w.Code)
	}
	if w := view.get("/"); w.Code != http.StatusSeeOther {
		t.Fatalf("a disabled account's session still works: %d", w.Code)
	}
	if w := hs.do(nil, "POST", "/signin", url.Values{"username": {"vic"}, "password": {"correct horse battery"}}); w.Code != http.StatusUnauthorized {
		t.Fatalf("a disabled account signed in: %d", w.Code)
	}
	if w := admin.post("/admins/vic", url.Values{"role": {"helpdesk"}, "was_disabled": {"1"}, "op": {"enable"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("enable: %d", w.Code)
	}
	if a, _ := hs.store.AdminAccess(ctx, "vic"); a.Disabled || a.Role != hotdesk.RoleHelpdesk {
		t.Fatalf("vic %+v", a)
	}
	evs, _ := hs.store.FindAudit(ctx, hotdesk.AuditFilter{Kinds: []string{hotdesk.KindSettings}, Limit: 1})
	if len(evs) != 1 || evs[0].Detail != "admin vic: helpdesk, enabled" || evs[0].Source != "console:admin" {
		t.Fatalf("audit %+v", evs)
	}

	// Own password: the current one is checked; the new one works.
	mustContain(t, help.post("/account/password", url.Values{"current": {"wrong password!"}, "password": {"a new long password"}, "confirm": {"a new long password"}}),
		http.StatusBadRequest, "The current password is wrong.")
	mustContain(t, help.post("/account/password", url.Values{"current": {"correct horse battery"}, "password": {"a new long password"}, "confirm": {"another one"}}),
		http.StatusBadRequest, "The two new passwords differ.")
	if w := help.post("/account/password", url.Values{"current": {"correct horse battery"}, "password": {"a new long password"}, "confirm": {"a new long password"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("change password: %d %s", w.Code, w.Body)
	}
	hs.signInAs("hanna", "a new long password")
}

func TestBrowserRoles(t *testing.T) {
	// Not parallel: Chromiums side by side time out on a loaded 2-core machine.
	hs := newHarness(t)
	ctx, url := hs.browse(t)
	step(t, ctx, "account", chromedp.Navigate(url+"/account"), chromedp.WaitVisible(chromedp.ID("accounts-link")))
	submit(t, ctx, "to accounts", `#accounts-link`)
	step(t, ctx, "new account", chromedp.WaitVisible(chromedp.ID("new-admin")),
		chromedp.SendKeys(chromedp.ID("f-username"), "vic"),
		chromedp.SendKeys(chromedp.ID("f-password"), "correct horse battery"),
		chromedp.SetValue(chromedp.ID("f-role"), "viewer"))
	submit(t, ctx, "create", `#create-admin`)
	waitFor(t, ctx, "created", `document.querySelector('#admin-vic')?.dataset.role === 'viewer'`)
	submit(t, ctx, "disable", `#disable-vic`)
	waitFor(t, ctx, "disabled", `document.querySelector('#admin-vic')?.dataset.disabled === 'true'`)
	screenshot(t, ctx, outputDir(t), "admins")
}

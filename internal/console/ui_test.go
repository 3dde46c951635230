package console

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// TestFlashOnlyFromTheSession: a ?flash= link shows nothing; a handler's
// flash shows once on the next whole page (not in an htmx fragment, not
// after a reload), and a flash cookie made for another session is ignored.
func TestFlashOnlyFromTheSession(t *testing.T) {
	hs, c := newSignedIn(t)
	spoof := "Your password has expired, call 0900-HACKER"
	if w := c.get("/?flash=" + url.QueryEscape(spoof)); strings.Contains(w.Body.String(), "0900-HACKER") || strings.Contains(w.Body.String(), `class="flash"`) {
		t.Fatalf("a flash from the URL is shown:\n%s", w.Body)
	}

	w := c.post("/desks/logout-all", nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" || c.flash == nil {
		t.Fatalf("save: %d %q, flash cookie %v", w.Code, w.Header().Get("Location"), c.flash)
	}
	other := hs.signIn() // another admin's session gets this cookie
	other.flash = c.flash
	if w := other.get("/"); strings.Contains(w.Body.String(), "Logged out 0 users.") {
		t.Fatal("a flash cookie of another session is shown")
	}
	if w := c.get("/desks/table"); strings.Contains(w.Body.String(), "Logged out 0 users.") || c.flash == nil {
		t.Fatal("the htmx fragment took the flash")
	}
	mustContain(t, c.get("/"), 200, `<p class="flash" role="status">Logged out 0 users.</p>`)
	if c.flash != nil {
		t.Fatal("the flash cookie is not cleared once shown")
	}
	if w := c.get("/"); strings.Contains(w.Body.String(), "Logged out 0 users.") {
		t.Fatal("the flash shows again on reload")
	}
}

// TestUnregisteredFilterKeepsOccupiedPhones: an occupied phone that went
// offline is listed under "Unregistered" (and still under "Occupied").
func TestUnregisteredFilterKeepsOccupiedPhones(t *testing.T) {
	hs, c := newSignedIn(t)
	hs.addUser(&hotdesk.User{Extension: "201", Name: "Ann", Hotdesk: true, Outbound: "national"})
	for range 3 {
		hs.addDevice(&hotdesk.Device{Model: "snom", Mode: hotdesk.ModeHotdesk})
	}
	// HD00001 occupied and offline, HD00002 free and online, HD00003 free and offline.
	hs.regs.Set("HD00002", hotdesk.Binding{Device: "HD00002", Contact: "sip:HD00002@127.0.0.1:5062"})
	hs.login("201", "HD00001")
	for state, want := range map[string]string{
		"unregistered": "HD00001 HD00003", "occupied": "HD00001", "free": "HD00002", "": "HD00001 HD00002 HD00003",
	} {
		w := c.get("/desks/table?state=" + state)
		got := strings.Join(deskRowRE.FindAllString(w.Body.String(), -1), " ")
		if got != strings.ReplaceAll(want, "HD", `id="desk-HD`) {
			t.Errorf("state=%s lists %s, want %s", state, got, want)
		}
	}
}

var deskRowRE = regexp.MustCompile(`id="desk-HD\d+`)

// TestNotFoundKeepsNavigation: a signed-in admin's 404 is a console page
// with the menu and no "Sign in"; a stranger's has no menu.
func TestNotFoundKeepsNavigation(t *testing.T) {
	hs, c := newSignedIn(t)
	w := c.get("/no/such/page")
	mustContain(t, w, http.StatusNotFound, `There is no page at /no/such/page.`, `<a href="/users"`, `action="/signout"`)
	if strings.Contains(w.Body.String(), "Sign in") {
		t.Fatalf("a signed-in admin is offered Sign in:\n%s", w.Body)
	}
	w = hs.do(nil, "GET", "/no/such/page", nil)
	mustContain(t, w, http.StatusNotFound, "Sign in")
	if strings.Contains(w.Body.String(), `<a href="/users"`) {
		t.Fatal("a stranger gets the navigation")
	}
}

// TestLoginPickerShowsWhoIsWhere: the "Log in at desk" picker names who is
// at each desk, and logging someone in there says who was logged out.
func TestLoginPickerShowsWhoIsWhere(t *testing.T) {
	hs, c := newSignedIn(t)
	for _, u := range []*hotdesk.User{{Extension: "201", Name: "Ann Jansen"}, {Extension: "203", Name: "Cor Bakker"}} {
		u.Hotdesk, u.Outbound = true, "national"
		hs.addUser(u)
	}
	for _, label := range []string{"Desk 1", "Desk 2"} {
		hs.addDevice(&hotdesk.Device{Label: label, Model: "snom", Mode: hotdesk.ModeHotdesk})
	}
	hs.login("201", "HD00002")
	mustContain(t, c.get("/users/203"), 200,
		`<option value="HD00001">HD00001 · Desk 1 — free</option>`,
		`<option value="HD00002">HD00002 · Desk 2 — 201 Ann Jansen is logged in</option>`)
	c.mustPost("/users/203/login", url.Values{"device": {"HD00002"}})
	mustContain(t, c.get("/users/203"), 200, `<p class="flash" role="status">Logged 203 in at HD00002; 201 was logged out of it.</p>`)
	// A login elsewhere (a form from an older page) names the desk left.
	c.mustPost("/users/203/login", url.Values{"device": {"HD00001"}})
	mustContain(t, c.get("/users/203"), 200, `role="status">Logged 203 in at HD00001; 203 was logged out of HD00002.</p>`)
}

package console

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
)

func TestUserFormValidationKeepsInput(t *testing.T) {
	hs, c := newSignedIn(t)
	w := c.post("/users", url.Values{"extension": {"2x"}, "name": {"Ann <Smith>"}, "email": {"ann@"},
		"caller_id": {"0201234567"}, "dids": {"+31201234567, 12"}, "outbound": {"national"}, "blf": {"202, 9"},
		"hotdesk": {"on"}, "pin": {"12"}})
	mustContain(t, w, http.StatusBadRequest,
		"Extension must be 2 to 6 digits.", "Email must be an address", "E.164", "Direct number 12 is not",
		"BLF key 9 is not", "PIN must be 4 to 8 digits.",
		`value="2x"`, `value="Ann &lt;Smith&gt;"`, `value="&#43;31201234567, 12"`, `value="202, 9"`)
	if !strings.Contains(w.Body.String(), `id="err-extension"`) || hs.userCount() != 0 {
		t.Fatal("error not next to the field, or a user was created")
	}
	// A duplicate extension is shown on the extension field.
	ok := url.Values{"extension": {"201"}, "name": {"Ann"}, "outbound": {"national"}, "hotdesk": {"on"}, "pin": {"1234"}}
	c.mustPost("/users", ok)
	u := hs.user("201")
	if !u.Hotdesk || !desk.CheckPIN(u.PINHash, "1234") {
		t.Fatalf("user stored wrong: %+v", u)
	}
	mustContain(t, c.post("/users", ok), http.StatusBadRequest, "already exists", `value="Ann"`)
	// Edit with a bad value keeps the typed values.
	mustContain(t, c.post("/users/201", url.Values{"name": {""}, "email": {"new@example.com"}, "outbound": {"mars"}}),
		http.StatusBadRequest, "Name is required.", "Outbound must be", `value="new@example.com"`)
}

func TestUserPINGeneratedOnceAndUnlock(t *testing.T) {
	hs, c := newSignedIn(t)
	c.post("/users", url.Values{"extension": {"201"}, "name": {"Ann"}, "outbound": {"national"}, "hotdesk": {"on"}})
	w := c.post("/users/201/pin", url.Values{"generate": {"1"}})
	mustContain(t, w, http.StatusOK, "shown only now")
	pin := regexp.MustCompile(`id="new-pin">(\d{6})<`).FindStringSubmatch(w.Body.String())
	if pin == nil || !desk.CheckPIN(hs.user("201").PINHash, pin[1]) {
		t.Fatalf("generated PIN not shown or not stored")
	}
	if strings.Contains(c.get("/users/201").Body.String(), pin[1]) {
		t.Fatal("the PIN is shown again")
	}
	mustContain(t, c.post("/users/201/pin", url.Values{"pin": {"12ab"}}), http.StatusBadRequest, "PIN must be")
	until := hs.clock.Now().Add(time.Hour)
	locked := &until
	if _, err := hs.store.UpdateUser(context.Background(), "201", hotdesk.UserUpdate{LockedUntil: &locked}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, c.get("/users/201"), 200, "locked", "Unlock")
	if w := c.post("/users/201/unlock", nil); w.Code != http.StatusSeeOther || hs.user("201").LockedUntil != nil {
		t.Fatalf("unlock: %d", w.Code)
	}
}

func TestUserDeskLoginAndDeletes(t *testing.T) {
	hs, c := newSignedIn(t)
	c.post("/users", url.Values{"extension": {"201"}, "name": {"Ann"}, "outbound": {"national"}, "hotdesk": {"on"}})
	c.post("/devices", url.Values{"model": {"snom"}, "mode": {"hotdesk"}})
	mustContain(t, c.post("/users/201/login", url.Values{"device": {"HD00404"}}), http.StatusBadRequest, "Unknown device.")
	c.mustPost("/users/201/login", url.Values{"device": {"HD00001"}})
	l, err := hs.store.LoginByUser(context.Background(), "201")
	if err != nil || l.Device != "HD00001" || l.Via != hotdesk.ViaAdmin {
		t.Fatalf("login = %+v, %v", l, err)
	}
	mustContain(t, c.get("/users/201"), 200, "Logged in at", "HD00001")
	// Without the confirmation box the page comes back with the message
	// next to the box, and nothing is deleted.
	mustContain(t, c.post("/devices/HD00001/delete", nil), http.StatusBadRequest, `id="err-sure"`, "Tick the box", "Registration")
	hs.device("HD00001")
	mustContain(t, c.post("/users/201/delete", nil), http.StatusBadRequest, `id="err-sure"`, "Tick the box", "Call history")
	if hs.user("201") == nil {
		t.Fatal("user deleted without confirmation")
	}
	c.mustPost("/devices/HD00001/delete", url.Values{"sure": {"on"}})
	evs, _ := hs.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindLogout}})
	if len(evs) != 1 || evs[0].Reason != hotdesk.ReasonDeleted {
		t.Fatalf("logout on delete not audited: %+v", evs)
	}
	if w := c.post("/users/201/delete", url.Values{"sure": {"on"}}); w.Code != http.StatusSeeOther || hs.user("201") != nil {
		t.Fatalf("delete user: %d", w.Code)
	}
}

func TestUserLogoutAndCallHistory(t *testing.T) {
	hs, c := newSignedIn(t)
	ctx := context.Background()
	c.post("/users", url.Values{"extension": {"201"}, "name": {"Ann"}, "outbound": {"national"}, "hotdesk": {"on"}})
	c.post("/devices", url.Values{"model": {"snom"}, "mode": {"hotdesk"}})
	mustContain(t, c.get("/users/201"), 200, "No calls yet.")

	// Call records come from the B2BUA; here they are written directly.
	start := hs.clock.Now().Add(-time.Hour)
	answer, end := start.Add(5*time.Second), start.Add(70*time.Second)
	for _, cr := range []*hotdesk.CallRecord{
		{CallID: "a@x", Extension: "201", Direction: hotdesk.DirectionInbound, Peer: "+31201234567", Device: "HD00001",
			Start: start, Answer: &answer, End: &end, Result: hotdesk.ResultAnswered},
		{CallID: "b@x", Extension: "201", Direction: hotdesk.DirectionOutbound, Peer: "0612345678", Device: "HD00001",
			Start: start.Add(10 * time.Minute), End: &end, Result: hotdesk.ResultNoAnswer},
		{CallID: "c@x", Extension: "202", Direction: hotdesk.DirectionOutbound, Peer: "0699999999", Start: start, Result: hotdesk.ResultBusy},
	} {
		if err := hs.store.CreateCall(ctx, cr); err != nil {
			t.Fatal(err)
		}
	}
	w := c.get("/users/201")
	mustContain(t, w, 200, `"Number">&#43;31201234567`, "1:05", "0612345678", "no answer", `class="call call-answered"`)
	body := w.Body.String()
	if strings.Contains(body, "No calls yet.") || strings.Contains(body, "0699999999") {
		t.Fatal("call history shows the empty note or another user's call")
	}
	if strings.Index(body, `"Number">0612345678`) > strings.Index(body, `"Number">&#43;31201234567`) {
		t.Fatal("call history is not newest first")
	}

	// Logging a user out from the user page needs no confirmation box.
	hs.login("201", "HD00001")
	mustContain(t, c.get("/users/201"), 200, "Logged in at", `action="/users/201/logout"`)
	c.mustPost("/users/201/logout", nil)
	hs.adminLoggedOut("201", "HD00001")
}

func TestUserHotdeskOffEndsLogin(t *testing.T) {
	hs, c := newSignedIn(t)
	c.post("/users", url.Values{"extension": {"201"}, "name": {"Ann"}, "outbound": {"national"}, "hotdesk": {"on"}})
	c.post("/devices", url.Values{"model": {"snom"}, "mode": {"hotdesk"}})
	hs.login("201", "HD00001")
	edit := url.Values{"name": {"Ann"}, "outbound": {"national"}, "hotdesk": {"on"}, "voicemail": {"on"}}
	c.mustPost("/users/201", edit)
	if !hs.loggedIn("201") {
		t.Fatal("an edit keeping hot desking ended the login")
	}
	edit.Del("hotdesk")
	edit.Set("caller_id", "020")
	mustContain(t, c.post("/users/201", edit), http.StatusBadRequest, `id="err-caller_id"`)
	if !hs.loggedIn("201") {
		t.Fatal("a rejected edit ended the login")
	}
	edit.Del("caller_id")
	c.mustPost("/users/201", edit)
	if u := hs.user("201"); u.Hotdesk || !u.Voicemail {
		t.Fatalf("user = %+v", u)
	}
	hs.adminLoggedOut("201", "HD00001")
}

// TestDeleteUserOwningPhonesAsks: the user page names the personal phones
// the user owns and asks to make them hot desk phones; deleting without
// that answers 409 and changes nothing, with it the user goes and the
// phones are hot desk phones (one transaction), audited as the admin.
func TestDeleteUserOwningPhonesAsks(t *testing.T) {
	hs, c := newSignedIn(t)
	c.post("/users", url.Values{"extension": {"205"}, "name": {"Eve"}, "outbound": {"national"}})
	c.post("/devices", url.Values{"id": {"eve-soft"}, "mode": {"personal"}, "owner": {"205"}, "model": {"generic"}, "al_mode": {"site"}})
	if hs.device("eve-soft").Owner != "205" {
		t.Fatal("setup: phone not owned")
	}
	mustContain(t, c.get("/users/205"), http.StatusOK, `name="free_phones"`, "eve-soft")

	w := c.post("/users/205/delete", url.Values{"sure": {"on"}})
	mustContain(t, w, http.StatusConflict, "owns the personal phones eve-soft", `id="err-free_phones"`)
	if hs.user("205") == nil {
		t.Fatal("user deleted although the phone was not freed")
	}

	c.mustPost("/users/205/delete", url.Values{"sure": {"on"}, "free_phones": {"on"}})
	if hs.user("205") != nil {
		t.Fatal("user not deleted")
	}
	if d := hs.device("eve-soft"); d.Mode != hotdesk.ModeHotdesk || d.Owner != "" {
		t.Fatalf("phone not freed: %+v", d)
	}
	es, err := hs.store.FindAudit(context.Background(), hotdesk.AuditFilter{Device: "eve-soft", Limit: 1})
	if err != nil || len(es) != 1 || es[0].Source != "console:admin" || !strings.Contains(es[0].Detail, "hot desk") {
		t.Fatalf("audit %+v, %v", es, err)
	}
}

// TestPINAuditSource: a PIN set from the console is audited with its
// source console:<admin> (it had none), like every console action.
func TestPINAuditSource(t *testing.T) {
	hs, c := newSignedIn(t)
	c.post("/users", url.Values{"extension": {"201"}, "name": {"Ann"}, "outbound": {"national"}})
	c.mustPost("/users/201/pin", url.Values{"pin": {"4321"}})
	es, err := hs.store.FindAudit(context.Background(), hotdesk.AuditFilter{Extension: "201", Limit: 1})
	if err != nil || len(es) != 1 || es[0].Detail != "pin changed" || es[0].Source != "console:admin" {
		t.Fatalf("PIN audit %+v, %v", es, err)
	}
}

// TestBrowserDeleteUserOwningPhones drives the delete of a user who owns a
// personal phone in Chromium: the page names the phone and asks; deleting
// without the box answers with the refusal next to it and keeps the user;
// with the box the user goes and the phone becomes a hot desk phone.
func TestBrowserDeleteUserOwningPhones(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	hs.addUser(&hotdesk.User{Extension: "205", Name: "Eve", Outbound: hotdesk.OutboundNational})
	hs.addDevice(&hotdesk.Device{ID: "eve-soft", Mode: hotdesk.ModePersonal, Owner: "205", Model: hotdesk.ModelGeneric})
	ctx, base := hs.browse(t)

	step(t, ctx, "user page", chromedp.Navigate(base+"/users/205"), chromedp.WaitVisible(chromedp.ID("f-free_phones")))
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

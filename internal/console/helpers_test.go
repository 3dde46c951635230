package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// newSignedIn is how most console tests begin: it marks the test
// parallel and returns a fresh harness with a signed-in admin.
func newSignedIn(t *testing.T) (*harness, *client) {
	t.Parallel()
	hs := newHarness(t)
	return hs, hs.signIn()
}

// addUser stores u; an error fails the test.
func (hs *harness) addUser(u *hotdesk.User) {
	hs.t.Helper()
	if err := hs.store.CreateUser(context.Background(), u); err != nil {
		hs.t.Fatal(err)
	}
}

// addDevice stores d; an error fails the test.
func (hs *harness) addDevice(d *hotdesk.Device) {
	hs.t.Helper()
	if err := hs.store.CreateDevice(context.Background(), d); err != nil {
		hs.t.Fatal(err)
	}
}

// setForm sets the fields of changes in form, keeping the others.
func setForm(form, changes url.Values) {
	for k, v := range changes {
		form[k] = v
	}
}

// loggedIn reports whether user ext is logged in at a desk.
func (hs *harness) loggedIn(ext string) bool {
	hs.t.Helper()
	return hs.found(hs.store.LoginByUser(context.Background(), ext))
}

// occupied reports whether someone is logged in at device id.
func (hs *harness) occupied(id string) bool {
	hs.t.Helper()
	return hs.found(hs.store.LoginByDevice(context.Background(), id))
}

// found is whether a login lookup found one; another error fails the test.
func (hs *harness) found(_ *hotdesk.Login, err error) bool {
	hs.t.Helper()
	if hotdesk.ErrorCode(err) == hotdesk.ENOTFOUND {
		return false
	} else if err != nil {
		hs.t.Fatal(err)
	}
	return true
}

// adminLoggedOut checks that an admin in the console logged user ext out
// of device (the one audited logout, made by console:admin), and that
// neither is logged in now.
func (hs *harness) adminLoggedOut(ext, device string) {
	hs.t.Helper()
	if hs.loggedIn(ext) || hs.occupied(device) {
		hs.t.Fatalf("%s or %s still logged in", ext, device)
	}
	evs, err := hs.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindLogout}})
	if err != nil || len(evs) != 1 || evs[0].Reason != hotdesk.ReasonAdmin || evs[0].Extension != ext ||
		evs[0].Device != device || evs[0].Source != "console:admin" {
		hs.t.Fatalf("logout audit: %+v, %v", evs, err)
	}
}

// changeSettings applies change to the stored settings.
func (hs *harness) changeSettings(change func(*hotdesk.Settings)) {
	hs.t.Helper()
	st, err := hs.store.GetSettings(context.Background())
	if err != nil {
		hs.t.Fatal(err)
	}
	change(&st)
	if err := hs.store.PutSettings(context.Background(), st); err != nil {
		hs.t.Fatal(err)
	}
}

// serve serves the harness's console (the current one: reconfigure may
// replace it) over HTTP until the test ends.
func (hs *harness) serve(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hs.h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	return srv
}

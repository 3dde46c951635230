package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

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

// adminLogout is the one audited logout, which an admin made; else the
// test fails.
func (hs *harness) adminLogout() *hotdesk.AuditEvent {
	hs.t.Helper()
	evs, err := hs.store.FindAudit(context.Background(), hotdesk.AuditFilter{Kinds: []string{hotdesk.KindLogout}})
	if err != nil || len(evs) != 1 || evs[0].Reason != hotdesk.ReasonAdmin {
		hs.t.Fatalf("logout audit: %+v, %v", evs, err)
	}
	return evs[0]
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

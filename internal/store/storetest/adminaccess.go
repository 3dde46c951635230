package storetest

import (
	"context"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// testAdminAccess: an account without a stored role is an enabled admin;
// a role and a disabled state are stored; disabling ends the sessions;
// deleting nothing else.
func testAdminAccess(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	for _, u := range []string{"alice", "bob"} {
		must(t, s.CreateAdmin(ctx, &hotdesk.Admin{Username: u, PasswordHash: "x"}))
	}
	a, err := s.AdminAccess(ctx, "alice")
	must(t, err)
	if a.Role != hotdesk.RoleAdmin || a.Disabled {
		t.Fatalf("default access %+v", a)
	}
	_, err = s.AdminAccess(ctx, "carol")
	wantCode(t, err, hotdesk.ENOTFOUND)
	wantCode(t, s.PutAdminAccess(ctx, hotdesk.AdminAccess{Username: "carol", Role: hotdesk.RoleViewer}), hotdesk.ENOTFOUND)

	must(t, s.CreateSession(ctx, &hotdesk.Session{TokenHash: "t-bob", Username: "bob", CSRF: "c", Expires: t0.AddDate(1, 0, 0)}))
	must(t, s.PutAdminAccess(ctx, hotdesk.AdminAccess{Username: "bob", Role: hotdesk.RoleHelpdesk}))
	if _, err := s.FindSession(ctx, "t-bob"); err != nil {
		t.Fatalf("a role change ended the session: %v", err)
	}
	must(t, s.PutAdminAccess(ctx, hotdesk.AdminAccess{Username: "bob", Role: hotdesk.RoleViewer, Disabled: true}))
	_, err = s.FindSession(ctx, "t-bob")
	wantCode(t, err, hotdesk.ENOTFOUND)
	all, err := s.ListAdminAccess(ctx)
	must(t, err)
	if len(all) != 2 || all[0] != (hotdesk.AdminAccess{Username: "alice", Role: hotdesk.RoleAdmin}) ||
		all[1] != (hotdesk.AdminAccess{Username: "bob", Role: hotdesk.RoleViewer, Disabled: true}) {
		t.Fatalf("list %+v", all)
	}
}

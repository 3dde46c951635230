package storetest

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

func testUsers(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	locked := t0.Add(time.Hour)
	u := &hotdesk.User{
		Extension: "201", Name: "Anna de Vries", Email: "anna@example.com", Hotdesk: true,
		PINHash: "salt$hash", CallerID: "+31201234567", DIDs: []string{"+31201234501", "+31201234502"},
		Outbound: hotdesk.OutboundInternational, BLF: []string{"202", "203"},
		SpeedDials: []hotdesk.SpeedDial{{Label: "Reception", Number: "200"}}, Voicemail: true,
		RingTimeout: 20, LockedUntil: &locked, CreatedAt: t0, UpdatedAt: t0,
	}
	must(t, s.CreateUser(ctx, u))
	got, err := s.FindUser(ctx, "201")
	must(t, err)
	if !got.HasPIN || got.PINHash != "salt$hash" || got.Name != u.Name || got.Email != u.Email ||
		!got.Hotdesk || got.CallerID != u.CallerID || got.Outbound != u.Outbound || !got.Voicemail || got.RingTimeout != 20 {
		t.Fatalf("FindUser = %+v", got)
	}
	if !reflect.DeepEqual(got.DIDs, u.DIDs) || !reflect.DeepEqual(got.BLF, u.BLF) || !reflect.DeepEqual(got.SpeedDials, u.SpeedDials) {
		t.Fatalf("lists = %v %v %v", got.DIDs, got.BLF, got.SpeedDials)
	}
	if got.LockedUntil == nil {
		t.Fatal("LockedUntil lost")
	}
	sameTime(t, "LockedUntil", *got.LockedUntil, locked)
	sameTime(t, "CreatedAt", got.CreatedAt, t0)

	wantCode(t, s.CreateUser(ctx, &hotdesk.User{Extension: "201"}), hotdesk.ECONFLICT)
	_, err = s.FindUser(ctx, "999")
	wantCode(t, err, hotdesk.ENOTFOUND)

	// A bare user gets timestamps and empty (not nil-vs-empty confused) lists.
	must(t, s.CreateUser(ctx, &hotdesk.User{Extension: "202"}))
	got, err = s.FindUser(ctx, "202")
	must(t, err)
	if got.HasPIN || got.CreatedAt.IsZero() || len(got.DIDs) != 0 || got.LockedUntil != nil {
		t.Fatalf("bare user = %+v", got)
	}

	name, hot, pin := "Anna V.", false, ""
	var unlock *time.Time
	upd, err := s.UpdateUser(ctx, "201", hotdesk.UserUpdate{Name: &name, Hotdesk: &hot, PINHash: &pin, LockedUntil: &unlock})
	must(t, err)
	if upd.Name != name || upd.Hotdesk || upd.HasPIN || upd.LockedUntil != nil || upd.Email != u.Email {
		t.Fatalf("UpdateUser = %+v", upd)
	}
	got, _ = s.FindUser(ctx, "201")
	if got.Name != name || got.HasPIN || got.LockedUntil != nil || !reflect.DeepEqual(got.BLF, u.BLF) {
		t.Fatalf("after update = %+v", got)
	}
	sameTime(t, "CreatedAt after update", got.CreatedAt, t0)
	_, err = s.UpdateUser(ctx, "999", hotdesk.UserUpdate{Name: &name})
	wantCode(t, err, hotdesk.ENOTFOUND)

	must(t, s.DeleteUser(ctx, "202"))
	wantCode(t, s.DeleteUser(ctx, "202"), hotdesk.ENOTFOUND)
	_, err = s.FindUser(ctx, "202")
	wantCode(t, err, hotdesk.ENOTFOUND)
}

func testUserFilters(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	for _, u := range []*hotdesk.User{
		{Extension: "1000", Name: "Zoe", Email: "zoe@example.com"},
		{Extension: "201", Name: "Anna Smit", Email: "a.smit@example.com"},
		{Extension: "202", Name: "Bram", Email: "bram@Example.org"},
		{Extension: "203", Name: "100% Cees_x", Email: "cees@example.com"},
	} {
		must(t, s.CreateUser(ctx, u))
	}
	checkFinds(t, "FindUsers", s.FindUsers, func(u *hotdesk.User) string { return u.Extension }, []finding[hotdesk.UserFilter]{
		{hotdesk.UserFilter{}, []string{"201", "202", "203", "1000"}, 4},
		{hotdesk.UserFilter{Extension: "202"}, []string{"202"}, 1},
		{hotdesk.UserFilter{Search: "SMIT"}, []string{"201"}, 1},
		{hotdesk.UserFilter{Search: "example.org"}, []string{"202"}, 1},
		{hotdesk.UserFilter{Search: "20"}, []string{"201", "202", "203"}, 3},
		{hotdesk.UserFilter{Search: "%"}, []string{"203"}, 1},
		{hotdesk.UserFilter{Search: "s_x"}, []string{"203"}, 1},
		{hotdesk.UserFilter{Search: "s x"}, []string{}, 0},
		{hotdesk.UserFilter{Limit: 2}, []string{"201", "202"}, 4},
		{hotdesk.UserFilter{Offset: 2, Limit: 1}, []string{"203"}, 4},
		{hotdesk.UserFilter{Offset: 3}, []string{"1000"}, 4},
		{hotdesk.UserFilter{Offset: 9}, []string{}, 4},
	})
}

func testUserDIDs(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	must(t, s.CreateUser(ctx, &hotdesk.User{Extension: "201", DIDs: []string{"+3110001"}}))
	must(t, s.CreateUser(ctx, &hotdesk.User{Extension: "202", DIDs: []string{"+3110002", "+3110003"}}))

	// A DID has one owner: creating or updating into a taken DID conflicts
	// and writes nothing.
	wantCode(t, s.CreateUser(ctx, &hotdesk.User{Extension: "203", DIDs: []string{"+3110009", "+3110002"}}), hotdesk.ECONFLICT)
	if _, err := s.FindUser(ctx, "203"); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("half-created user 203: %v", err)
	}
	taken := []string{"+3110001", "+3110003"}
	_, err := s.UpdateUser(ctx, "201", hotdesk.UserUpdate{DIDs: &taken})
	wantCode(t, err, hotdesk.ECONFLICT)
	if u, _ := s.FindUser(ctx, "201"); !reflect.DeepEqual(u.DIDs, []string{"+3110001"}) {
		t.Fatalf("DIDs after failed update = %v", u.DIDs)
	}

	owner := func(did string) string {
		t.Helper()
		us, n, err := s.FindUsers(ctx, hotdesk.UserFilter{DID: did})
		must(t, err)
		if n != len(us) || n > 1 {
			t.Fatalf("DID %s owners = %d", did, n)
		}
		if n == 0 {
			return ""
		}
		return us[0].Extension
	}
	if owner("+3110003") != "202" || owner("+3110009") != "" {
		t.Fatal("DID lookup wrong")
	}
	// Moving a DID: release it from 202, give it to 201.
	rest := []string{"+3110002"}
	_, err = s.UpdateUser(ctx, "202", hotdesk.UserUpdate{DIDs: &rest})
	must(t, err)
	_, err = s.UpdateUser(ctx, "201", hotdesk.UserUpdate{DIDs: &taken})
	must(t, err)
	if owner("+3110003") != "201" {
		t.Fatal("DID did not move")
	}
	must(t, s.DeleteUser(ctx, "201"))
	if owner("+3110001") != "" {
		t.Fatal("deleted user still owns DID")
	}
	must(t, s.CreateUser(ctx, &hotdesk.User{Extension: "204", DIDs: []string{"+3110001"}}))
}

func testDeleteUserEndsLogin(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	seed(t, s, 2)
	login(t, s, "201", "HD00001")
	login(t, s, "202", "HD00002")
	must(t, s.DeleteUser(ctx, "201"))
	if _, err := s.LoginByDevice(ctx, "HD00001"); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("login of deleted user: %v", err)
	}
	if ls, _ := s.ListLogins(ctx); len(ls) != 1 || ls[0].Extension != "202" {
		t.Fatalf("logins = %v", ls)
	}
	// The device is free for someone else.
	mkUser(t, s, "203")
	login(t, s, "203", "HD00001")
}

// testDeleteUserOwningPhones: a user who owns personal phones is not
// deleted (ECONFLICT naming them, field phones); DeleteUserFreeingPhones
// makes them hot desk phones and deletes the user in one step.
func testDeleteUserOwningPhones(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	mkUser(t, s, "205")
	mkUser(t, s, "206")
	for _, d := range []*hotdesk.Device{{ID: "eve-b", Mode: hotdesk.ModePersonal, Owner: "205"},
		{ID: "eve-a", Mode: hotdesk.ModePersonal, Owner: "205"}, {ID: "sam", Mode: hotdesk.ModePersonal, Owner: "206"}} {
		must(t, s.CreateDevice(ctx, d))
	}
	err := s.DeleteUser(ctx, "205")
	wantCode(t, err, hotdesk.ECONFLICT)
	if hotdesk.ErrorField(err) != "phones" || !strings.Contains(hotdesk.ErrorMessage(err), "eve-a, eve-b") {
		t.Fatalf("refusal does not name the phones: %v", err)
	}
	if _, err := s.FindUser(ctx, "205"); err != nil {
		t.Fatalf("refused delete removed the user: %v", err)
	}
	freed, err := s.DeleteUserFreeingPhones(ctx, "205")
	must(t, err)
	if !slices.Equal(freed, []string{"eve-a", "eve-b"}) {
		t.Fatalf("freed %v", freed)
	}
	wantCode(t, func() error { _, err := s.FindUser(ctx, "205"); return err }(), hotdesk.ENOTFOUND)
	for _, id := range freed {
		d, err := s.FindDevice(ctx, id)
		must(t, err)
		if d.Mode != hotdesk.ModeHotdesk || d.Owner != "" {
			t.Fatalf("%s not freed: %+v", id, d)
		}
	}
	if d, _ := s.FindDevice(ctx, "sam"); d == nil || d.Owner != "206" {
		t.Fatalf("another user's phone changed: %+v", d)
	}
	_, err = s.DeleteUserFreeingPhones(ctx, "205")
	wantCode(t, err, hotdesk.ENOTFOUND)
}

// testDeviceIDsIgnoreCase: hd00001 and HD00001 cannot both exist, and the
// audit trail is searched by device regardless of case.
func testDeviceIDsIgnoreCase(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	must(t, s.CreateDevice(ctx, &hotdesk.Device{ID: "HD00001", Mode: hotdesk.ModeHotdesk}))
	err := s.CreateDevice(ctx, &hotdesk.Device{ID: "hd00001", Mode: hotdesk.ModeHotdesk})
	wantCode(t, err, hotdesk.ECONFLICT)
	if !strings.Contains(hotdesk.ErrorMessage(err), "HD00001") {
		t.Fatalf("conflict does not name the existing id: %v", err)
	}
	// The next assigned id skips one taken in another case.
	must(t, s.CreateDevice(ctx, &hotdesk.Device{ID: "hd00002", Mode: hotdesk.ModeHotdesk}))
	d := &hotdesk.Device{Mode: hotdesk.ModeHotdesk}
	must(t, s.CreateDevice(ctx, d))
	if strings.EqualFold(d.ID, "HD00001") || strings.EqualFold(d.ID, "HD00002") {
		t.Fatalf("assigned %s, taken in another case", d.ID)
	}
	must(t, s.AppendAudit(ctx, &hotdesk.AuditEvent{Time: t0, Kind: hotdesk.KindLogin, Device: "HD00001", Extension: "201"}))
	es, err := s.FindAudit(ctx, hotdesk.AuditFilter{Device: "hd00001", Limit: 10})
	must(t, err)
	if len(es) != 1 || es[0].Device != "HD00001" {
		t.Fatalf("audit by device hd00001: %+v", es)
	}
	if n, err := s.CountAudit(ctx, hotdesk.AuditFilter{Device: "Hd00001"}); err != nil || n != 1 {
		t.Fatalf("count by device: %d, %v", n, err)
	}
}

package storetest

import (
	"context"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// testBulk: a bulk change lands whole, with new hot desk ids and a new
// user owning a new personal phone; one conflict anywhere leaves nothing.
func testBulk(t *testing.T, s hotdesk.Store) {
	var bs hotdesk.BulkStore = s
	ctx := context.Background()
	must(t, s.CreateUser(ctx, &hotdesk.User{Extension: "201", Name: "Ann", Outbound: hotdesk.OutboundNational}))
	must(t, s.CreateDevice(ctx, &hotdesk.Device{Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelSnom}))
	name, label := "Ann Jansen", "Desk 1"
	b := hotdesk.Bulk{
		CreateUsers: []*hotdesk.User{
			{Extension: "202", Name: "Bob", Outbound: hotdesk.OutboundInternal, DIDs: []string{"+31201110202"}},
			{Extension: "203", Name: "Cas", Outbound: hotdesk.OutboundInternal},
		},
		CreateDevices: []*hotdesk.Device{
			{Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelYealink, Label: "Desk 2"},
			{ID: "P202", Mode: hotdesk.ModePersonal, Owner: "202", Model: hotdesk.ModelGeneric},
		},
		UpdateUsers:   []hotdesk.BulkUserUpdate{{Extension: "201", Update: hotdesk.UserUpdate{Name: &name}}},
		UpdateDevices: []hotdesk.BulkDeviceUpdate{{ID: "HD00001", Update: hotdesk.DeviceUpdate{Label: &label}}},
	}
	must(t, bs.ApplyBulk(ctx, b))
	if b.CreateDevices[0].ID != "HD00002" {
		t.Fatalf("new desk id %q", b.CreateDevices[0].ID)
	}
	if u, err := s.FindUser(ctx, "201"); err != nil || u.Name != name {
		t.Fatalf("201: %+v %v", u, err)
	}
	if us, _, err := s.FindUsers(ctx, hotdesk.UserFilter{DID: "+31201110202"}); err != nil || len(us) != 1 || us[0].Extension != "202" {
		t.Fatalf("DID of 202: %v %v", us, err)
	}
	if d, err := s.FindDevice(ctx, "P202"); err != nil || d.Owner != "202" {
		t.Fatalf("P202: %+v %v", d, err)
	}
	if d, err := s.FindDevice(ctx, "HD00001"); err != nil || d.Label != label {
		t.Fatalf("HD00001: %+v %v", d, err)
	}

	// All or nothing: the second user exists already.
	other := "Zed"
	bad := hotdesk.Bulk{
		CreateUsers:   []*hotdesk.User{{Extension: "204", Name: "Dee", Outbound: hotdesk.OutboundInternal}, {Extension: "203", Name: "Again", Outbound: hotdesk.OutboundInternal}},
		CreateDevices: []*hotdesk.Device{{Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelSnom}},
		UpdateUsers:   []hotdesk.BulkUserUpdate{{Extension: "201", Update: hotdesk.UserUpdate{Name: &other}}},
	}
	wantCode(t, bs.ApplyBulk(ctx, bad), hotdesk.ECONFLICT)
	if _, err := s.FindUser(ctx, "204"); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("204 after a failed bulk: %v", err)
	}
	if u, _ := s.FindUser(ctx, "201"); u.Name != name {
		t.Fatalf("201 renamed by a failed bulk: %q", u.Name)
	}
	if _, n, _ := s.FindDevices(ctx, hotdesk.DeviceFilter{}); n != 3 {
		t.Fatalf("%d devices after a failed bulk, want 3", n)
	}
	// An update of a user that does not exist fails the whole bulk too.
	wantCode(t, bs.ApplyBulk(ctx, hotdesk.Bulk{
		CreateUsers: []*hotdesk.User{{Extension: "205", Name: "Eve", Outbound: hotdesk.OutboundInternal}},
		UpdateUsers: []hotdesk.BulkUserUpdate{{Extension: "299", Update: hotdesk.UserUpdate{Name: &other}}},
	}), hotdesk.ENOTFOUND)
	if _, err := s.FindUser(ctx, "205"); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("205 after a failed bulk: %v", err)
	}
}

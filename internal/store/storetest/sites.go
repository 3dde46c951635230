package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// testSites: sites round-trip with their devices, a device belongs to one
// site at a time, names are unique, deleting a device or a site unlinks.
func testSites(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	for _, id := range []string{"HD1", "HD2", "HD3"} {
		must(t, s.CreateDevice(ctx, &hotdesk.Device{ID: id, Mode: hotdesk.ModeHotdesk, Model: hotdesk.ModelGeneric}))
	}
	ams := &hotdesk.Site{Name: "Amsterdam", Location: hotdesk.Location{Country: "NL", A3: "Amsterdam", Street: "Keizersgracht", HouseNo: "1"},
		Networks: []string{"10.1.0.0/16"}, Trunk: "ams", Callback: "+31201234000", Devices: []string{"HD1", "hd2"}}
	must(t, s.CreateSite(ctx, ams))
	if ams.ID == 0 {
		t.Fatal("no site id")
	}
	got, err := s.FindSite(ctx, ams.ID)
	must(t, err)
	if got.Name != "Amsterdam" || got.Location.Street != "Keizersgracht" || !slices.Equal(got.Networks, ams.Networks) ||
		got.Trunk != "ams" || got.Callback != "+31201234000" || !slices.Equal(got.Devices, []string{"HD1", "HD2"}) {
		t.Fatalf("site = %+v", got)
	}
	wantCode(t, s.CreateSite(ctx, &hotdesk.Site{Name: "Amsterdam"}), hotdesk.ECONFLICT)
	wantCode(t, s.CreateSite(ctx, &hotdesk.Site{Name: "Ghost", Devices: []string{"NOPE"}}), hotdesk.ENOTFOUND)
	if all, err := s.ListSites(ctx); err != nil || len(all) != 1 {
		t.Fatalf("a failed create left a site: %v %v", all, err)
	}
	// HD2 moves to Utrecht.
	utr := &hotdesk.Site{Name: "Utrecht", Devices: []string{"HD2"}}
	must(t, s.CreateSite(ctx, utr))
	site, err := s.SiteOfDevice(ctx, "HD2")
	must(t, err)
	if site.ID != utr.ID {
		t.Errorf("HD2 in site %d, want %d", site.ID, utr.ID)
	}
	_, err = s.SiteOfDevice(ctx, "HD3")
	wantCode(t, err, hotdesk.ENOTFOUND)
	all, err := s.ListSites(ctx)
	must(t, err)
	if len(all) != 2 || all[0].Name != "Amsterdam" || !slices.Equal(all[0].Devices, []string{"HD1"}) || !slices.Equal(all[1].Devices, []string{"HD2"}) {
		t.Fatalf("sites = %+v %+v", all[0], all[1])
	}
	utr.Networks, utr.Devices = []string{"10.2.0.0/16"}, []string{"HD3"}
	must(t, s.UpdateSite(ctx, utr))
	got, _ = s.FindSite(ctx, utr.ID)
	if !slices.Equal(got.Devices, []string{"HD3"}) || !slices.Equal(got.Networks, utr.Networks) {
		t.Errorf("updated site = %+v", got)
	}
	wantCode(t, s.UpdateSite(ctx, &hotdesk.Site{ID: 999, Name: "x"}), hotdesk.ENOTFOUND)
	must(t, s.DeleteDevice(ctx, "HD3"))
	got, _ = s.FindSite(ctx, utr.ID)
	if len(got.Devices) != 0 {
		t.Errorf("deleted device still listed: %v", got.Devices)
	}
	must(t, s.DeleteSite(ctx, ams.ID))
	_, err = s.SiteOfDevice(ctx, "HD1")
	wantCode(t, err, hotdesk.ENOTFOUND)
	wantCode(t, s.DeleteSite(ctx, ams.ID), hotdesk.ENOTFOUND)
}

// testEmergencyCalls: records round-trip, filters, first acknowledgement
// wins, last test per device.
func testEmergencyCalls(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	c1 := &hotdesk.EmergencyCall{Time: t0, Device: "HD1", Extension: "201", Name: "Anna", Number: "112", Callback: "+31201",
		Site: 3, Trunk: "ams", Location: hotdesk.Location{Street: "Keizersgracht", Floor: "2"}, Warning: "moved"}
	must(t, s.CreateEmergencyCall(ctx, c1))
	c2 := &hotdesk.EmergencyCall{Time: t0.Add(time.Minute), Device: "HD2", Number: "933", Callback: "+31999", Test: true}
	must(t, s.CreateEmergencyCall(ctx, c2))
	c3 := &hotdesk.EmergencyCall{Time: t0.Add(2 * time.Minute), Device: "HD2", Number: "933", Callback: "+31999", Test: true}
	must(t, s.CreateEmergencyCall(ctx, c3))
	all, err := s.FindEmergencyCalls(ctx, hotdesk.EmergencyCallFilter{})
	must(t, err)
	if len(all) != 3 || all[0].ID != c3.ID || all[2].Location.Floor != "2" || all[2].Warning != "moved" || !all[2].Time.Equal(t0) {
		t.Fatalf("calls = %+v", all)
	}
	byCB, _ := s.FindEmergencyCalls(ctx, hotdesk.EmergencyCallFilter{Callback: "+31201", Since: t0})
	if len(byCB) != 1 || byCB[0].ID != c1.ID {
		t.Errorf("by callback = %+v", byCB)
	}
	late, _ := s.FindEmergencyCalls(ctx, hotdesk.EmergencyCallFilter{Callback: "+31201", Since: t0.Add(time.Second)})
	if len(late) != 0 {
		t.Errorf("since filter: %+v", late)
	}
	real := false
	if rs, _ := s.FindEmergencyCalls(ctx, hotdesk.EmergencyCallFilter{Test: &real}); len(rs) != 1 || rs[0].ID != c1.ID {
		t.Errorf("real calls = %+v", rs)
	}
	at := t0.Add(5 * time.Minute)
	a, first, err := s.AckEmergencyCall(ctx, c1.ID, "203", "phone", at)
	must(t, err)
	if !first || a.AckedAt == nil || !a.AckedAt.Equal(at) || a.AckedBy != "203" || a.AckedVia != "phone" {
		t.Fatalf("ack = %+v", a)
	}
	a, first, err = s.AckEmergencyCall(ctx, c1.ID, "admin", "console", at.Add(time.Minute))
	must(t, err)
	if first || a.AckedBy != "203" || !a.AckedAt.Equal(at) {
		t.Errorf("second ack replaced the first: %+v", a)
	}
	if un, _ := s.FindEmergencyCalls(ctx, hotdesk.EmergencyCallFilter{Unacked: true}); len(un) != 2 {
		t.Errorf("unacked = %d, want 2", len(un))
	}
	_, _, err = s.AckEmergencyCall(ctx, 999, "x", "console", at)
	wantCode(t, err, hotdesk.ENOTFOUND)
	last, err := s.LastEmergencyTests(ctx)
	must(t, err)
	if len(last) != 1 || !last["HD2"].Equal(c3.Time) {
		t.Errorf("last tests = %v", last)
	}
}

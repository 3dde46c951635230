package storetest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

func testDevices(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	d := &hotdesk.Device{
		ID: "anna-soft", Label: "Anna's softphone", MAC: "", Model: hotdesk.ModelGeneric, Mode: hotdesk.ModePersonal,
		Owner: "201", Location: hotdesk.Location{Text: "Floor 2", Country: "NL", A3: "Utrecht", Seat: "2.14"},
		EmergencyCallback: "+31301234567", SIPPassword: "s3cret", ProvisionToken: "tok",
		AutoLogout: &hotdesk.AutoLogout{MaxDuration: "12h"},
	}
	must(t, s.CreateDevice(ctx, d))
	got, err := s.FindDevice(ctx, "anna-soft")
	must(t, err)
	if got.Label != d.Label || got.Mode != d.Mode || got.Owner != "201" || got.Location != d.Location ||
		got.SIPPassword != "s3cret" || got.ProvisionToken != "tok" || got.EmergencyCallback != d.EmergencyCallback ||
		got.AutoLogout == nil || *got.AutoLogout != *d.AutoLogout || got.CreatedAt.IsZero() {
		t.Fatalf("FindDevice = %+v", got)
	}
	wantCode(t, s.CreateDevice(ctx, &hotdesk.Device{ID: "anna-soft", Mode: hotdesk.ModePersonal}), hotdesk.ECONFLICT)
	_, err = s.FindDevice(ctx, "nope")
	wantCode(t, err, hotdesk.ENOTFOUND)

	// MAC is unique when set; many devices may have none.
	must(t, s.CreateDevice(ctx, &hotdesk.Device{ID: "desk1", Mode: hotdesk.ModeHotdesk, MAC: "000413aabbcc", Model: hotdesk.ModelSnom}))
	must(t, s.CreateDevice(ctx, &hotdesk.Device{ID: "desk2", Mode: hotdesk.ModeHotdesk}))
	wantCode(t, s.CreateDevice(ctx, &hotdesk.Device{ID: "desk3", Mode: hotdesk.ModeHotdesk, MAC: "000413aabbcc"}), hotdesk.ECONFLICT)
	mac := "000413aabbcc"
	_, err = s.UpdateDevice(ctx, "desk2", hotdesk.DeviceUpdate{MAC: &mac})
	wantCode(t, err, hotdesk.ECONFLICT)

	label, loc := "Desk 2", hotdesk.Location{Text: "Window"}
	var noAuto *hotdesk.AutoLogout
	up, err := s.UpdateDevice(ctx, "anna-soft", hotdesk.DeviceUpdate{Label: &label, Location: &loc, AutoLogout: &noAuto})
	must(t, err)
	if up.Label != label || up.Location != loc || up.AutoLogout != nil || up.SIPPassword != "s3cret" {
		t.Fatalf("UpdateDevice = %+v", up)
	}
	got, _ = s.FindDevice(ctx, "anna-soft")
	if got.Label != label || got.AutoLogout != nil || got.Owner != "201" {
		t.Fatalf("after update = %+v", got)
	}
	_, err = s.UpdateDevice(ctx, "nope", hotdesk.DeviceUpdate{Label: &label})
	wantCode(t, err, hotdesk.ENOTFOUND)
	wantCode(t, s.DeleteDevice(ctx, "nope"), hotdesk.ENOTFOUND)
}

func testDeviceFilters(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	for _, d := range []*hotdesk.Device{
		{ID: "HD00001", Mode: hotdesk.ModeHotdesk, Label: "Desk A", MAC: "000413000001", Location: hotdesk.Location{Text: "Floor 1"}},
		{ID: "HD00002", Mode: hotdesk.ModeHotdesk, Label: "Desk B", Location: hotdesk.Location{Text: "Floor 2"}},
		{ID: "soft-201", Mode: hotdesk.ModePersonal, Owner: "201", Label: "Softphone"},
		{ID: "soft-202", Mode: hotdesk.ModePersonal, Owner: "202", Label: "Softphone"},
	} {
		must(t, s.CreateDevice(ctx, d))
	}
	checkFinds(t, "FindDevices", s.FindDevices, func(d *hotdesk.Device) string { return d.ID }, []finding[hotdesk.DeviceFilter]{
		{hotdesk.DeviceFilter{}, []string{"HD00001", "HD00002", "soft-201", "soft-202"}, 4},
		{hotdesk.DeviceFilter{ID: "soft-202"}, []string{"soft-202"}, 1},
		{hotdesk.DeviceFilter{MAC: "000413000001"}, []string{"HD00001"}, 1},
		{hotdesk.DeviceFilter{Mode: hotdesk.ModePersonal}, []string{"soft-201", "soft-202"}, 2},
		{hotdesk.DeviceFilter{Owner: "201"}, []string{"soft-201"}, 1},
		{hotdesk.DeviceFilter{Search: "floor 2"}, []string{"HD00002"}, 1},
		{hotdesk.DeviceFilter{Search: "desk"}, []string{"HD00001", "HD00002"}, 2},
		{hotdesk.DeviceFilter{Search: "hd0"}, []string{"HD00001", "HD00002"}, 2},
		{hotdesk.DeviceFilter{Limit: 1, Offset: 1}, []string{"HD00002"}, 4},
	})
}

func testHotdeskIDs(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	create := func() string {
		t.Helper()
		d := &hotdesk.Device{Mode: hotdesk.ModeHotdesk}
		must(t, s.CreateDevice(ctx, d))
		return d.ID
	}
	if id := create(); id != "HD00001" {
		t.Fatalf("first id = %s", id)
	}
	// Ids given by hand are skipped, deleted ids are not reused.
	must(t, s.CreateDevice(ctx, &hotdesk.Device{ID: "HD00002", Mode: hotdesk.ModeHotdesk}))
	if id := create(); id != "HD00003" {
		t.Fatalf("id after a taken one = %s", id)
	}
	must(t, s.DeleteDevice(ctx, "HD00003"))
	if id := create(); id != "HD00004" {
		t.Fatalf("id after delete = %s", id)
	}
	// A personal device needs an id.
	if err := s.CreateDevice(ctx, &hotdesk.Device{Mode: hotdesk.ModePersonal}); err == nil {
		t.Fatal("personal device without id created")
	}
	// A failed create (MAC conflict) leaves the caller's ID empty.
	must(t, s.CreateDevice(ctx, &hotdesk.Device{ID: "x", Mode: hotdesk.ModePersonal, MAC: "aabbccddeeff"}))
	d := &hotdesk.Device{Mode: hotdesk.ModeHotdesk, MAC: "aabbccddeeff"}
	wantCode(t, s.CreateDevice(ctx, d), hotdesk.ECONFLICT)
	if d.ID != "" {
		t.Fatalf("failed create left ID %q", d.ID)
	}
}

func testHotdeskIDsConcurrent(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	const n = 20
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			d := &hotdesk.Device{Mode: hotdesk.ModeHotdesk}
			errs[i] = s.CreateDevice(ctx, d)
			ids[i] = d.ID
		})
	}
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	sort.Strings(ids)
	for i, id := range ids {
		if want := fmt.Sprintf("HD%05d", i+1); id != want {
			t.Fatalf("ids = %v", ids)
		}
	}
}

func testDeleteDevice(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	seed(t, s, 2)
	login(t, s, "201", "HD00001")
	exp := time.Now().Add(time.Hour)
	must(t, s.PutBindings(ctx, []hotdesk.Binding{
		{Device: "HD00001", Contact: "sip:a@10.0.0.1", Expires: exp},
		{Device: "HD00001", Contact: "sip:b@10.0.0.1", Expires: exp},
		{Device: "HD00002", Contact: "sip:c@10.0.0.2", Expires: exp},
	}))
	must(t, s.DeleteDevice(ctx, "HD00001"))
	if _, err := s.LoginByUser(ctx, "201"); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("login survived device delete: %v", err)
	}
	bs, err := s.ListBindings(ctx, time.Now())
	must(t, err)
	if len(bs) != 1 || bs[0].Device != "HD00002" {
		t.Fatalf("bindings after delete = %v", bs)
	}
	// The user can log in elsewhere at once.
	login(t, s, "201", "HD00002")
}

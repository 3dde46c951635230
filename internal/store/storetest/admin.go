package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

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

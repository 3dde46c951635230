package admin_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
	"github.com/hotdesk-pbx/hotdesk/internal/admin/admintest"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/store/sqlite"
)

func mustService(t *testing.T, phones admin.Phones) (*admin.Service, hotdesk.Store) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d := desk.New(desk.Options{Store: db})
	return admin.New(admin.Options{Store: db, Desk: d, Phones: phones}), db
}

func TestPhoneActions(t *testing.T) {
	ph := &admintest.Phones{}
	s, db := mustService(t, ph)
	ctx := context.Background()
	dev, err := s.CreateDevice(ctx, "test", admin.DeviceInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{admin.ActionCheckSync, admin.ActionReprovision, admin.ActionReboot} {
		if n, err := s.PhoneAction(ctx, "console:admin", dev.ID, a); err != nil || n != 1 {
			t.Fatalf("%s: %d, %v", a, n, err)
		}
	}
	want := dev.ID + " check-sync," + dev.ID + " check-sync;reboot=false," + dev.ID + " check-sync;reboot=true"
	if got := strings.Join(ph.Sent(), ","); got != want {
		t.Fatalf("sent %s, want %s", got, want)
	}
	if _, err := s.PhoneAction(ctx, "api", dev.ID, "explode"); hotdesk.ErrorCode(err) != hotdesk.EINVALID || hotdesk.ErrorField(err) != "action" {
		t.Fatalf("unknown action: %v", err)
	}
	if _, err := s.PhoneAction(ctx, "api", "HD09999", admin.ActionReboot); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("unknown device: %v", err)
	}
	evs, err := db.FindAudit(ctx, hotdesk.AuditFilter{Device: dev.ID, Kinds: []string{hotdesk.KindDeviceChanged}})
	if err != nil || len(evs) < 3 || evs[0].Reason != admin.ActionReboot || evs[0].Source != "console:admin" {
		t.Fatalf("audit %v %v", evs, err)
	}

	pw, err := s.ResetSIPPassword(ctx, "api", dev.ID)
	if err != nil || len(pw) < 20 || pw == dev.SIPPassword {
		t.Fatalf("reset: %q, %v", pw, err)
	}
	if got, _ := db.FindDevice(ctx, dev.ID); got.SIPPassword != pw {
		t.Fatal("the new password was not stored")
	}
	evs, _ = db.FindAudit(ctx, hotdesk.AuditFilter{Device: dev.ID, Limit: 1})
	if evs[0].Reason != "sip_password" || strings.Contains(evs[0].Detail, pw) {
		t.Fatalf("audit %+v", evs[0])
	}
	if _, err := s.ResetSIPPassword(ctx, "api", "HD09999"); hotdesk.ErrorCode(err) != hotdesk.ENOTFOUND {
		t.Fatalf("unknown device: %v", err)
	}
}

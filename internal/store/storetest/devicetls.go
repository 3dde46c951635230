package storetest

import (
	"context"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

// testDeviceTLS: a device's SIP transport and SRTP policy (migration
// 00010) are empty by default, stored on create and changed by update
// without touching the other fields.
func testDeviceTLS(t *testing.T, s hotdesk.Store) {
	ctx := context.Background()
	d := &hotdesk.Device{Model: hotdesk.ModelSnom, Mode: hotdesk.ModeHotdesk, SIPPassword: "pw", Label: "desk"}
	must(t, s.CreateDevice(ctx, d))
	got, err := s.FindDevice(ctx, d.ID)
	must(t, err)
	if got.SIPTransport != "" || got.SRTP != "" {
		t.Fatalf("new device: transport %q srtp %q, want empty", got.SIPTransport, got.SRTP)
	}
	tls, req := "tls", hotdesk.SRTPRequired
	got, err = s.UpdateDevice(ctx, d.ID, hotdesk.DeviceUpdate{SIPTransport: &tls, SRTP: &req})
	must(t, err)
	if got.SIPTransport != "tls" || got.SRTP != hotdesk.SRTPRequired || got.Label != "desk" {
		t.Fatalf("updated: %+v", got)
	}
	got, err = s.FindDevice(ctx, d.ID)
	must(t, err)
	if got.SIPTransport != "tls" || got.SRTP != hotdesk.SRTPRequired {
		t.Fatalf("read back: transport %q srtp %q", got.SIPTransport, got.SRTP)
	}
	e := &hotdesk.Device{ID: "soft1", Model: hotdesk.ModelGeneric, Mode: hotdesk.ModeHotdesk, SIPPassword: "pw",
		SIPTransport: "tcp", SRTP: hotdesk.SRTPOff}
	must(t, s.CreateDevice(ctx, e))
	list, _, err := s.FindDevices(ctx, hotdesk.DeviceFilter{ID: "soft1"})
	must(t, err)
	if len(list) != 1 || list[0].SIPTransport != "tcp" || list[0].SRTP != hotdesk.SRTPOff {
		t.Fatalf("created with fields: %+v", list)
	}
}

package checksync_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/checksync"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

func TestNotifiesAffectedDevices(t *testing.T) {
	srv := mustServe(t, signaling.Options{})
	// Two phones stand in for registered contacts; only their NOTIFY
	// handling is used.
	a := siptest.New(t, siptest.Options{Server: srv.UDPAddr().String(), User: "HD1"})
	b := siptest.New(t, siptest.Options{Server: srv.UDPAddr().String(), User: "HD2"})
	contacts := map[string][]hotdesk.Binding{
		"HD1": {{Device: "HD1", Contact: "<sip:HD1@" + a.Addr() + ">", Source: a.Addr(), Transport: "udp"}},
		"HD2": {{Device: "HD2", Contact: "sip:HD2@" + b.Addr(), Source: b.Addr(), Transport: "udp"}},
	}
	// 201 is logged in at HD2.
	store := checksync.LoginByUserFunc(func(_ context.Context, ext string) (*hotdesk.Login, error) {
		if ext == "201" {
			return &hotdesk.Login{Extension: "201", Device: "HD2"}, nil
		}
		return nil, hotdesk.Errorf(hotdesk.ENOTFOUND, "no login")
	})
	bus := events.New()
	n := mustRun(t, checksync.Options{Bus: bus, SIP: srv, Store: store,
		Contacts: func(d string) []hotdesk.Binding { return contacts[d] }})
	time.Sleep(50 * time.Millisecond) // let Run subscribe

	bus.Publish(events.Event{Kind: hotdesk.KindLogin, Extension: "202", Device: "HD1"})
	got, err := a.WaitNotify(1, "check-sync", 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if ev := got[0].GetHeader("Event").Value(); ev != checksync.EventHeader {
		t.Errorf("Event %q", ev)
	}
	if ss := got[0].GetHeader("Subscription-State"); ss == nil || ss.Value() != "terminated" {
		t.Errorf("Subscription-State %v", ss)
	}
	// A change to a logged-in user reaches the phone the user is at.
	bus.Publish(events.Event{Kind: events.KindUserUpdated, Extension: "201"})
	if _, err := b.WaitNotify(1, "check-sync", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	// Unrelated events and users who are not logged in notify nobody.
	bus.Publish(events.Event{Kind: hotdesk.KindRegistered, Device: "HD1"})
	bus.Publish(events.Event{Kind: events.KindUserUpdated, Extension: "999"})
	bus.Publish(events.Event{Kind: hotdesk.KindLogout, Extension: "201", Device: "HD2", Reason: hotdesk.ReasonUser})
	if _, err := b.WaitNotify(2, "check-sync", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if len(a.Notifies()) != 1 {
		t.Errorf("HD1 got %d NOTIFYs, want 1", len(a.Notifies()))
	}
	for i := 0; i < 100 && n.Sent() < 3; i++ {
		time.Sleep(10 * time.Millisecond) // the 200 is counted after the phone records the NOTIFY
	}
	if n.Sent() != 3 {
		t.Errorf("Sent() = %d, want 3", n.Sent())
	}
}

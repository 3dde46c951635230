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

// TestSignal: an admin's reboot reaches every contact of the phone with
// "check-sync;reboot=true", outlives the request that asked for it, and
// the bus hears that it was answered; a contact that does not answer is
// published as failed.
func TestSignal(t *testing.T) {
	srv := mustServe(t, signaling.Options{})
	a := siptest.New(t, siptest.Options{Server: srv.UDPAddr().String(), User: "HD1"})
	contacts := map[string][]hotdesk.Binding{
		"HD1": {{Device: "HD1", Contact: "sip:HD1@" + a.Addr(), Source: a.Addr(), Transport: "udp"}},
		// Nothing listens on the discard port over TCP: the NOTIFY fails.
		"HD2": {{Device: "HD2", Contact: "sip:HD2@127.0.0.1:9;transport=tcp", Source: "127.0.0.1:9", Transport: "tcp"}},
	}
	bus := events.New()
	seen, stop := bus.Subscribe(16)
	defer stop()
	n := mustRun(t, checksync.Options{Bus: bus, SIP: srv,
		Contacts: func(d string) []hotdesk.Binding { return contacts[d] }})

	reqCtx, endRequest := context.WithCancel(context.Background())
	if got := n.Signal(reqCtx, "HD1", checksync.EventReboot); got != 1 {
		t.Fatalf("Signal started %d NOTIFYs, want 1", got)
	}
	endRequest()
	got, err := a.WaitNotify(1, "check-sync", 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if ev := got[0].GetHeader("Event").Value(); ev != "check-sync;reboot=true" {
		t.Errorf("Event %q", ev)
	}
	want := func(kind, dev string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case e := <-seen:
				if e.Kind == kind && e.Device == dev {
					return
				}
			case <-deadline:
				t.Fatalf("no %s event for %s", kind, dev)
			}
		}
	}
	want(events.KindCheckSync, "HD1")
	if got := n.Signal(context.Background(), "HD9", checksync.EventCheckSync); got != 0 {
		t.Fatalf("an unregistered phone: %d NOTIFYs", got)
	}
	if got := n.Signal(context.Background(), "HD2", checksync.EventReprovision); got != 1 {
		t.Fatalf("HD2: %d NOTIFYs", got)
	}
	want(events.KindCheckSyncFailed, "HD2")
}

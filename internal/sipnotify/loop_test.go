package sipnotify

import (
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// A loop made for some kinds is handed only those (issue 18: every call
// event woke the message-lamp loop); NewLoop's takes every event.
func TestNewLoopKinds(t *testing.T) {
	bus := events.New()
	lamps := NewLoopKinds(bus, func(kind string) bool { return kind == hotdesk.KindLogin })
	defer lamps.unsubscribe()
	all := NewLoop(bus)
	defer all.unsubscribe()
	bus.Publish(events.Event{Kind: events.KindCallTrying})
	bus.Publish(events.Event{Kind: events.KindCallTerminated})
	bus.Publish(events.Event{Kind: hotdesk.KindLogin})
	if n := len(lamps.events); n != 1 {
		t.Errorf("NewLoopKinds: %d events queued, want 1 (the login)", n)
	}
	if n := len(all.events); n != 3 {
		t.Errorf("NewLoop: %d events queued, want 3", n)
	}
	if l := NewLoopKinds(nil, nil); l.events != nil {
		t.Error("a loop without a bus has a subscription")
	}
}

package presence

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// TestSubscribedEvent: a device's new dialog subscription is published
// (the console's login pipeline shows "BLF subscribed" from it); a
// one-shot fetch is not.
func TestSubscribedEvent(t *testing.T) {
	h := mustStartWith(t, false, func(o *Options) {
		o.Auth = func(req *sip.Request, tx sip.ServerTransaction) (*hotdesk.Device, bool) {
			return &hotdesk.Device{ID: header(req, "X-Device")}, true
		}
	})
	seen, stop := h.bus.Subscribe(16)
	defer stop()
	if res := h.mustWatcher(t).subscribe("202", "Event: dialog\r\nExpires: 0\r\nX-Device: HD00002\r\n"); res.StatusCode != 200 {
		t.Fatalf("fetch: %d", res.StatusCode)
	}
	w := h.mustWatcher(t)
	if res := w.subscribe("201", "Event: dialog\r\nX-Device: HD00001\r\n"); res.StatusCode != 200 {
		t.Fatalf("subscribe: %d", res.StatusCode)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e := <-seen:
			if e.Kind != events.KindSubscribed {
				continue
			}
			if e.Device != "HD00001" || e.Extension != "201" {
				t.Fatalf("subscribed event %+v", e)
			}
			return
		case <-deadline:
			t.Fatal("no blf_subscribed event")
		}
	}
}

package presence

import (
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/hotdesk-pbx/hotdesk"
)

// Issue 11 item 4: one phone made 2,000 dialog subscriptions and one login
// then sent 5,431 NOTIFYs. Subscriptions are capped per subscribing device
// (403) and per watched extension (503 + Retry-After), from the settings.
func TestSubscriptionCaps(t *testing.T) {
	lim := hotdesk.LimitSettings{SubscriptionsPerDevice: 3, SubscriptionsPerExtension: 4}
	h := mustStartWith(t, false, func(o *Options) {
		// The device is what the test names in X-Device (the digest is
		// tested elsewhere).
		o.Auth = func(req *sip.Request, tx sip.ServerTransaction) (*hotdesk.Device, bool) {
			return &hotdesk.Device{ID: header(req, "X-Device")}, true
		}
		o.Limits = func() hotdesk.LimitSettings { return lim }
	})
	sub := func(w *watcher, ext, dev string) *sip.Response {
		t.Helper()
		return w.subscribe(ext, "Event: dialog\r\nX-Device: "+dev+"\r\n")
	}
	// Per device: HD00001's 4th subscription is refused.
	var ws []*watcher
	for i := range 3 {
		w := h.mustWatcher(t)
		if res := sub(w, "201", "HD00001"); res.StatusCode != 200 {
			t.Fatalf("subscription %d: %d", i+1, res.StatusCode)
		}
		w.notify()
		ws = append(ws, w)
	}
	if res := sub(h.mustWatcher(t), "202", "HD00001"); res.StatusCode != 403 {
		t.Fatalf("4th from one device: %d %s, want 403", res.StatusCode, res.Reason)
	}
	// A refresh is not a new subscription.
	if res := sub(ws[0], "201", "HD00001"); res.StatusCode != 200 {
		t.Fatalf("refresh at the cap: %d", res.StatusCode)
	}
	ws[0].notify()
	// Unsubscribing frees a place.
	if res := ws[1].subscribe("201", "Event: dialog\r\nExpires: 0\r\nX-Device: HD00001\r\n"); res.StatusCode != 200 {
		t.Fatalf("unsubscribe: %d", res.StatusCode)
	}
	ws[1].notify()
	w := h.mustWatcher(t)
	if res := sub(w, "202", "HD00001"); res.StatusCode != 200 {
		t.Fatalf("after an unsubscribe: %d", res.StatusCode)
	}
	w.notify()

	// Per watched extension: 201 has 2 watchers (HD00001); 2 more from
	// other phones reach the cap of 4, the 5th gets 503 + Retry-After.
	var watchers201 []*watcher
	watchers201 = append(watchers201, ws[0], ws[2])
	for _, dev := range []string{"HD00002", "HD00003"} {
		w := h.mustWatcher(t)
		if res := sub(w, "201", dev); res.StatusCode != 200 {
			t.Fatalf("watcher from %s: %d", dev, res.StatusCode)
		}
		w.notify()
		watchers201 = append(watchers201, w)
	}
	res := sub(h.mustWatcher(t), "201", "HD00004")
	if res.StatusCode != 503 || header(res, "Retry-After") == "" {
		t.Fatalf("5th watcher of 201: %s", res)
	}
	if n := h.pres.Subscriptions(); n != 5 {
		t.Fatalf("%d subscriptions live, want 5", n)
	}
	// A call of 201 notifies its 4 watchers, no more.
	h.call(kindTrying, "201", "HD00009", "c1")
	for _, w := range watchers201 {
		if _, states := bodyState(t, w.notify()); len(states) != 1 {
			t.Fatalf("states %v", states)
		}
	}
}

// Without Limits the defaults apply.
func TestSubscriptionCapsDefault(t *testing.T) {
	h := mustStart(t, false)
	if got, want := h.pres.limits(), hotdesk.DefaultSettings().Limits; got.SubscriptionsPerDevice != want.SubscriptionsPerDevice ||
		got.SubscriptionsPerExtension != want.SubscriptionsPerExtension {
		t.Fatalf("limits %+v", got)
	}
}

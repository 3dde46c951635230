package presence

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

func TestSubscribeFollowsCalls(t *testing.T) {
	h := mustStart(t, false)
	w := h.mustWatcher(t)
	res := w.subscribe("202", "Event: dialog\r\nExpires: 600\r\n")
	if res.StatusCode != 200 || header(res, "Expires") != "600" || w.toTag == "" {
		t.Fatalf("SUBSCRIBE: %s", res)
	}
	n := w.notify()
	if v, st := bodyState(t, n); v != 0 || strings.Join(st, ",") != "terminated" {
		t.Fatalf("initial NOTIFY: version %d states %v", v, st)
	}
	if header(n, "Subscription-State") != "active;expires=600" || header(n, "Event") != "dialog" ||
		header(n, "Content-Type") != ContentType {
		t.Fatalf("initial NOTIFY headers:\n%s", n)
	}
	if tag, _ := n.From().Params.Get("tag"); tag != w.toTag {
		t.Fatalf("NOTIFY From tag %q, want %q", tag, w.toTag)
	}
	cseq := n.CSeq().SeqNo
	steps := []struct {
		kind, device, callID string
		want                 string
	}{
		{events.KindCallTrying, "HD00001", "c1", "trying"},
		{events.KindCallEarly, "HD00001", "c1", "early"},
		{events.KindCallConfirmed, "HD00001", "c1", "confirmed"},
		{events.KindCallTerminated, "HD00001", "c1", "terminated"},
		// The user roamed to HD00002: the same subscription follows.
		{events.KindCallEarly, "HD00002", "c2", "early"},
		{events.KindCallTerminated, "HD00002", "c2", "terminated"},
	}
	for i, s := range steps {
		h.call(s.kind, "202", s.device, s.callID)
		n := w.notify()
		v, st := bodyState(t, n)
		if v != i+1 || strings.Join(st, ",") != s.want {
			t.Fatalf("step %d: version %d states %v, want %d %s", i, v, st, i+1, s.want)
		}
		if n.CSeq().SeqNo != cseq+uint32(i+1) {
			t.Fatalf("step %d: CSeq %d", i, n.CSeq().SeqNo)
		}
	}
	// Another user's calls do not reach this watcher.
	h.call(events.KindCallEarly, "201", "HD00001", "c3")
	w.quiet(100 * time.Millisecond)
	// Idle again: after a terminated dialog the next document is the idle one.
	res = w.subscribe("202", "Event: dialog\r\nExpires: 300\r\n")
	if res.StatusCode != 200 || header(res, "Expires") != "300" {
		t.Fatalf("refresh: %s", res)
	}
	if n := w.notify(); header(n, "Subscription-State") != "active;expires=300" {
		t.Fatalf("refresh NOTIFY:\n%s", n)
	}
	res = w.subscribe("202", "Event: dialog\r\nExpires: 0\r\n")
	n = w.notify()
	if res.StatusCode != 200 || !strings.HasPrefix(header(n, "Subscription-State"), "terminated") {
		t.Fatalf("unsubscribe: %d\n%s", res.StatusCode, n)
	}
	testrun.Eventually(t, 5*time.Second, "subscription removed", func() bool { return h.pres.Subscriptions() == 0 && h.srv.Dialogs() == 0 })
	if res := w.subscribe("202", "Event: dialog\r\n"); res.StatusCode != 481 {
		t.Fatalf("refresh after unsubscribe: %d", res.StatusCode)
	}
}

func TestInitialStateShowsCallInProgress(t *testing.T) {
	h := mustStart(t, false)
	h.call(events.KindCallConfirmed, "202", "HD00001", "c1")
	testrun.Eventually(t, 5*time.Second, "call state", func() bool {
		h.pres.mu.Lock()
		defer h.pres.mu.Unlock()
		return len(h.pres.calls["202"]) == 1
	})
	w := h.mustWatcher(t)
	w.subscribe("202", "Event: dialog\r\n")
	if _, st := bodyState(t, w.notify()); strings.Join(st, ",") != "confirmed" {
		t.Fatalf("states %v", st)
	}
}

func TestSubscribeErrors(t *testing.T) {
	h := mustStart(t, false)
	tests := []struct {
		name, ext, extra string
		code             int
		hdr, value       string
	}{
		{"unknown event", "202", "Event: presence\r\n", 489, "Allow-Events", "dialog"},
		{"no event", "202", "", 489, "Allow-Events", "dialog"},
		{"unknown extension", "999", "Event: dialog\r\n", 404, "", ""},
		{"too brief", "202", "Event: dialog\r\nExpires: 5\r\n", 423, "Min-Expires", "60"},
		{"bad expires", "202", "Event: dialog\r\nExpires: soon\r\n", 400, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.mustWatcher(t).subscribe(tt.ext, tt.extra)
			if res.StatusCode != tt.code || tt.hdr != "" && header(res, tt.hdr) != tt.value {
				t.Fatalf("got %s", res)
			}
		})
	}
	if h.pres.Subscriptions() != 0 {
		t.Fatal("an error created a subscription")
	}
}

// findUserFunc is a presence Store made of one function.
type findUserFunc func(ctx context.Context, ext string) (*hotdesk.User, error)

func (f findUserFunc) FindUser(ctx context.Context, ext string) (*hotdesk.User, error) {
	return f(ctx, ext)
}

// Issue 12: a database failure answers a SUBSCRIBE as it answers every SIP
// request (signaling's table): 503 with Retry-After, no longer 500.
func TestSubscribeStoreFailureIs503(t *testing.T) {
	h := mustStartWith(t, false, func(o *Options) {
		o.Store = findUserFunc(func(context.Context, string) (*hotdesk.User, error) {
			return nil, errors.New("sql: connection refused")
		})
	})
	res := h.mustWatcher(t).subscribe("202", "Event: dialog\r\n")
	if res.StatusCode != 503 || header(res, "Retry-After") != "5" {
		t.Fatalf("got %s", res)
	}
}

func TestMaxExpiresIsCapped(t *testing.T) {
	h := mustStart(t, false)
	w := h.mustWatcher(t)
	if res := w.subscribe("202", "Event: dialog\r\nExpires: 86400\r\n"); header(res, "Expires") != "3600" {
		t.Fatalf("Expires %q", header(res, "Expires"))
	}
}

func TestAuthRequired(t *testing.T) {
	h := mustStart(t, true)
	res := h.mustWatcher(t).subscribe("202", "Event: dialog\r\n")
	if res.StatusCode != 407 || header(res, "Proxy-Authenticate") == "" {
		t.Fatalf("unauthenticated SUBSCRIBE: %s", res)
	}
	if h.pres.Subscriptions() != 0 {
		t.Fatal("subscription without auth")
	}
}

func TestExpiry(t *testing.T) {
	h := mustStart(t, false)
	w := h.mustWatcher(t)
	w.subscribe("202", "Event: dialog\r\nExpires: 120\r\n")
	w.notify()
	h.clock.Advance(119 * time.Second)
	h.pres.sweep(h.clock.Now())
	if h.pres.Subscriptions() != 1 {
		t.Fatal("expired early")
	}
	h.clock.Advance(2 * time.Second)
	h.pres.sweep(h.clock.Now())
	n := w.notify()
	if header(n, "Subscription-State") != "terminated;reason=timeout" {
		t.Fatalf("expiry NOTIFY:\n%s", n)
	}
	if h.pres.Subscriptions() != 0 || h.srv.Dialogs() != 0 {
		t.Fatal("expired subscription kept")
	}
}

func TestFetch(t *testing.T) {
	h := mustStart(t, false)
	w := h.mustWatcher(t)
	if res := w.subscribe("202", "Event: dialog\r\nExpires: 0\r\n"); res.StatusCode != 200 {
		t.Fatalf("fetch: %d", res.StatusCode)
	}
	if n := w.notify(); !strings.HasPrefix(header(n, "Subscription-State"), "terminated") {
		t.Fatalf("fetch NOTIFY:\n%s", n)
	}
	if h.pres.Subscriptions() != 0 {
		t.Fatal("fetch left a subscription")
	}
}

func TestNotify481DropsSubscription(t *testing.T) {
	h := mustStart(t, false)
	w := h.mustWatcher(t)
	w.answer = 481
	w.subscribe("202", "Event: dialog\r\n")
	w.notify()
	testrun.Eventually(t, 5*time.Second, "subscription dropped", func() bool { return h.pres.Subscriptions() == 0 })
}

func TestSubscriberChangesUser(t *testing.T) {
	// The watcher's phone HD00003 gets a new user: nothing in the
	// subscription refers to the user, so lamps keep working.
	h := mustStart(t, false)
	w := h.mustWatcher(t)
	w.subscribe("202", "Event: dialog\r\n")
	w.notify()
	h.bus.Publish(events.Event{Kind: "logout", Extension: "201", Device: "HD00003", Reason: "replaced"})
	h.bus.Publish(events.Event{Kind: "login", Extension: "203", Device: "HD00003"})
	h.call(events.KindCallEarly, "202", "HD00001", "c9")
	if _, st := bodyState(t, w.notify()); strings.Join(st, ",") != "early" {
		t.Fatalf("states %v", st)
	}
}

// Call events are applied as they are published (a bus handler), not by
// a goroutine woken for each one (issue 18): the state is there when
// Publish returns, with Run not running.
func TestCallEventsAppliedInPublish(t *testing.T) {
	bus := events.New()
	p, err := New(Options{Store: siptest.NewMemStore(), Bus: bus, SIP: &signaling.Server{}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	calls := func() int {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.calls["202"])
	}
	bus.Publish(events.Event{Kind: events.KindCallConfirmed, Extension: "202", Device: "HD00002", CallID: "c1"})
	if n := calls(); n != 1 {
		t.Fatalf("%d calls of 202 right after Publish, want 1", n)
	}
	bus.Publish(events.Event{Kind: events.KindCallTerminated, Extension: "202", Device: "HD00002", CallID: "c1"})
	if n := calls(); n != 0 {
		t.Fatalf("%d calls of 202 after the call ended, want 0", n)
	}
}

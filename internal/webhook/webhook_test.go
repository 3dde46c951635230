package webhook

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
)

const secret = "s3cret-key"

// receiver is a local endpoint that fails its first `fail` requests.
type receiver struct {
	t    testing.TB
	now  func() time.Time
	mu   sync.Mutex
	fail int
	got  []Body // every request, failed ones included
	ok   []int64
	srv  *httptest.Server
}

func newReceiver(t testing.TB, fail int, now func() time.Time) *receiver {
	r := &receiver{t: t, fail: fail, now: now}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := VerifyRequest(req, secret, r.now(), 5*time.Minute)
	if err != nil {
		r.t.Errorf("receiver: %v", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var b Body
	if err := json.Unmarshal(body, &b); err != nil {
		r.t.Errorf("receiver: %v", err)
	}
	if req.Header.Get(HeaderEvent) != b.Kind || req.Header.Get(HeaderDelivery) == "" {
		r.t.Errorf("receiver: headers %v", req.Header)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, b)
	if r.fail > 0 {
		r.fail--
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	r.ok = append(r.ok, b.ID)
}

func (r *receiver) delivered() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ok)
}

func (r *receiver) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func newDispatcher(tb testing.TB, st *memStore, c *siptest.Clock) *Dispatcher {
	return New(Options{Store: st, Now: c.Now, Logger: slog.New(slog.DiscardHandler)})
}

// hookedReceiver is a store with one enabled webhook, to a new receiver
// that fails its first fail deliveries.
func hookedReceiver(t testing.TB, fail int, now func() time.Time) (*memStore, *receiver) {
	st := &memStore{}
	r := newReceiver(t, fail, now)
	st.addHook(hotdesk.Webhook{URL: r.srv.URL, Secret: secret, Enabled: true})
	return st, r
}

func addEvents(st *memStore, at time.Time, n int) {
	for i := range n {
		st.addEvent(hotdesk.AuditEvent{Time: at, Kind: hotdesk.KindLogin, Extension: strconv.Itoa(201 + i), Device: "HD00001", Source: "192.0.2.1:5060"})
	}
}

func TestOrderSignatureAndBackoff(t *testing.T) {
	c := siptest.NewClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	st, r := hookedReceiver(t, 2, c.Now)
	st.addHook(hotdesk.Webhook{URL: r.srv.URL + "/off", Secret: secret, Enabled: false})
	addEvents(st, c.Now(), 3)
	d := newDispatcher(t, st, c)
	ctx := context.Background()
	t0 := c.Now()

	wantNext := []time.Duration{5 * time.Second, 15 * time.Second} // 5 s, then 10 s more
	for i, want := range wantNext {
		next, err := d.Tick(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !next.Equal(t0.Add(want)) {
			t.Fatalf("tick %d: next %v, want +%v", i, next.Sub(t0), want)
		}
		if got := r.requests(); got != i+1 {
			t.Fatalf("tick %d: %d requests, want %d (later events must wait)", i, got, i+1)
		}
		// Not due yet: nothing is sent.
		c.Set(next.Add(-time.Millisecond))
		d.Tick(ctx)
		c.Set(next)
	}
	if next, _ := d.Tick(ctx); !next.IsZero() {
		t.Fatalf("next %v after all delivered", next)
	}
	if got := r.delivered(); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("delivered %v, want [1 2 3]", got)
	}
	d1 := st.delivery(1)
	if d1.Status != hotdesk.DeliveryDelivered || d1.Attempts != 3 || d1.DeliveredAt == nil || d1.LastError != "" {
		t.Fatalf("delivery 1: %+v", d1)
	}
	if d3 := st.delivery(3); d3.Attempts != 1 || d3.Status != hotdesk.DeliveryDelivered {
		t.Fatalf("delivery 3: %+v", d3)
	}
	if r.got[0].Kind != "login" || r.got[0].Extension != "201" || r.got[0].Source != "192.0.2.1:5060" || !r.got[0].Time.Equal(t0) {
		t.Fatalf("body %+v", r.got[0])
	}
}

func TestGiveUpAfterRetryWindow(t *testing.T) {
	c := siptest.NewClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	st, _ := hookedReceiver(t, 1_000_000, c.Now)
	addEvents(st, c.Now(), 2)
	d := newDispatcher(t, st, c)
	t0 := c.Now()
	var gaps []time.Duration
	prev := t0
	for i := 0; i < 100; i++ {
		next, err := d.Tick(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if next.IsZero() {
			break
		}
		gaps = append(gaps, next.Sub(prev))
		prev = next
		c.Set(next)
	}
	if d1 := st.delivery(1); d1.Status != hotdesk.DeliveryFailed || d1.LastError != "HTTP 503" {
		t.Fatalf("delivery 1: %+v", d1)
	}
	if d2 := st.delivery(2); d2.Status != hotdesk.DeliveryFailed {
		t.Fatalf("delivery 2: %+v", d2)
	}
	if gaps[0] != 5*time.Second || gaps[1] != 10*time.Second || gaps[9] != 2560*time.Second || gaps[10] != time.Hour || slices.Max(gaps) != time.Hour {
		t.Fatalf("backoff gaps %v", gaps)
	}
	if st.delivery(1).Attempts < 30 {
		t.Fatalf("only %d attempts in 24 h", st.delivery(1).Attempts)
	}
}

func TestNoLossAcrossRestart(t *testing.T) {
	c := siptest.NewClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	st, r := hookedReceiver(t, 1, c.Now)
	addEvents(st, c.Now(), 2)
	next, _ := newDispatcher(t, st, c).Tick(context.Background()) // fails the first
	// Down for a while; more events are written meanwhile.
	c.Set(next.Add(time.Minute))
	addEvents(st, c.Now(), 2)
	d2 := newDispatcher(t, st, c)
	if next, _ := d2.Tick(context.Background()); !next.IsZero() {
		t.Fatalf("pending left, next %v", next)
	}
	if got := r.delivered(); !slices.Equal(got, []int64{1, 2, 3, 4}) {
		t.Fatalf("delivered %v", got)
	}
}

func TestRunDeliversOnBusEvent(t *testing.T) {
	st, r := hookedReceiver(t, 0, time.Now)
	bus := events.New()
	d := New(Options{Store: st, Bus: bus, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	for i := 1; i <= 3; i++ {
		addEvents(st, time.Now(), 1)
		bus.Publish(events.Event{Kind: hotdesk.KindLogin})
		deadline := time.Now().Add(5 * time.Second)
		for len(r.delivered()) < i {
			if time.Now().After(deadline) {
				t.Fatalf("event %d not delivered", i)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestRunStartsWebhookAddedLater: a webhook added while Run runs (the API
// audits it as a settings change) is delivered to at once, not after the
// next periodic rescan.
func TestRunStartsWebhookAddedLater(t *testing.T) {
	st := &memStore{}
	first, later := newReceiver(t, 0, time.Now), newReceiver(t, 0, time.Now)
	st.addHook(hotdesk.Webhook{URL: first.srv.URL, Secret: secret, Enabled: true})
	bus := events.New()
	d := New(Options{Store: st, Bus: bus, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	waitDelivered := func(r *receiver, what string) {
		deadline := time.Now().Add(5 * time.Second)
		for len(r.delivered()) < 1 {
			if time.Now().After(deadline) {
				t.Fatalf("%s got nothing within 5 s", what)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	addEvents(st, time.Now(), 1)
	bus.Publish(events.Event{Kind: hotdesk.KindLogin})
	waitDelivered(first, "the first webhook") // Run has scanned the webhooks

	st.addHook(hotdesk.Webhook{URL: later.srv.URL, Secret: secret, Enabled: true})
	bus.Publish(events.Event{Kind: hotdesk.KindSettings, Detail: "webhook 2 created", Node: "b"})
	addEvents(st, time.Now(), 1)
	bus.Publish(events.Event{Kind: hotdesk.KindLogin})
	waitDelivered(later, "the webhook added later")
}

func TestSignVerify(t *testing.T) {
	body := []byte(`{"id":1}`)
	// Reference: printf '1700000000.{"id":1}' | openssl dgst -sha256 -hmac s3cret-key
	sig := Sign(secret, 1700000000, body)
	if sig != "sha256=21e9528bd69f50e87182f0682d55947f72b3a43ba541fea130c423147ac94834" {
		t.Fatalf("signature %q", sig)
	}
	if !Verify(secret, 1700000000, body, sig) {
		t.Fatal("own signature does not verify")
	}
	for _, bad := range []struct {
		secret string
		ts     int64
		body   string
	}{{"other", 1700000000, `{"id":1}`}, {secret, 1700000001, `{"id":1}`}, {secret, 1700000000, `{"id":2}`}} {
		if Verify(bad.secret, bad.ts, []byte(bad.body), sig) {
			t.Errorf("verified with %+v", bad)
		}
	}
}

func TestValidateURL(t *testing.T) {
	tests := map[string]bool{
		"https://example.com/hook":       true,
		"HTTPS://example.com":            true,
		"http://127.0.0.1:8080/x":        true,
		"http://localhost/x":             true,
		"http://[::1]:9000/":             true,
		"http://example.com/hook":        false,
		"http://10.0.0.1/hook":           false,
		"ftp://example.com/":             false,
		"https:///nohost":                false,
		"example.com/hook":               false,
		"":                               false,
		"https://exa mple.com":           false,
		"http://127.0.0.1.example.com/x": false,
	}
	for u, ok := range tests {
		err := ValidateURL(u)
		if (err == nil) != ok {
			t.Errorf("ValidateURL(%q) = %v, want ok=%v", u, err, ok)
		}
		if err != nil && hotdesk.ErrorField(err) != "url" {
			t.Errorf("ValidateURL(%q) field %q", u, hotdesk.ErrorField(err))
		}
	}
}

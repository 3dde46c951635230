package app

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
)

// /metrics carries what contrib/prometheus/hotdesk.rules.yml and the
// Grafana dashboard use: events by kind (a login counts), live calls, the
// event bus's losses and the build.
func TestMetricsCountEvents(t *testing.T) {
	r := mustStart(t, testConfig(t.TempDir(), true))
	if _, err := r.Desk().Login(context.Background(), desk.LoginRequest{Extension: "201", Device: "HD00001", Via: hotdesk.ViaAPI}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`hotdesk_events_total{kind="login"} 1`, `hotdesk_events_total{kind="login_failed"} 0`,
		`hotdesk_events_total{kind="auth_failed"} 0`, "hotdesk_calls_active 0", "hotdesk_events_dropped_total 0",
		`hotdesk_build_info{`,
	}
	var body string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		res, err := http.Get(r.HTTPURL() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		body = string(b)
		missing := false
		for _, w := range want {
			missing = missing || !strings.Contains(body, w)
		}
		if !missing {
			return
		}
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %q", w)
		}
	}
}

// Counting an event is a read of the kind's counter, kept after its first
// event, rather than WithLabelValues (hashing the label, the vector's
// lock) for each of the six to eight events a call publishes (issue 18;
// BenchmarkEventMetricsCount: 284 -> 204 ns a Publish). The counts are
// the vector's own, and another node's events are not counted.
func TestEventMetricsCounterKept(t *testing.T) {
	bus := events.New()
	m := newEventMetrics(prometheus.NewRegistry(), bus, func() int { return 0 })
	stop := m.count(bus)
	defer stop()
	e := events.Event{Kind: events.KindCallTrying, Extension: "201", Device: "HD1", CallID: "c1"}
	bus.Publish(e)
	kept := m.byKind.Load()
	if kept == nil || (*kept)[e.Kind] == nil {
		t.Fatal("call_trying's counter not kept after its first event")
	}
	allocs := testing.AllocsPerRun(100, func() { bus.Publish(e) }) // the bus has no other handler here
	if allocs != 0 {
		t.Errorf("%v allocations per counted event, want 0", allocs)
	}
	if m.byKind.Load() != kept {
		t.Error("the kept counters copied again for a kind already kept")
	}
	bus.Publish(events.Event{Kind: events.KindCallTrying, Node: "other"}) // another node's: not counted
	bus.Publish(events.Event{Kind: hotdesk.KindLogin})
	for kind, want := range map[string]float64{events.KindCallTrying: 102, hotdesk.KindLogin: 1} {
		var got dto.Metric
		if err := m.events.WithLabelValues(kind).Write(&got); err != nil {
			t.Fatal(err)
		}
		if got.GetCounter().GetValue() != want {
			t.Errorf("%s counted %v, want %v", kind, got.GetCounter().GetValue(), want)
		}
	}
}

// BenchmarkEventMetricsCount: what counting one call event costs the
// publisher (the handler run in Publish).
//
//	go test -run '^$' -bench EventMetricsCount ./internal/app/
func BenchmarkEventMetricsCount(b *testing.B) {
	bus := events.New()
	m := newEventMetrics(prometheus.NewRegistry(), bus, func() int { return 0 })
	defer m.count(bus)()
	e := events.Event{Kind: events.KindCallConfirmed, Extension: "201", Device: "HD1", CallID: "c1"}
	b.ReportAllocs()
	for b.Loop() {
		bus.Publish(e)
	}
}

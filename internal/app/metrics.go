package app

import (
	"maps"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/buildinfo"
	"github.com/hotdesk-pbx/hotdesk/internal/events"
	"github.com/hotdesk-pbx/hotdesk/internal/relay"
)

// buildInfoGauge is hotdesk_build_info{version,commit,date,goversion} 1, so
// dashboards can show and alert on which build each node runs.
func buildInfoGauge() prometheus.Collector {
	bi := buildinfo.Get()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "hotdesk_build_info", Help: "Always 1; the labels name the running build.",
	}, []string{"version", "commit", "date", "goversion"})
	g.WithLabelValues(bi.Version, bi.Commit, bi.Date, bi.GoVersion).Set(1)
	return g
}

// countedKinds are the event kinds hotdesk_events_total starts at zero for,
// so rate() and alerts see the series before the first event.
var countedKinds = []string{
	hotdesk.KindLogin, hotdesk.KindLogout, hotdesk.KindLoginFailed, hotdesk.KindLocked,
	hotdesk.KindAuthFailed, hotdesk.KindAuthBlocked, hotdesk.KindRegistered, hotdesk.KindUnregistered,
	hotdesk.KindEmergency, hotdesk.KindProvisionFetch,
}

// eventMetrics counts this node's events by kind (logins, failed logins,
// SIP digest failures, registrations, emergency calls, …) and exposes the
// event bus's losses and the live calls.
type eventMetrics struct {
	bus    *events.Bus
	events *prometheus.CounterVec
	// byKind is each kind's counter once counted: a map read in Publish
	// rather than WithLabelValues hashing the label and taking the vector's
	// lock for every event (issue 18: six to eight events a call). Copied
	// on write under mu; the kinds are few (the bus's, not callers').
	byKind atomic.Pointer[map[string]prometheus.Counter]
	mu     sync.Mutex
}

func newEventMetrics(reg prometheus.Registerer, bus *events.Bus, liveCalls func() int) *eventMetrics {
	m := &eventMetrics{bus: bus, events: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hotdesk_events_total", Help: "Events that happened on this node, by kind (login, login_failed, auth_failed, registered, emergency_call, …).",
	}, []string{"kind"})}
	for _, k := range countedKinds {
		m.events.WithLabelValues(k)
	}
	reg.MustRegister(m.events,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "hotdesk_events_dropped_total", Help: "Events a slow subscriber (event stream, webhooks, BLF, check-sync, the cluster bridge) did not get because its buffer was full.",
		}, func() float64 { return float64(bus.Dropped()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hotdesk_calls_active", Help: "Calls in progress through this node.",
		}, func() float64 { return float64(liveCalls()) }),
	)
	return m
}

// count counts the bus's events, as they are published, until stop is
// called: a counter increment in the publisher's goroutine rather than a
// goroutine woken for every event (issue 18). Events from other nodes are
// theirs to count.
func (m *eventMetrics) count(bus *events.Bus) (stop func()) {
	return bus.Handle(func(e events.Event) {
		if !e.Remote() {
			m.counter(e.Kind).Inc()
		}
	})
}

// counter is kind's series of hotdesk_events_total, the same as
// WithLabelValues(kind), kept after its first event.
func (m *eventMetrics) counter(kind string) prometheus.Counter {
	if p := m.byKind.Load(); p != nil {
		if c, ok := (*p)[kind]; ok {
			return c
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.byKind.Load()
	if old != nil {
		if c, ok := (*old)[kind]; ok {
			return c
		}
	}
	c := m.events.WithLabelValues(kind)
	next := map[string]prometheus.Counter{kind: c}
	if old != nil {
		maps.Copy(next, *old)
	}
	m.byKind.Store(&next)
	return c
}

// relayMetrics expose the media relay: anchored calls up, and the packets
// relayed and dropped by the calls that ended.
func relayMetrics(r *relay.Relay) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hotdesk_relay_sessions", Help: "Anchored calls whose media goes through this node's relay now.",
		}, func() float64 { return float64(r.Active()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "hotdesk_relay_packets_total", Help: "RTP and RTCP packets the relay sent on, counted when each anchored call ends.",
		}, func() float64 { n, _ := r.Packets(); return float64(n) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "hotdesk_relay_packets_dropped_total", Help: "Packets the relay dropped (from a third address, or before the other phone was heard from), counted when each anchored call ends.",
		}, func() float64 { _, n := r.Packets(); return float64(n) }),
	}
}

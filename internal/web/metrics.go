package web

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/buildinfo"
)

// metrics are the API's Prometheus collectors.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// scrapeTimeout bounds the store reads behind the gauges.
const scrapeTimeout = 2 * time.Second

func newMetrics(a *API) *metrics {
	m := &metrics{reg: a.registry}
	m.requests = register(a.registry, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hotdesk_http_requests_total", Help: "API requests by route and status code.",
	}, []string{"route", "code"}))
	m.duration = register(a.registry, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "hotdesk_http_request_duration_seconds", Help: "API request latency by route (event streams included).",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 5, 60, 300},
	}, []string{"route"}))
	register(a.registry, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hotdesk_logins", Help: "Users logged in on hot desk phones now.",
	}, func() float64 { return a.gauge("logins", a.countLogins) }))
	register(a.registry, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hotdesk_registered_devices", Help: "Devices with at least one live registration.",
	}, func() float64 { return a.gauge("registered devices", a.countRegistered) }))
	return m
}

// register adds c to reg, or returns the collector already registered
// under the same description (a second API on the same registry).
func register[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(C); ok {
				return old
			}
		}
	}
	return c
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// handler serves the registry in the Prometheus text format, without a
// token (scrapers expect an open endpoint; it holds counts, no names).
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// gauge runs count with a timeout; a failure yields NaN (and a log line)
// rather than a wrong number.
func (a *API) gauge(name string, count func(context.Context) (int, error)) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	n, err := count(ctx)
	if err != nil {
		a.log.Warn("api: metrics", "gauge", name, "err", err)
		return math.NaN()
	}
	return float64(n)
}

func (a *API) countLogins(ctx context.Context) (int, error) {
	ls, err := a.store.ListLogins(ctx)
	return len(ls), err
}

// countRegistered asks the registrar about every device when there is one,
// else counts the devices with stored bindings.
func (a *API) countRegistered(ctx context.Context) (int, error) {
	if a.regs == nil {
		bs, err := a.store.ListBindings(ctx, a.now())
		seen := map[string]bool{}
		for _, b := range bs {
			seen[b.Device] = true
		}
		return len(seen), err
	}
	ds, _, err := a.store.FindDevices(ctx, hotdesk.DeviceFilter{})
	n := 0
	for _, d := range ds {
		if len(a.regs.Contacts(d.ID)) > 0 {
			n++
		}
	}
	return n, err
}

// healthz reports whether the database answers.
func (a *API) healthz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), scrapeTimeout)
	defer cancel()
	if err := a.store.Ping(ctx); err != nil {
		a.log.Error("api: health check", "err", err)
		return hotdesk.Errorf(hotdesk.EUNAVAILABLE, "The database is not reachable.")
	}
	bi := buildinfo.Get()
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": bi.Version, "commit": bi.Commit, "date": bi.Date})
	return nil
}

// liveCalls lists the calls in progress.
func (a *API) liveCalls(w http.ResponseWriter, r *http.Request) error {
	var cs []LiveCall
	if a.calls != nil {
		cs = a.calls.Live()
	}
	writeJSON(w, http.StatusOK, orEmpty(cs))
	return nil
}

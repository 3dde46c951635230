package signaling

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// BadInputInterval is how often one source's bad input is logged at most.
const BadInputInterval = time.Minute

// badInputSources caps the sources remembered per interval, so a flood
// from spoofed addresses cannot grow memory; beyond it input is counted
// but neither logged nor answered.
const badInputSources = 4096

// badInputAnswers caps the error responses sent to one source per
// interval: answering spoofed garbage must not make the PBX a reflector.
const badInputAnswers = 200

// guard counts and logs what the server refuses or survives: bad input,
// handler panics, refused and closed TCP connections.
type guard struct {
	log *slog.Logger
	now func() time.Time

	bad       *prometheus.CounterVec
	panics    *prometheus.CounterVec
	tcpRefuse *prometheus.CounterVec
	tcpClosed *prometheus.CounterVec
	acceptErr prometheus.Counter
	tlsFailed prometheus.Counter

	mu         sync.Mutex
	start      time.Time
	seen       map[string]int // source IP → bad messages this interval
	suppressed int            // not logged this interval
	panicKinds map[string]bool
}

func newGuard(log *slog.Logger) *guard {
	return &guard{
		log: log, now: time.Now,
		bad: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotdesk_sip_bad_messages_total",
			Help: "SIP messages refused before routing (answered 400/505/513 where possible, else dropped), by transport and kind.",
		}, []string{"transport", "kind"}),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotdesk_sip_handler_panics_total",
			Help: "Panics recovered while handling one SIP request, by method.",
		}, []string{"method"}),
		tcpRefuse: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotdesk_sip_tcp_refused_total",
			Help: "SIP TCP connections closed at accept, by reason (per_source or total cap).",
		}, []string{"reason"}),
		tcpClosed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotdesk_sip_tcp_closed_total",
			Help: "SIP TCP connections closed by the PBX, by reason (idle, partial message, bad framing).",
		}, []string{"reason"}),
		acceptErr: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hotdesk_sip_accept_errors_total",
			Help: "Errors accepting SIP TCP connections (e.g. out of file descriptors); the listener backs off and keeps serving.",
		}),
		tlsFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hotdesk_sip_tls_handshake_failures_total",
			Help: "SIP TLS connections closed because the handshake failed or timed out.",
		}),
		seen:       map[string]int{},
		panicKinds: map[string]bool{},
	}
}

// collectors are registered by the app on its /metrics registry.
func (g *guard) collectors() []prometheus.Collector {
	return []prometheus.Collector{g.bad, g.panics, g.tcpRefuse, g.tcpClosed, g.acceptErr, g.tlsFailed}
}

// hostOf returns the IP of a host:port, or the string itself.
func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// badInput counts one refused message from src and logs it if it is the
// source's first this interval (without the payload). answer reports
// whether an error response may still be sent to src this interval.
func (g *guard) badInput(transport, src string, p problem) (answer bool) {
	g.bad.WithLabelValues(transport, p.kind).Inc()
	first, n := g.limit(hostOf(src))
	if first {
		g.log.Warn("sip: bad input (logged once per source per interval)", "src", src, "transport", transport,
			"kind", p.kind, "detail", truncate(p.detail, 120), "answer", p.code, "interval", BadInputInterval)
	}
	return n >= 0 && n < badInputAnswers
}

// limit counts one event for key (a source IP) in the current interval:
// first is true for the key's first this interval; n is how many came
// before it, -1 when the table is full and key is not in it.
func (g *guard) limit(ip string) (first bool, n int) {
	g.mu.Lock()
	now := g.now()
	if now.Sub(g.start) >= BadInputInterval {
		if g.suppressed > 0 {
			g.log.Warn("sip: more bad input not logged", "messages", g.suppressed, "sources", len(g.seen), "interval", BadInputInterval)
		}
		g.start, g.seen, g.suppressed = now, map[string]int{}, 0
	}
	n, known := g.seen[ip]
	if !known && len(g.seen) >= badInputSources {
		g.suppressed++
		g.mu.Unlock()
		return false, -1
	}
	g.seen[ip] = n + 1
	if n > 0 {
		g.suppressed++
	}
	g.mu.Unlock()
	return n == 0, n
}

// recovered counts a panic in a request handler and logs it once per
// kind (method and panic value), with its stack.
func (g *guard) recovered(method string, v any) {
	g.panics.WithLabelValues(method).Inc()
	kind := truncate(method+": "+fmt.Sprint(v), 200)
	g.mu.Lock()
	first := !g.panicKinds[kind] && len(g.panicKinds) < 1000
	if first {
		g.panicKinds[kind] = true
	}
	g.mu.Unlock()
	if first {
		g.log.Error("sip: handler panicked (recovered; logged once per kind)", "method", method, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// quietHandler wraps the handler sipgo's transport and transaction layers
// log to: it drops the "data" attribute (sipgo logs whole unparseable
// payloads at ERROR) and logs each distinct warning or error message at
// most once per interval, so garbage cannot flood the log.
type quietHandler struct {
	slog.Handler
	state *quietState
}

type quietState struct {
	mu    sync.Mutex
	now   func() time.Time
	last  map[string]time.Time
	drops map[string]int
}

func newQuietHandler(h slog.Handler) *quietHandler {
	return &quietHandler{Handler: h, state: &quietState{now: time.Now, last: map[string]time.Time{}, drops: map[string]int{}}}
}

func (q *quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return q.Handler.Handle(ctx, r)
	}
	st := q.state
	st.mu.Lock()
	now := st.now()
	last, ok := st.last[r.Message]
	if ok && now.Sub(last) < BadInputInterval {
		st.drops[r.Message]++
		st.mu.Unlock()
		return nil
	}
	if !ok && len(st.last) >= 1000 {
		clear(st.last)
	}
	dropped := st.drops[r.Message]
	st.last[r.Message], st.drops[r.Message] = now, 0
	st.mu.Unlock()

	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key != "data" {
			out.AddAttrs(a)
		}
		return true
	})
	if dropped > 0 {
		out.AddAttrs(slog.Int("not_logged_since_last", dropped))
	}
	return q.Handler.Handle(ctx, out)
}

func (q *quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &quietHandler{Handler: q.Handler.WithAttrs(as), state: q.state}
}

func (q *quietHandler) WithGroup(name string) slog.Handler {
	return &quietHandler{Handler: q.Handler.WithGroup(name), state: q.state}
}

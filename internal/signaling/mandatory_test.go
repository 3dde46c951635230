package signaling

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// without returns a request builder that leaves out the named header line.
func without(method, header string) func(string) string {
	return func(local string) string {
		var out []string
		for _, l := range strings.Split(sipText(method, "missing-"+header, "", local, "UDP"), "\r\n") {
			if !strings.HasPrefix(l, header+":") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\r\n")
	}
}

// A request missing a mandatory header (RFC 3261 8.1.1) is answered 400
// when a response can be addressed (Via present), and the server lives on:
// one datagram without To: used to kill the process.
func TestMissingMandatoryHeaderIs400(t *testing.T) {
	s := mustServe(t, nil)
	for _, h := range []string{"To", "From", "Call-ID", "CSeq", "Max-Forwards"} {
		for _, m := range []string{"OPTIONS", "INVITE", "BYE", "REGISTER"} {
			res := exchange(t, s, without(m, h), 2*time.Second)
			if res == nil || res.StatusCode != 400 {
				t.Errorf("%s without %s: %v, want 400", m, h, res)
			}
		}
	}
	// Without Via there is nowhere to send a response: dropped.
	if res := exchange(t, s, without("OPTIONS", "Via"), 300*time.Millisecond); res != nil {
		t.Errorf("OPTIONS without Via answered %d", res.StatusCode)
	}
	mustAlive(t, s)
}

// A handler that panics costs one request a 500, not the process; the
// panic is counted and logged once per kind.
func TestHandlerPanicIsRecovered(t *testing.T) {
	var logs strings.Builder
	var mu sync.Mutex
	s := mustServeLog(t, &lockedWriter{w: &logs, mu: &mu})
	s.Handle(sip.MESSAGE, func(req *sip.Request, tx sip.ServerTransaction) {
		var m map[string]int
		m["boom"]++ // nil map write
	})
	for i := 0; i < 3; i++ {
		if res := exchange(t, s, request("MESSAGE", fmt.Sprint("panic-", i), ""), 2*time.Second); res == nil || res.StatusCode != 500 {
			t.Fatalf("panicking handler: %v, want 500", res)
		}
	}
	mustAlive(t, s)
	if got := counterValue(t, s.guard.panics.WithLabelValues("MESSAGE")); got != 3 {
		t.Errorf("panics counted %v, want 3", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logs.String(), "handler panicked"); n != 1 {
		t.Errorf("panic logged %d times, want once:\n%s", n, logs.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// mustServeLog is mustServe logging to w.
func mustServeLog(tb testing.TB, w io.Writer) *Server {
	tb.Helper()
	return mustServeOpts(tb, Options{UDPAddr: "127.0.0.1:0", TCPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(w, nil))})
}

// counterValue reads a counter.
func counterValue(tb testing.TB, c prometheus.Counter) float64 {
	tb.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		tb.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

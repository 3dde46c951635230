package app

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
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

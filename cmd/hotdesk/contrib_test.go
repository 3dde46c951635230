package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

var metricNameRE = regexp.MustCompile(`\b(?:hotdesk|process|go)_[a-z0-9_]+\b`)

// Issue 17 item 6: the Prometheus rules and the Grafana dashboard in
// contrib/ use only series a running server serves on /metrics, and the
// rules pass promtool (check and unit tests).
func TestContribMonitoring(t *testing.T) {
	rules, err := os.ReadFile("../../contrib/prometheus/hotdesk.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	dashJSON, err := os.ReadFile("../../contrib/grafana/hotdesk.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(dashJSON, &dash); err != nil || len(dash.Panels) == 0 {
		t.Fatalf("contrib/grafana/hotdesk.json: %v (%d panels)", err, len(dash.Panels))
	}
	used := map[string]string{} // metric → where
	for _, m := range metricNameRE.FindAllString(string(rules), -1) {
		used[m] = "hotdesk.rules.yml"
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, m := range metricNameRE.FindAllString(tg.Expr, -1) {
				used[m] = "dashboard panel " + p.Title
			}
		}
	}

	dir := t.TempDir()
	p := startProc(t, nil, serveArgs(dir, "--demo")...)
	base := p.baseURL(t, 30*time.Second)
	get(t, base+"/api/v1/users", readToken(t, dir)) // so the API's own series exist
	_, metrics := get(t, base+"/metrics", "")
	served := map[string]bool{}
	for _, l := range strings.Split(metrics, "\n") {
		if name, _, ok := strings.Cut(strings.TrimPrefix(l, "# TYPE "), " "); ok && strings.HasPrefix(l, "# TYPE ") {
			served[name] = true
		} else if l != "" && !strings.HasPrefix(l, "#") {
			served[strings.FieldsFunc(l, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
		}
	}
	for m, where := range used {
		if !served[m] {
			t.Errorf("%s uses %s, which /metrics does not serve", where, m)
		}
	}
	for _, must := range []string{"hotdesk_registered_devices", "hotdesk_events_total", "hotdesk_events_dropped_total", "hotdesk_calls_active", "hotdesk_logins"} {
		if _, ok := used[must]; !ok {
			t.Errorf("neither the rules nor the dashboard use %s", must)
		}
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian package prometheus; scripts/test installs it)")
	}
	for _, args := range [][]string{{"check", "rules", "hotdesk.rules.yml"}, {"test", "rules", "hotdesk.rules.test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "../../contrib/prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

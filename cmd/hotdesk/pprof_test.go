package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// HOTDESK_PPROF serves the Go profiler (issue 18: profile the real binary
// under load); unset, nothing listens.
func TestServePprof(t *testing.T) {
	var out strings.Builder
	stop, err := servePprof(func(string) (string, bool) { return "", false }, &out)
	if err != nil || out.Len() != 0 {
		t.Fatalf("unset: err %v, said %q", err, out.String())
	}
	stop()

	for _, bad := range []string{":6060", "0.0.0.0:6060", "192.0.2.1:6060", "localhost"} {
		if _, err := servePprof(func(string) (string, bool) { return bad, true }, &out); err == nil {
			t.Errorf("%s=%s accepted: only loopback addresses are", pprofEnv, bad)
		}
	}
	stop, err = servePprof(func(k string) (string, bool) { return "127.0.0.1:0", k == pprofEnv }, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	said := out.String()
	i, j := strings.Index(said, "http://"), strings.Index(said, "/debug/pprof/")
	if i < 0 || j < i {
		t.Fatalf("no address in %q", said)
	}
	res, err := http.Get(said[i:j] + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile:") {
		t.Fatalf("goroutine profile: %d %.200s", res.StatusCode, body)
	}

	// The goroutines started so far, which bench/calls reads per run.
	res, err = http.Get(said[i:j] + "/debug/sched")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	var n uint64
	if _, err := fmt.Sscanf(string(body), "goroutines-created %d", &n); err != nil || n == 0 {
		t.Errorf("/debug/sched: %d %q", res.StatusCode, body)
	}
}

package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime/metrics"
	"time"
)

// pprofEnv names the address the Go profiler is served on while the PBX
// runs (e.g. 127.0.0.1:6060), for profiling the real binary under load
// (bench/calls). Unset: no profiler. It is an environment variable, not a
// flag: a debugging aid that must not be switched on by a packaged
// default file, and it listens on loopback only.
const pprofEnv = "HOTDESK_PPROF"

// startPprof serves /debug/pprof/ on addr and returns the bound address
// and a function that stops it.
func startPprof(addr string) (string, func(), error) {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return "", nil, fmt.Errorf("%s=%q: give a loopback address and port, like 127.0.0.1:6060", pprofEnv, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", pprofEnv, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/sched", schedCounts)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln) // returns ErrServerClosed once stopped
	}()
	return ln.Addr().String(), func() { srv.Close(); <-done }, nil
}

// servePprof starts the profiler when HOTDESK_PPROF is set (lookup is
// os.LookupEnv) and says where on stderr.
func servePprof(lookup func(string) (string, bool), stderr io.Writer) (func(), error) {
	addr, ok := lookup(pprofEnv)
	if !ok || addr == "" {
		return func() {}, nil
	}
	bound, stop, err := startPprof(addr)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "profiler on http://%s/debug/pprof/ (%s)\n", bound, pprofEnv)
	return stop, nil
}

// schedCounts writes the runtime's count of goroutines started since the
// process began ("goroutines-created N"), which bench/calls reads before
// and after a run to print the goroutines started per call (issue 18,
// ninth pass: each start may wake an idle thread).
func schedCounts(w http.ResponseWriter, _ *http.Request) {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		http.Error(w, "not counted by this runtime", http.StatusNotFound)
		return
	}
	fmt.Fprintf(w, "goroutines-created %d\n", s[0].Value.Uint64())
}

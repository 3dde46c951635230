package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
)

// HOTDESK_DEBUG_PPROF=127.0.0.1:6060 serves Go's profiler (/debug/pprof/)
// on that loopback address, for profiling the binary under load (see
// docs/performance.md). It is a debugging aid, not a setting: unset, it
// costs nothing; any address other than loopback is refused.
func init() {
	addr := os.Getenv("HOTDESK_DEBUG_PPROF")
	if addr == "" {
		return
	}
	if _, err := servePprof(addr); err != nil {
		fmt.Fprintln(os.Stderr, "hotdesk: HOTDESK_DEBUG_PPROF:", err)
	}
}

// servePprof listens on addr (loopback only) and serves the profiler there.
func servePprof(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return nil, errors.New("give a loopback host:port, not " + addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go http.Serve(l, mux)
	return l, nil
}

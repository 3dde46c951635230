package main

import (
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
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(os.Stderr, "hotdesk: HOTDESK_DEBUG_PPROF=%q ignored: give a loopback host:port\n", addr)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() {
		if err := http.ListenAndServe(addr, mux); err != nil {
			fmt.Fprintln(os.Stderr, "hotdesk: pprof:", err)
		}
	}()
}

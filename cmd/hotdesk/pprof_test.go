package main

import (
	"net/http"
	"testing"
)

// HOTDESK_DEBUG_PPROF serves the profiler on loopback only.
func TestServePprofLoopbackOnly(t *testing.T) {
	l, err := servePprof("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	res, err := http.Get("http://" + l.Addr().String() + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	for _, addr := range []string{"0.0.0.0:0", ":0", "example.com:6060"} {
		if l, err := servePprof(addr); err == nil {
			l.Close()
			t.Errorf("%s accepted", addr)
		}
	}
}

package main

import (
	"runtime/debug"
	"testing"
)

// serve collects garbage less often unless GOGC says otherwise.
func TestTuneGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	if tuneGC(func(k string) (string, bool) { return "50", k == "GOGC" }) {
		t.Fatal("GOGC set, yet tuned")
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC set: percent %d, want the environment's (100 here)", got)
	}
	if !tuneGC(func(string) (string, bool) { return "", false }) {
		t.Fatal("GOGC unset, not tuned")
	}
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Fatalf("percent %d, want %d", got, gcPercent)
	}
}

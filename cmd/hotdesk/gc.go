package main

import "runtime/debug"

// gcPercent is the garbage collector's target for `hotdesk serve` when
// GOGC is not set: the PBX's live heap is small (about 11 MB for 10,000
// registered phones) and its garbage comes from every SIP message, so
// Go's default of 100 collects many times a second under load. At 400
// a call costs about 40 µs of collection instead of 236 µs (issue 18,
// docs/performance-calls.md), for a heap that may grow to five times
// the live one between collections. GOGC (and GOMEMLIMIT) in the
// environment still win.
const gcPercent = 400

// tuneGC sets gcPercent unless the environment chose (lookup is
// os.LookupEnv). It reports whether it did.
func tuneGC(lookup func(string) (string, bool)) bool {
	if _, set := lookup("GOGC"); set {
		return false
	}
	debug.SetGCPercent(gcPercent)
	return true
}

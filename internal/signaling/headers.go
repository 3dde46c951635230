package signaling

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// HeaderLister is a request or response (their header list in order).
type HeaderLister interface{ Headers() []sip.Header }

// Header returns m's first header named name (any case), or nil. sipgo's
// GetHeader lowers the name of every header it walks past, one allocation
// each for names outside its short list (Authorization, Expires,
// User-Agent…): several per REGISTER on the hot path (issue 18).
func Header(m HeaderLister, name string) sip.Header {
	for _, h := range m.Headers() {
		if strings.EqualFold(h.Name(), name) {
			return h
		}
	}
	return nil
}

// Headers returns m's headers named name (any case), in order, like
// sipgo's GetHeaders without its allocations.
func Headers(m HeaderLister, name string) []sip.Header {
	var out []sip.Header
	for _, h := range m.Headers() {
		if strings.EqualFold(h.Name(), name) {
			out = append(out, h)
		}
	}
	return out
}

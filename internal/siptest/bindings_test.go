package siptest

import (
	"slices"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// TestBindingsExpiry: LiveBindings lists the unexpired bindings of one
// device or all; TakeExpired removes and returns the expired ones of one
// node or all, leaving the rest.
func TestBindingsExpiry(t *testing.T) {
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	m := map[string]hotdesk.Binding{
		"a": {Device: "HD1", Contact: "a", Node: "n1", Expires: now.Add(time.Minute)},
		"b": {Device: "HD2", Contact: "b", Node: "n1", Expires: now.Add(time.Minute)},
		"c": {Device: "HD1", Contact: "c", Node: "n1", Expires: now}, // expired at now
		"d": {Device: "HD1", Contact: "d", Node: "n2", Expires: now.Add(-time.Minute)},
	}
	contacts := func(bs []hotdesk.Binding) []string {
		var out []string
		for _, b := range bs {
			out = append(out, b.Contact)
		}
		slices.Sort(out)
		return out
	}
	if got := contacts(LiveBindings(m, "HD1", now)); !slices.Equal(got, []string{"a"}) {
		t.Errorf("HD1 live %v, want [a]", got)
	}
	if got := contacts(LiveBindings(m, "", now)); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("all live %v, want [a b]", got)
	}
	if got := contacts(TakeExpired(m, "n2", now)); !slices.Equal(got, []string{"d"}) || len(m) != 3 {
		t.Errorf("n2 expired %v, %d left; want [d], 3", got, len(m))
	}
	if got := contacts(TakeExpired(m, "", now)); !slices.Equal(got, []string{"c"}) || len(m) != 2 {
		t.Errorf("expired %v, %d left; want [c], 2", got, len(m))
	}
}

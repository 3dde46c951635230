package sipnotify

import (
	"maps"
	"slices"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
)

// routes records the dialogs Subs routes.
type routes map[string]signaling.DialogHandler

func (r routes) AddDialog(callID string, h signaling.DialogHandler) { r[callID] = h }
func (r routes) RemoveDialog(callID string)                         { delete(r, callID) }

type testSub struct {
	Dialog
	key string
}

func TestSubs(t *testing.T) {
	var x Subs[*testSub]
	r := routes{}
	h := signaling.DialogHandlerFunc(func(*sip.Request, sip.ServerTransaction) {})
	if s, d := x.Get("c1"); s != nil || d != nil || x.Len() != 0 {
		t.Fatal("zero Subs not empty")
	}
	a := &testSub{Dialog{CallID: "c1"}, "201"}
	b := &testSub{Dialog{CallID: "c2"}, "201"}
	c := &testSub{Dialog{CallID: "c3"}, "202"}
	for _, s := range []*testSub{a, b, c} {
		x.Add(s.key, s, r, h)
	}
	if s, d := x.Get("c2"); s != b || d != &b.Dialog {
		t.Fatalf("Get(c2) = %v, %v", s, d)
	}
	if x.Len() != 3 || x.LenUnder("201") != 2 || len(slices.Collect(x.All())) != 3 ||
		!slices.Equal(slices.Sorted(maps.Keys(r)), []string{"c1", "c2", "c3"}) {
		t.Fatalf("after three adds: %d, %d under 201, routes %v", x.Len(), x.LenUnder("201"), r)
	}

	// A subscription replaced under its Call-ID is not removed for it.
	a2 := &testSub{Dialog{CallID: "c1"}, "202"}
	x.Remove(a.key, a, r)
	x.Add(a2.key, a2, r, h)
	if x.Remove(a.key, a, r) || x.Len() != 3 || r["c1"] == nil {
		t.Fatal("removing the replaced subscription took its replacement's place")
	}
	if got := slices.Collect(x.Under("202")); len(got) != 2 || x.LenUnder("201") != 1 {
		t.Fatalf("under 202: %v; under 201: %d", got, x.LenUnder("201"))
	}
	if !x.Remove(b.key, b, r) || x.Len() != 2 || r["c2"] != nil || x.LenUnder("201") != 0 {
		t.Fatal("Remove(b) left it, its route or its key")
	}
}

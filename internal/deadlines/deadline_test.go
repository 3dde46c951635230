package deadlines

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

type item struct {
	Entry
	name string
}

// popAll drains h up to now, returning the names in the order popped.
func popAll(h *Heap[*item], now time.Time) []string {
	var out []string
	for {
		v, ok := h.PopDue(now)
		if !ok {
			return out
		}
		out = append(out, v.name)
	}
}

// TestHeapOrdersMovesAndRemoves: values come out earliest first and only
// once due; Set on a queued value moves it, Remove takes it out (twice is
// harmless), and a popped value can be queued again.
func TestHeapOrdersMovesAndRemoves(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	var h Heap[*item]
	if _, ok := h.Next(); ok {
		t.Fatal("an empty heap has a next deadline")
	}
	a, b, c, d := &item{name: "a"}, &item{name: "b"}, &item{name: "c"}, &item{name: "d"}
	h.Set(a, t0.Add(3*time.Second))
	h.Set(b, t0.Add(1*time.Second))
	h.Set(c, t0.Add(2*time.Second))
	h.Set(d, t0.Add(4*time.Second))
	h.Set(a, t0.Add(500*time.Millisecond)) // moved to the front
	h.Remove(c)
	h.Remove(c)
	if c.Queued() || !a.Queued() || h.Len() != 3 {
		t.Fatalf("queued: a %v c %v, len %d", a.Queued(), c.Queued(), h.Len())
	}
	if at, ok := h.Next(); !ok || !at.Equal(t0.Add(500*time.Millisecond)) {
		t.Fatalf("next %v %v", at, ok)
	}
	if got := popAll(&h, t0.Add(time.Second)); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("due at +1s: %v", got)
	}
	if a.Queued() || h.Len() != 1 {
		t.Fatalf("after pop: a queued %v, len %d", a.Queued(), h.Len())
	}
	h.Set(a, t0.Add(5*time.Second))
	h.Remove(b) // popped already: no-op
	if got := popAll(&h, t0.Add(time.Hour)); !slices.Equal(got, []string{"d", "a"}) {
		t.Fatalf("due at +1h: %v", got)
	}
}

// TestHeapRandomAgainstSort: after random sets, moves and removes the
// heap pops the survivors in deadline order.
func TestHeapRandomAgainstSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	t0 := time.Unix(0, 0)
	var h Heap[*item]
	all := make([]*item, 200)
	for i := range all {
		all[i] = &item{name: string(rune('A' + i%26))}
	}
	want := map[*item]time.Time{}
	for range 2000 {
		v := all[r.IntN(len(all))]
		if r.IntN(4) == 0 {
			h.Remove(v)
			delete(want, v)
			continue
		}
		at := t0.Add(time.Duration(r.IntN(1000)) * time.Millisecond)
		h.Set(v, at)
		want[v] = at
	}
	if h.Len() != len(want) {
		t.Fatalf("len %d, want %d", h.Len(), len(want))
	}
	var last time.Time
	for n := 0; ; n++ {
		v, ok := h.PopDue(t0.Add(time.Hour))
		if !ok {
			if n != len(want) {
				t.Fatalf("popped %d, want %d", n, len(want))
			}
			return
		}
		if at := want[v]; at.Before(last) {
			t.Fatalf("popped %v after %v", at, last)
		} else {
			last = at
		}
	}
}

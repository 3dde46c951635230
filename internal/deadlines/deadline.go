// Package deadlines is a min-heap of values by deadline: the one timer
// structure of a component that expires many things (desk's auto-logouts,
// presence's subscriptions). Queueing, moving and removing a value are
// O(log n), and only the earliest deadline needs a timer.
//
// A value takes part by embedding Entry; a Heap is not safe for
// concurrent use (its owner's mutex guards it).
package deadlines

import (
	"container/heap"
	"time"
)

// Entry is what a Heap keeps in a value: embed it in the value's struct.
type Entry struct {
	at    time.Time
	index int // position in the heap plus one; 0 when out
}

// Queued reports whether the value is in a heap.
func (e *Entry) Queued() bool { return e.index > 0 }

func (e *Entry) entry() *Entry { return e }

// Value is a pointer to a struct that embeds Entry.
type Value interface{ entry() *Entry }

// Heap orders values by deadline, earliest first. The zero Heap is empty
// and ready.
type Heap[T Value] struct{ items items[T] }

// Len returns the number of queued values.
func (h *Heap[T]) Len() int { return len(h.items) }

// Set queues v for at, or moves it to at when it is queued already.
func (h *Heap[T]) Set(v T, at time.Time) {
	e := v.entry()
	e.at = at
	if e.index > 0 {
		heap.Fix(&h.items, e.index-1)
		return
	}
	heap.Push(&h.items, v)
}

// Remove takes v out of the heap; it is a no-op when v is not queued.
func (h *Heap[T]) Remove(v T) {
	if e := v.entry(); e.index > 0 {
		heap.Remove(&h.items, e.index-1)
	}
}

// Next returns the earliest deadline; ok is false when the heap is empty.
func (h *Heap[T]) Next() (at time.Time, ok bool) {
	if len(h.items) == 0 {
		return time.Time{}, false
	}
	return h.items[0].entry().at, true
}

// PopDue takes out and returns the value with the earliest deadline if
// that deadline is at or before now.
func (h *Heap[T]) PopDue(now time.Time) (v T, ok bool) {
	if len(h.items) == 0 || h.items[0].entry().at.After(now) {
		return v, false
	}
	return heap.Pop(&h.items).(T), true
}

// items is the container/heap.Interface under Heap.
type items[T Value] []T

func (s items[T]) Len() int           { return len(s) }
func (s items[T]) Less(i, j int) bool { return s[i].entry().at.Before(s[j].entry().at) }
func (s items[T]) Swap(i, j int) {
	s[i], s[j] = s[j], s[i]
	s[i].entry().index, s[j].entry().index = i+1, j+1
}

func (s *items[T]) Push(x any) {
	v := x.(T)
	v.entry().index = len(*s) + 1
	*s = append(*s, v)
}

func (s *items[T]) Pop() any {
	old := *s
	v := old[len(old)-1]
	var zero T
	old[len(old)-1] = zero
	*s = old[:len(old)-1]
	v.entry().index = 0
	return v
}

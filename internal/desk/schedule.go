package desk

import (
	"container/heap"
	"sync"
	"time"
)

// entry is one pending auto-logout: the policy deadline of a device's login
// ("p:"+device) or a lost-registration deadline ("r:"+device).
type entry struct {
	key    string
	device string
	at     time.Time
	lost   bool
	index  int
}

func policyKey(device string) string { return "p:" + device }
func lostKey(device string) string   { return "r:" + device }

type entryHeap []*entry

func (h entryHeap) Len() int           { return len(h) }
func (h entryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h entryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *entryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}

// scheduler is the one timer structure for all logins: a min-heap by
// deadline with an index by key, so setting, moving and removing a
// deadline are O(log n) and only the earliest needs a timer.
type scheduler struct {
	mu       sync.Mutex
	h        entryHeap
	byKey    map[string]*entry
	deferred map[string]string // device → policy that fired during a call
	wake     chan struct{}
}

func newScheduler() *scheduler {
	return &scheduler{byKey: map[string]*entry{}, deferred: map[string]string{}, wake: make(chan struct{}, 1)}
}

// set adds or moves the deadline for key.
func (sc *scheduler) set(key, device string, at time.Time, lost bool) {
	sc.mu.Lock()
	if e, ok := sc.byKey[key]; ok {
		e.at = at
		heap.Fix(&sc.h, e.index)
	} else {
		e = &entry{key: key, device: device, at: at, lost: lost}
		heap.Push(&sc.h, e)
		sc.byKey[key] = e
	}
	sc.mu.Unlock()
	sc.poke()
}

// remove drops key's deadline, if any.
func (sc *scheduler) remove(key string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.removeLocked(key)
}

func (sc *scheduler) removeLocked(key string) {
	if e, ok := sc.byKey[key]; ok {
		heap.Remove(&sc.h, e.index)
		delete(sc.byKey, key)
	}
}

// forget drops everything pending for device: its login ended.
func (sc *scheduler) forget(device string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.removeLocked(policyKey(device))
	sc.removeLocked(lostKey(device))
	delete(sc.deferred, device)
}

// due pops every entry whose deadline is at or before now.
func (sc *scheduler) due(now time.Time) []*entry {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	var out []*entry
	for len(sc.h) > 0 && !sc.h[0].at.After(now) {
		e := heap.Pop(&sc.h).(*entry)
		delete(sc.byKey, e.key)
		out = append(out, e)
	}
	return out
}

// next returns the earliest deadline.
func (sc *scheduler) next() (time.Time, bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if len(sc.h) == 0 {
		return time.Time{}, false
	}
	return sc.h[0].at, true
}

// len returns the number of pending deadlines.
func (sc *scheduler) len() int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return len(sc.h)
}

func (sc *scheduler) setDeferred(device, policy string) {
	sc.mu.Lock()
	sc.deferred[device] = policy
	sc.mu.Unlock()
}

func (sc *scheduler) takeDeferred(device string) (string, bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	p, ok := sc.deferred[device]
	delete(sc.deferred, device)
	return p, ok
}

// poke wakes the Run loop without blocking.
func (sc *scheduler) poke() {
	select {
	case sc.wake <- struct{}{}:
	default:
	}
}

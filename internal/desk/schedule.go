package desk

import (
	"sync"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/deadlines"
)

// entry is one pending auto-logout: the policy deadline of a device's login
// ("p:"+device) or a lost-registration deadline ("r:"+device).
type entry struct {
	deadlines.Entry
	key    string
	device string
	lost   bool
}

func policyKey(device string) string { return "p:" + device }
func lostKey(device string) string   { return "r:" + device }

// scheduler is the one timer structure for all logins: a deadline heap
// with an index by key, so setting, moving and removing a deadline are
// O(log n) and only the earliest needs a timer.
type scheduler struct {
	mu       sync.Mutex
	h        deadlines.Heap[*entry]
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
	e, ok := sc.byKey[key]
	if !ok {
		e = &entry{key: key, device: device, lost: lost}
		sc.byKey[key] = e
	}
	sc.h.Set(e, at)
	sc.mu.Unlock()
	sc.poke()
}

// has reports whether key has a deadline.
func (sc *scheduler) has(key string) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	_, ok := sc.byKey[key]
	return ok
}

// remove drops key's deadline, if any.
func (sc *scheduler) remove(key string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.removeLocked(key)
}

func (sc *scheduler) removeLocked(key string) {
	if e, ok := sc.byKey[key]; ok {
		sc.h.Remove(e)
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
	for {
		e, ok := sc.h.PopDue(now)
		if !ok {
			return out
		}
		delete(sc.byKey, e.key)
		out = append(out, e)
	}
}

// next returns the earliest deadline.
func (sc *scheduler) next() (time.Time, bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.h.Next()
}

// len returns the number of pending deadlines.
func (sc *scheduler) len() int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.h.Len()
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

// Package limit is the one brute-force limiter of Hotdesk PBX: it counts
// failures per key (a source address, a device id) and first slows a key
// down, then blocks it for a while. The registrar uses it per source and per
// device, provisioning per source.
package limit

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Limiter counts failures per key. After slowAfter failures within window,
// answers to the key are to be delayed (Slow); after blockAfter failures it
// is blocked for blockFor (Allow is false). Once a block has run out, the
// next failure counts afresh.
type Limiter struct {
	slowAfter, blockAfter int
	window, blockFor      time.Duration
	maxSources            int

	blocked atomic.Int64 // number of sources blocked; 0 makes allow lock-free

	mu  sync.Mutex
	src map[string]*failures
}

type failures struct {
	count        int
	start        time.Time // start of the counting window
	blockedUntil time.Time
}

// Verdict is what a failure did to its key.
type Verdict int

const (
	Counted Verdict = iota // counted, nothing else
	Slowed                 // answers are now delayed
	Blocked                // this failure blocked the key
)

// New returns a limiter that slows a key after slowAfter failures within
// window and blocks it for blockFor after blockAfter.
func New(slowAfter, blockAfter int, window, blockFor time.Duration) *Limiter {
	return &Limiter{slowAfter: slowAfter, blockAfter: blockAfter, window: window,
		blockFor: blockFor, maxSources: 100_000, src: make(map[string]*failures)}
}

// NewBlocking returns a limiter that never slows, only blocks a key for
// blockFor after blockAfter failures within window.
func NewBlocking(blockAfter int, window, blockFor time.Duration) *Limiter {
	return New(math.MaxInt, blockAfter, window, blockFor)
}

// Fail counts one failure of ip.
func (l *Limiter) Fail(ip string, now time.Time) Verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.src[ip]
	if f == nil {
		if len(l.src) >= l.maxSources {
			l.pruneLocked(now)
		}
		f = &failures{start: now}
		l.src[ip] = f
	}
	if !f.blockedUntil.IsZero() && !now.Before(f.blockedUntil) {
		// The block ran out before a sweep forgot it: count afresh, so
		// the next blockAfter failures block again.
		f.count, f.start, f.blockedUntil = 0, now, time.Time{}
		l.blocked.Add(-1)
	}
	if now.Sub(f.start) > l.window && f.blockedUntil.IsZero() {
		f.count, f.start = 0, now
	}
	f.count++
	switch {
	case f.count >= l.blockAfter && f.blockedUntil.IsZero():
		f.blockedUntil = now.Add(l.blockFor)
		l.blocked.Add(1)
		return Blocked
	case f.count >= l.slowAfter:
		return Slowed
	}
	return Counted
}

// Slow reports whether answers to ip are to be delayed.
func (l *Limiter) Slow(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.src[ip]
	return f != nil && f.count >= l.slowAfter && now.Sub(f.start) <= l.window
}

// Allow reports whether ip is not blocked. It is lock-free while nothing
// is blocked.
func (l *Limiter) Allow(ip string, now time.Time) bool {
	return l.BlockedFor(ip, now) == 0
}

// BlockedFor returns how long ip stays blocked (0: not blocked).
func (l *Limiter) BlockedFor(ip string, now time.Time) time.Duration {
	if l.blocked.Load() == 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.src[ip]; f != nil && !f.blockedUntil.IsZero() && now.Before(f.blockedUntil) {
		return f.blockedUntil.Sub(now)
	}
	return 0
}

// AnyBlocked reports whether some key may be blocked (cheap; for a read
// filter that must cost nothing while nobody is blocked).
func (l *Limiter) AnyBlocked() bool { return l.blocked.Load() != 0 }

// Sweep forgets keys whose window and block have passed.
func (l *Limiter) Sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pruneLocked(now)
}

func (l *Limiter) pruneLocked(now time.Time) {
	for ip, f := range l.src {
		if !f.blockedUntil.IsZero() {
			if now.Before(f.blockedUntil) {
				continue
			}
			l.blocked.Add(-1)
		} else if now.Sub(f.start) <= l.window {
			continue
		}
		delete(l.src, ip)
	}
}

// Failures returns how many failures of key are counted now (for tests and
// diagnostics).
func (l *Limiter) Failures(key string, now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.src[key]
	if f == nil || f.blockedUntil.IsZero() && now.Sub(f.start) > l.window {
		return 0
	}
	return f.count
}

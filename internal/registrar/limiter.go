package registrar

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// limiter counts failed digest authentications per source IP. After
// slowAfter failures within window, responses to the source are delayed;
// after blockAfter failures it is blocked for blockFor.
type limiter struct {
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

// verdict is what a failure did to its source.
type verdict int

const (
	verdictCounted verdict = iota // counted, nothing else
	verdictSlow                   // responses are now delayed
	verdictBlocked                // this failure blocked the source
)

func newLimiter(slowAfter, blockAfter int, window, blockFor time.Duration) *limiter {
	return &limiter{slowAfter: slowAfter, blockAfter: blockAfter, window: window,
		blockFor: blockFor, maxSources: 100_000, src: make(map[string]*failures)}
}

// hostOf strips the port from an ip:port source.
func hostOf(src string) string {
	if h, _, err := net.SplitHostPort(src); err == nil {
		return h
	}
	return src
}

// fail counts one failure from ip.
func (l *limiter) fail(ip string, now time.Time) verdict {
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
		return verdictBlocked
	case f.count >= l.slowAfter:
		return verdictSlow
	}
	return verdictCounted
}

// slow reports whether responses to ip are to be delayed.
func (l *limiter) slow(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.src[ip]
	return f != nil && f.count >= l.slowAfter && now.Sub(f.start) <= l.window
}

// allow reports whether packets from ip may be processed.
func (l *limiter) allow(ip string, now time.Time) bool {
	if l.blocked.Load() == 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.src[ip]
	return f == nil || f.blockedUntil.IsZero() || !now.Before(f.blockedUntil)
}

// sweep forgets sources whose window and block have passed.
func (l *limiter) sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pruneLocked(now)
}

func (l *limiter) pruneLocked(now time.Time) {
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

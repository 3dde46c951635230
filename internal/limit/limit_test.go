package limit

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := New(3, 5, time.Minute, 10*time.Minute)
	t0 := time.Unix(1_700_000_000, 0)
	ip := "192.0.2.1"
	want := []Verdict{Counted, Counted, Slowed, Slowed, Blocked, Slowed}
	for i, w := range want {
		if got := l.Fail(ip, t0.Add(time.Duration(i)*time.Second)); got != w {
			t.Fatalf("failure %d: verdict %d, want %d", i+1, got, w)
		}
	}
	if !l.Slow(ip, t0.Add(10*time.Second)) {
		t.Error("source not slowed")
	}
	if l.Allow(ip, t0.Add(9*time.Minute)) {
		t.Error("blocked source allowed")
	}
	if !l.Allow("192.0.2.2", t0) {
		t.Error("other source not allowed")
	}
	if !l.Allow(ip, t0.Add(11*time.Minute)) {
		t.Error("source still blocked after block time")
	}
	l.Sweep(t0.Add(11 * time.Minute))
	if l.blocked.Load() != 0 || len(l.src) != 0 {
		t.Errorf("after sweep: blocked=%d sources=%d", l.blocked.Load(), len(l.src))
	}
	// Failures spread wider than the window never add up.
	l2 := New(3, 5, time.Minute, 10*time.Minute)
	for i := 0; i < 10; i++ {
		if v := l2.Fail(ip, t0.Add(time.Duration(i)*61*time.Second)); v != Counted {
			t.Fatalf("spread failure %d: verdict %d", i, v)
		}
	}
}

func TestBlockingLimiterNeverSlowsAndCounts(t *testing.T) {
	l := NewBlocking(3, time.Minute, 10*time.Minute)
	t0 := time.Unix(1_700_000_000, 0)
	for i, w := range []Verdict{Counted, Counted, Blocked} {
		if got := l.Fail("d1", t0); got != w {
			t.Fatalf("failure %d: %d, want %d", i+1, got, w)
		}
	}
	if l.Slow("d1", t0) {
		t.Error("a blocking limiter slowed a key")
	}
	if got := l.BlockedFor("d1", t0.Add(time.Minute)); got != 9*time.Minute {
		t.Errorf("blocked for %v, want 9m", got)
	}
	if n := l.Failures("d2", t0); n != 0 {
		t.Errorf("%d failures of an unseen key", n)
	}
	if n := l.Failures("d1", t0); n != 3 {
		t.Errorf("%d failures, want 3", n)
	}
}

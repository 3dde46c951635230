package digest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The nonce-counts live in a fixed ring: however many nonces are issued
// and answered, the memory stays the same, and a nonce that lost its slot
// to a newer one is refused rather than its replay accepted.
func TestNonceRingBounded(t *testing.T) {
	const ring = 8
	n, err := newNonces(time.Minute, ring)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_700_000_000, 0)
	const bind = "TCP 127.0.0.1"
	serial := func(nonce string) uint64 {
		t.Helper()
		s, err := n.Check(nonce, t0, bind)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	old := serial(n.Issue(t0, bind))
	if err := n.Use(old, 1); err != nil {
		t.Fatal(err)
	}
	// A thousand nonces issued and answered: the ring does not grow.
	for range 1000 {
		s := serial(n.Issue(t0, bind))
		if err := n.Use(s, 1); err != nil {
			t.Fatalf("fresh nonce %d: %v", s, err)
		}
		if err := n.Use(s, 1); !errors.Is(err, ErrReplay) {
			t.Fatalf("fresh nonce %d replayed: %v, want replay", s, err)
		}
	}
	if n.ring != ring || len(n.chunks) != 1 {
		t.Fatalf("ring has %d slots in %d chunks, want %d in 1", n.ring, len(n.chunks), ring)
	}
	// The first nonce's slot went to newer nonces: its count is unknown,
	// so even a higher one is refused (the client is challenged again).
	if err := n.Use(old, 2); !errors.Is(err, ErrReplay) {
		t.Fatalf("nonce out of the ring: %v, want refused", err)
	}
	// The last ring-length nonces still own their slots.
	last := n.serial.Load()
	if err := n.Use(last-ring+1, 2); err != nil {
		t.Fatalf("oldest nonce in the ring: %v", err)
	}
	if err := n.Use(last-ring, 2); !errors.Is(err, ErrReplay) {
		t.Fatalf("newest nonce out of the ring: %v, want refused", err)
	}
	// Serials never issued are refused.
	for _, s := range []uint64{0, last + 1} {
		if err := n.Use(s, 1); !errors.Is(err, ErrReplay) {
			t.Fatalf("serial %d never issued: %v, want refused", s, err)
		}
	}
	if _, err := newNonces(time.Minute, 6); err == nil {
		t.Fatal("a ring of 6 slots accepted, want a power of two")
	}
}

// The ring's memory is taken as serials advance: a store that issued a
// few nonces holds one chunk of it.
func TestNonceRingAllocatedInUse(t *testing.T) {
	n, err := NewNonces(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	used := func() int {
		k := 0
		for i := range n.chunks {
			if n.chunks[i].Load() != nil {
				k++
			}
		}
		return k
	}
	if got := used(); got != 0 {
		t.Fatalf("%d chunks before any nonce, want 0", got)
	}
	for range chunkSlots + 1 {
		n.Issue(t0, "UDP 127.0.0.1")
	}
	if got := used(); got != 2 {
		t.Fatalf("%d chunks after %d nonces, want 2", got, chunkSlots+1)
	}
}

// Concurrent answers with the same nonce-count (a replay racing the
// original) pass once.
func TestNonceRingConcurrentUse(t *testing.T) {
	n, err := NewNonces(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	const bind = "UDP 127.0.0.1"
	for range 50 {
		s, err := n.Check(n.Issue(t0, bind), t0, bind)
		if err != nil {
			t.Fatal(err)
		}
		var passed atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if n.Use(s, 1) == nil {
					passed.Add(1)
				}
			})
		}
		wg.Wait()
		if passed.Load() != 1 {
			t.Fatalf("nonce-count 1 passed %d times, want once", passed.Load())
		}
	}
}

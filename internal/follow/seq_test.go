package follow

import (
	"testing"
	"time"
)

func TestSeqsLateNumberIsNotLost(t *testing.T) {
	var s Seqs
	t0 := time.Unix(1000, 0)
	for _, n := range []int64{5, 6, 8} { // 7 is delivered late
		if s.See(n, t0) {
			t.Fatalf("See(%d) lost", n)
		}
	}
	if s.See(7, t0.Add(100*time.Millisecond)) {
		t.Fatal("See(7) lost")
	}
	if s.Overdue(t0.Add(2 * LostAfter)) {
		t.Fatal("overdue after the late number arrived")
	}
}

func TestSeqsSkippedNumberIsLostWhenOverdue(t *testing.T) {
	var s Seqs
	t0 := time.Unix(1000, 0)
	s.See(1, t0)
	s.See(3, t0)
	if s.Overdue(t0.Add(LostAfter / 2)) {
		t.Fatal("overdue before LostAfter")
	}
	if !s.Overdue(t0.Add(LostAfter)) {
		t.Fatal("2 never arrived: want overdue")
	}
	if s.Overdue(t0.Add(3 * LostAfter)) {
		t.Fatal("overdue twice for the same loss")
	}
}

func TestSeqsTooManySkippedIsLost(t *testing.T) {
	var s Seqs
	t0 := time.Unix(1000, 0)
	s.See(1, t0)
	if !s.See(2+MaxMissing+1, t0) {
		t.Fatal("a jump past MaxMissing: want lost")
	}
	if s.See(2+MaxMissing+2, t0) {
		t.Fatal("the next number after the jump: not lost")
	}
}

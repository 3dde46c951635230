package follow

import "time"

// Seqs tells a follower of the event bus, from the sequence numbers of the
// events it receives, when it may have lost some (its buffer was full), so
// that it drops what it keeps from events. Every event has the next
// number, but publishers on several goroutines may deliver them out of
// order: a number skipped counts as lost only when it has not arrived
// within LostAfter (Overdue), or when too many are outstanding. The zero
// value is ready; it is not safe for concurrent use.
type Seqs struct {
	last    int64
	missing map[int64]time.Time // numbers skipped, with when
}

// LostAfter is how long a skipped number may take to arrive; MaxMissing
// bounds the numbers waited for.
const (
	LostAfter  = time.Second
	MaxMissing = 4096
)

// See records that the event numbered seq arrived at now, and reports
// whether events must be taken as lost (too many skipped at once).
func (s *Seqs) See(seq int64, now time.Time) (lost bool) {
	switch {
	case s.last == 0 || seq == s.last+1:
	case seq <= s.last:
		delete(s.missing, seq) // arrived late
	case seq-s.last > MaxMissing || len(s.missing) > MaxMissing:
		clear(s.missing)
		lost = true
	default:
		if s.missing == nil {
			s.missing = map[int64]time.Time{}
		}
		for n := s.last + 1; n < seq; n++ {
			s.missing[n] = now
		}
	}
	s.last = max(s.last, seq)
	return lost
}

// Overdue reports whether a skipped number has waited LostAfter or more
// at now: the events are then taken as lost, and forgotten.
func (s *Seqs) Overdue(now time.Time) bool {
	for _, at := range s.missing {
		if now.Sub(at) >= LostAfter {
			clear(s.missing)
			return true
		}
	}
	return false
}

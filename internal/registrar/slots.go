package registrar

import (
	"unsafe"

	"github.com/hotdesk-pbx/hotdesk"
)

// slotChunk is how many one-binding slots a chunk holds (26 kB).
const slotChunk = 128

// slots hands out the table's one-binding slices (nearly every device
// has one binding) from chunks of slotChunk, and takes back those the
// table drops for reuse. Allocated one by one, a phone's binding landed
// in a span among the garbage of the REGISTER that created it; at
// GOGC=400 a forced GC left those spans partly filled, and the table's
// 10,000 bindings pinned several times their size (issue 18). A slot is
// the table's alone (callers get copies), so it may be reused as soon
// as the table lets it go. Guarded by Registrar.mu.
type slots struct {
	free  []*hotdesk.Binding
	chunk []hotdesk.Binding
}

// get returns a zero slot: a slice of length and capacity 1.
func (s *slots) get() []hotdesk.Binding {
	if n := len(s.free); n > 0 {
		p := s.free[n-1]
		s.free = s.free[:n-1]
		return unsafe.Slice(p, 1)
	}
	if len(s.chunk) == 0 {
		s.chunk = make([]hotdesk.Binding, slotChunk)
	}
	b := s.chunk[:1:1]
	s.chunk = s.chunk[1:]
	return b
}

// put takes back a slice the table dropped when it is a slot (capacity
// 1; longer slices are left to the GC).
func (s *slots) put(b []hotdesk.Binding) {
	if cap(b) != 1 {
		return
	}
	b = b[:1]
	b[0] = hotdesk.Binding{} // no strings kept alive by a free slot
	s.free = append(s.free, &b[0])
}

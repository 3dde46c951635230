package media

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// ErrNoPorts is returned when every RTP port of the pool is in use.
var ErrNoPorts = errors.New("media: no free RTP port")

// PortPool hands out even UDP ports for RTP from a fixed range (the odd
// port above each is left for RTCP, RFC 3550 section 11). Ports are handed
// out round-robin so a port just released is not reused at once, which
// keeps late packets of one call out of the next. It is safe for
// concurrent use.
//
// A pool made with NewPortPool(0, 0) lets the operating system choose each
// port; tests use it to avoid fixed ranges.
type PortPool struct {
	mu    sync.Mutex
	any   bool // NewPortPool(0, 0): the operating system picks
	low   int
	inUse map[int]bool
	size  int // number of even ports in the range
	next  int // index of the next port to try
}

// NewPortPool returns a pool of the even ports in [low, high]. An odd low
// is rounded up. A range without even ports makes every Acquire fail.
func NewPortPool(low, high int) *PortPool {
	if low%2 == 1 {
		low++
	}
	size := 0
	if high >= low {
		size = (high-low)/2 + 1
	}
	return &PortPool{any: low == 0 && high == 0, low: low, size: size, inUse: make(map[int]bool)}
}

// ParseRange parses a port range such as "10000-20000" (the --rtp-ports
// flag) into its bounds.
func ParseRange(s string) (low, high int, err error) {
	lo, hi, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return 0, 0, fmt.Errorf("media: port range %q: want LOW-HIGH", s)
	}
	if low, err = strconv.Atoi(lo); err != nil {
		return 0, 0, fmt.Errorf("media: port range %q: %w", s, err)
	}
	if high, err = strconv.Atoi(hi); err != nil {
		return 0, 0, fmt.Errorf("media: port range %q: %w", s, err)
	}
	if low < 1024 || high > 65534 || high < low+1 {
		return 0, 0, fmt.Errorf("media: port range %q: want 1024 <= LOW < HIGH <= 65534", s)
	}
	return low, high, nil
}

// Acquire reserves the next free port. It returns ErrNoPorts when all are
// taken. For an ephemeral pool it returns 0 (bind to any port).
func (p *PortPool) Acquire() (int, error) {
	if p.any {
		return 0, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for range p.size {
		port := p.low + 2*p.next
		p.next = (p.next + 1) % p.size
		if !p.inUse[port] {
			p.inUse[port] = true
			return port, nil
		}
	}
	return 0, ErrNoPorts
}

// Release returns a port to the pool. Releasing a port that is not in use
// does nothing.
func (p *PortPool) Release(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.inUse, port)
}

// Size is the number of ports the pool manages (1 for NewPortPool(0, 0)).
func (p *PortPool) Size() int { return p.size }

// InUse is the number of ports currently handed out.
func (p *PortPool) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inUse)
}

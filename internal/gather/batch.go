// Package gather serves requests on one long-lived goroutine, those that
// queued up while it was busy together.
package gather

// Serve takes requests from reqs until quit is closed: it waits for one,
// takes whatever else is queued already (up to max in all) and hands them
// to do in arrival order. The slice is reused: do must not keep it.
func Serve[T any](quit <-chan struct{}, reqs <-chan T, max int, do func([]T)) {
	b := make([]T, 0, max)
	for {
		select {
		case <-quit:
			return
		case r := <-reqs:
			b = append(b[:0], r)
		}
	more:
		for len(b) < max {
			select {
			case r := <-reqs:
				b = append(b, r)
			default:
				break more
			}
		}
		do(b)
		clear(b)
	}
}

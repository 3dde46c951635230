// Package follow is the loop every follower of a channel writes (the
// event bus's subscribers: metrics, emergency, mail, checksync, the
// cluster bridge): take each value until the context ends or the channel
// is closed, and take (or throw away) what is already queued in one go.
package follow

import "context"

// Each calls on with each value received from ch, in order, until ctx is
// done or ch is closed.
func Each[T any](ctx context.Context, ch <-chan T, on func(T)) {
	for {
		select {
		case <-ctx.Done():
			return
		case v, ok := <-ch:
			if !ok {
				return
			}
			on(v)
		}
	}
}

// Queued calls on with the values already waiting in ch, at most max of
// them (max < 0: as many as there are), without waiting for more. It
// stops at a closed channel; the caller's next receive sees it closed.
func Queued[T any](ch <-chan T, max int, on func(T)) {
	for n := 0; max < 0 || n < max; n++ {
		select {
		case v, ok := <-ch:
			if !ok {
				return
			}
			on(v)
		default:
			return
		}
	}
}

// Discard throws away the values already waiting in ch, without waiting
// for more.
func Discard[T any](ch <-chan T) { Queued(ch, -1, func(T) {}) }

package siptest

import "context"

// Dialing is a call being dialled in the background (DialAsync), for a
// test that answers, rejects or cancels it at the other end meanwhile.
type Dialing struct {
	done chan struct{}
	call *Call
	err  error
}

// DialAsync is DialContext in a goroutine of its own: cancelling ctx
// before the answer sends CANCEL. Result waits for the outcome.
func (p *Phone) DialAsync(ctx context.Context, number string, o DialOptions) *Dialing {
	d := &Dialing{done: make(chan struct{})}
	go func() {
		defer close(d.done)
		d.call, d.err = p.DialContext(ctx, number, o)
	}()
	return d
}

// Result waits for the dial to end and returns what DialContext returned.
func (d *Dialing) Result() (*Call, error) {
	<-d.done
	return d.call, d.err
}

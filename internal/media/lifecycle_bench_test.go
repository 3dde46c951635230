package media

import (
	"context"
	"testing"
)

// BenchmarkSessionLifecycle is the media side of one feature-code login
// call: a session bound, the phone's offer answered, the stream started
// with the confirmation's segments queued, and the call hung up.
func BenchmarkSessionLifecycle(b *testing.B) {
	p := newPhone(b)
	offer := p.offer("0 8 101")
	pool := NewPortPool(0, 0)
	segs := [][]int16{tone(9000), tone(2500), tone(2300), tone(2700), tone(2500)}
	b.ReportAllocs()
	for b.Loop() {
		s, err := NewSessionWith(SessionOptions{Pool: pool, LocalIP: "127.0.0.1", FlowIP: "127.0.0.1"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Answer(offer); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.PlaySegments(ctx, 1200, segs...) }()
		cancel() // the BYE
		<-done
		s.Close()
	}
}

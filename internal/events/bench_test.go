package events

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkPublishIdleSubscribers publishes call events, a call's six at
// a time 300 times a second, to ten subscriber goroutines that act on
// none of them (as most of hotdesk serve's did: issue 18), subscribed
// with Subscribe (each event wakes each) or SubscribeKinds (none is
// handed to them), and reports the process's CPU time per event
// (getrusage: the publisher's sends and the subscribers' wake-ups), which
// the wall-clock ns/op (mostly the pacing) does not show.
//
//	go test -run X -bench PublishIdleSubscribers -benchtime 3000x ./internal/events
func BenchmarkPublishIdleSubscribers(b *testing.B) {
	for _, filtered := range []bool{false, true} {
		b.Run(fmt.Sprintf("kinds=%v", filtered), func(b *testing.B) {
			bus := New()
			var wg sync.WaitGroup
			var cancels []func()
			for range 10 {
				var ch <-chan Event
				var cancel func()
				if filtered {
					ch, cancel = bus.SubscribeKinds(1024, func(kind string) bool { return kind == "login" })
				} else {
					ch, cancel = bus.Subscribe(1024)
				}
				cancels = append(cancels, cancel)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for e := range ch {
						_ = e
					}
				}()
			}
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := range b.N {
				bus.Publish(Event{Kind: KindCallTrying, Extension: "3001", CallID: "c"})
				if i%6 == 5 {
					time.Sleep(time.Second / 300)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/event")
			for _, c := range cancels {
				c()
			}
			wg.Wait()
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

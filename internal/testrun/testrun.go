// Package testrun runs a component in a test the way the binary runs it:
// Run in a goroutine of its own until the test ends, then its context
// cancelled and Run waited for, so that no test leaves a goroutine behind
// or misses the error Run returned. It also holds the waits tests share
// instead of fixed sleeps: for a server to be healthy, for a condition,
// for a value on a channel, each bounded generously.
package testrun

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"
)

// StopWithin is how long a stop waits for Run to return after cancelling
// it: generous, for a loaded CI machine.
const StopWithin = 15 * time.Second

// Go calls run with a context that stop cancels, in a goroutine. stop
// cancels it and waits for run to return, and fails the test (Errorf) if
// run returned an error or did not return within StopWithin. stop does
// its work once, and at the end of the test if it was not called before.
func Go(tb testing.TB, run func(context.Context) error) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	stop = sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("run: %v", err)
			}
		case <-time.After(StopWithin):
			tb.Errorf("run did not return within %v of cancel", StopWithin)
		}
	})
	tb.Cleanup(stop)
	return stop
}

// Background runs each of runs in a goroutine of its own with one context
// until the test ends, then cancels it and waits for all of them: the
// loops of a harness of several components, stopped together. Unlike Go
// it does not judge what they return.
func Background(tb testing.TB, runs ...func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, run := range runs {
		wg.Go(func() { _ = run(ctx) })
	}
	tb.Cleanup(func() { cancel(); wg.Wait() })
}

// WaitHealthy polls url with c (nil: http.DefaultClient) until it answers
// 200, and fails the test if it has not within d.
func WaitHealthy(tb testing.TB, c *http.Client, url string, d time.Duration) {
	tb.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	deadline := time.Now().Add(d)
	for {
		res, err := c.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
			err = errors.New(res.Status)
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s did not answer 200 within %v: %v", url, d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Eventually polls cond until it holds, and fails the test if it does
// not within d; it returns how long it took. Tests wait for a condition
// this way, never for a fixed time. It polls 200 times in d, at most
// every 5 ms and at least every 50 ms.
func Eventually(tb testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	tb.Helper()
	every := min(max(d/200, 5*time.Millisecond), 50*time.Millisecond)
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			tb.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(every)
	}
	return time.Since(start)
}

// Receive returns the next value from ch, and fails the test (naming
// what it waited for) if none comes within d.
func Receive[T any](tb testing.TB, ch <-chan T, d time.Duration, what string) T {
	tb.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		tb.Fatalf("no %s within %v", what, d)
		var zero T
		return zero
	}
}

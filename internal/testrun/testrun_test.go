package testrun

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a testing.TB that records Errorf and Fatalf instead of
// failing (Fatalf ends the goroutine, as in a test).
type recorder struct {
	testing.TB
	errors  int
	fatals  int
	cleanup []func()
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.errors++ }
func (r *recorder) Fatalf(string, ...any) { r.fatals++; runtime.Goexit() }
func (r *recorder) Cleanup(f func())      { r.cleanup = append(r.cleanup, f) }
func (r *recorder) runCleanups() {
	for _, f := range r.cleanup {
		f()
	}
}

func TestStopCancelsAndWaits(t *testing.T) {
	r := &recorder{TB: t}
	returned := false
	stop := Go(r, func(ctx context.Context) error {
		<-ctx.Done()
		returned = true
		return nil
	})
	stop()
	if !returned || r.errors != 0 {
		t.Fatalf("returned %v, %d errors", returned, r.errors)
	}
	r.runCleanups() // a second stop does nothing
	if r.errors != 0 {
		t.Fatalf("%d errors after the cleanup", r.errors)
	}
}

func TestErrorFailsTheTest(t *testing.T) {
	r := &recorder{TB: t}
	Go(r, func(ctx context.Context) error {
		<-ctx.Done()
		return errors.New("broken")
	})
	r.runCleanups() // the end of the test stops it
	if r.errors != 1 {
		t.Fatalf("%d errors, want 1 for the error run returned", r.errors)
	}
}

// TestBackgroundStopsAllTogether: every run gets the one context, runs
// until the test ends, and the cleanup returns only once all returned.
func TestBackgroundStopsAllTogether(t *testing.T) {
	r := &recorder{TB: t}
	started := make(chan struct{}, 3)
	var returned atomic.Int32
	run := func(ctx context.Context) error {
		started <- struct{}{}
		<-ctx.Done()
		time.Sleep(10 * time.Millisecond) // a slow stop is waited for
		returned.Add(1)
		return errors.New("not judged")
	}
	Background(r, run, run, run)
	for range 3 {
		Receive(t, started, 5*time.Second, "a run starting")
	}
	if n := returned.Load(); n != 0 {
		t.Fatalf("%d runs returned before the end of the test", n)
	}
	r.runCleanups()
	if n := returned.Load(); n != 3 || r.errors != 0 {
		t.Fatalf("%d runs returned at the end, %d errors; want 3 and none", n, r.errors)
	}
}

func TestEventually(t *testing.T) {
	n := 0
	if took := Eventually(t, 10*time.Second, "the third poll", func() bool { n++; return n == 3 }); took <= 0 || n != 3 {
		t.Fatalf("took %v, %d polls", took, n)
	}
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() { // Fatalf ends the goroutine, as it ends a test
		defer close(done)
		Eventually(r, 20*time.Millisecond, "never", func() bool { return false })
	}()
	<-done
	if r.fatals != 1 {
		t.Fatalf("%d fatals for a condition that never holds, want 1", r.fatals)
	}
}

func TestWaitHealthy(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls++; calls < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	WaitHealthy(t, srv.Client(), srv.URL, 10*time.Second)
	if calls != 3 {
		t.Fatalf("%d requests, want 3 (two 503, one 200)", calls)
	}
}

func TestReceive(t *testing.T) {
	ch := make(chan string, 1)
	ch <- "a"
	if got := Receive(t, ch, 10*time.Second, "a value"); got != "a" {
		t.Fatalf("got %q", got)
	}
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Receive(r, ch, 20*time.Millisecond, "a second value")
	}()
	<-done
	if r.fatals != 1 {
		t.Fatalf("%d fatals for a channel that stays empty, want 1", r.fatals)
	}
}

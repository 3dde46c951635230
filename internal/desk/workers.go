package desk

import "time"

// workerIdle is how long a worker goroutine waits for another call before
// it ends: long enough to serve a steady load of logins, short enough
// that a burst leaves no goroutines behind.
const workerIdle = 10 * time.Second

// workers runs calls on goroutines kept for reuse. A login's store calls
// (SQLite in modernc's deep Go frames, the PIN check) ran on sipgo's
// goroutine of the INVITE, new for each message, whose stack grew 8 → 16
// → 32 → 64 kB by copying on every login (runtime.copystack, 2% of the
// CPU of a login at 1,000/s, issue 18). A worker's stack has grown
// already; the Go GC at most halves an idle one. There are as many
// workers as calls run at once: a call finding none idle starts one.
type workers struct {
	jobs chan func() // unbuffered: a send reaches only an idle worker
}

func newWorkers() *workers { return &workers{jobs: make(chan func())} }

// do runs fn on a worker and returns when it has; a panic in fn is
// raised again in the caller, as if fn had run there.
func (w *workers) do(fn func()) {
	done := make(chan struct{})
	var p any
	job := func() {
		defer func() {
			p = recover()
			close(done)
		}()
		fn()
	}
	select {
	case w.jobs <- job:
	default:
		go w.work(job)
	}
	<-done
	if p != nil {
		panic(p)
	}
}

// work runs job, then the jobs sent to it, until none came for workerIdle.
func (w *workers) work(job func()) {
	t := time.NewTimer(workerIdle)
	defer t.Stop()
	for {
		job()
		t.Reset(workerIdle)
		select {
		case job = <-w.jobs:
		case <-t.C:
			return
		}
	}
}

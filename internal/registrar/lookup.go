package registrar

import (
	"context"
	"sync"

	"github.com/hotdesk-pbx/hotdesk"
)

// lookups runs the store queries for credentials not cached (a device's
// first REGISTER, or after its entry was dropped) on a few long-lived
// goroutines while Run serves them. A first REGISTER is handled in a
// goroutine of its own (it waits for the group commit); when that
// goroutine ran the query itself, the SQLite driver's deep stack grew
// each new goroutine's stack (runtime.copystack ~30% of the CPU of 10,000
// first registrations a second over 1,000 TCP connections, issue 18) and
// thousands of queries at once contended for the pool of read connections
// (database/sql's connStmt ~13%). The workers' stacks have grown once;
// at most lookupWorkers queries run at a time.
type lookups struct {
	// prefetch, when set (before serve), is given the users of jobs
	// queued together (see prefetchBatch) before they run.
	prefetch func(ctx context.Context, users []string)

	mu   sync.RWMutex
	q    chan *lookup  // nil while not serving
	stop chan struct{} // closed when serving ends
}

type lookup struct {
	ctx  context.Context
	id   string
	find func(context.Context, string) (*hotdesk.Device, error) // the caller's; nil: serve's
	dev  *hotdesk.Device
	err  error
	done chan struct{}
	// run, when set, is a job (submit): the worker runs it, with no
	// lookup of its own. user is the device it will look up, if any.
	run  func(ctx context.Context)
	user string
}

// prefetchBatch is how many queued jobs a worker takes at once to look
// their users up together (lookups.prefetch): in a burst of first
// registrations one query per device, each with database/sql's and the
// driver's cost, was a tenth of the CPU (issue 18).
const prefetchBatch = 32

// workerKey marks a context as a worker's: a lookup made by a job
// running on a worker queries at once (queueing it would wait on the
// workers themselves).
type workerKey struct{}

// onWorker reports whether ctx is a job's, running on a worker.
func onWorker(ctx context.Context) bool { return ctx.Value(workerKey{}) != nil }

// submit queues run to be run by a worker, with a context for which
// find queries at once; it reports false (run not queued) while not
// serving or with the queue full, for the caller to run it otherwise.
// A device's first REGISTER is such a job (handleRegisterRead): run on a
// worker, its lookup, digest check and table update need no goroutine
// of their own, nor the growth of a new goroutine's stack (issue 18).
func (p *lookups) submit(user string, run func(ctx context.Context)) bool {
	l := &lookup{run: run, user: user}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.q == nil {
		return false
	}
	select {
	case p.q <- l:
		return true
	default:
		return false
	}
}

// lookupQueue is how many lookups wait for a worker at most; beyond it
// a caller waits to queue (its REGISTER waits in a goroutine of its own:
// querying itself, as at first, made thousands of queries at once and
// left the workers waiting for read connections). It holds a second's
// first registrations at 10,000/s: with 4,096, such a burst over 1,000
// TCP connections overflowed it within half a second, and the rest of
// the burst went to goroutines of their own, whose stacks grew in the
// lookup (runtime.copystack 8% of the burst's CPU profile, issue 18).
// 128 kB of channel buffer while Run serves.
const lookupQueue = 16384

// find returns find(ctx, id), run by a worker while serving.
func (p *lookups) find(ctx context.Context, id string, find func(context.Context, string) (*hotdesk.Device, error)) (*hotdesk.Device, error) {
	if onWorker(ctx) {
		return find(ctx, id)
	}
	l := &lookup{ctx: ctx, id: id, find: find, done: make(chan struct{})}
	sent := false
	p.mu.RLock()
	if p.q != nil {
		select {
		case p.q <- l:
			sent = true
		case <-p.stop:
		}
	}
	p.mu.RUnlock()
	if !sent {
		return find(ctx, id)
	}
	<-l.done // every queued lookup is answered, also when serving ends
	return l.dev, l.err
}

// lookupWorkers is how many lookups run at once: enough that a few slow
// queries (a device row locked, a store stalling for some ids) leave
// workers for the others, as when every REGISTER queried itself; few
// enough that 10,000 first registrations a second do not contend for
// the store's read connections.
const lookupWorkers = 16

// serve answers lookups (with the caller's find; find for those
// without) on workers goroutines (lookupWorkers
// when workers ≤ 0) until ctx is done; then it answers what was queued
// and returns.
func (p *lookups) serve(ctx context.Context, workers int, find func(context.Context, string) (*hotdesk.Device, error)) {
	if workers <= 0 {
		workers = lookupWorkers
	}
	q, stop := make(chan *lookup, lookupQueue), make(chan struct{})
	p.mu.Lock()
	p.q, p.stop = q, stop
	p.mu.Unlock()
	wctx := context.WithValue(context.Background(), workerKey{}, true)
	answer := func(l *lookup) {
		if l.run != nil {
			l.run(wctx)
			return
		}
		f := find
		if l.find != nil {
			f = l.find
		}
		l.dev, l.err = f(l.ctx, l.id)
		close(l.done)
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var batch []*lookup
			for {
				select {
				case l := <-q:
					if p.prefetch == nil || l.user == "" {
						answer(l)
						continue
					}
					batch = p.take(q, append(batch[:0], l))
					p.prefetchUsers(wctx, batch)
					for i, l := range batch {
						answer(l)
						batch[i] = nil
					}
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop) // callers waiting to queue look up themselves
	p.mu.Lock() // no lookup is queued after this
	p.q = nil
	p.mu.Unlock()
	for {
		select {
		case l := <-q:
			answer(l)
		default:
			return
		}
	}
}

// take adds to batch what q holds at once, up to prefetchBatch in all.
func (p *lookups) take(q chan *lookup, batch []*lookup) []*lookup {
	for len(batch) < prefetchBatch {
		select {
		case l := <-q:
			batch = append(batch, l)
		default:
			return batch
		}
	}
	return batch
}

// prefetchUsers hands the users of batch's jobs to prefetch, when there
// are several: a read of one costs the same either way.
func (p *lookups) prefetchUsers(ctx context.Context, batch []*lookup) {
	users := make([]string, 0, len(batch))
	for _, l := range batch {
		if l.run != nil && l.user != "" {
			users = append(users, l.user)
		}
	}
	if len(users) > 1 { // one is looked up by its job alone
		p.prefetch(ctx, users)
	}
}

package b2bua

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// CallWriter is implemented by stores that write several call records in
// one transaction (internal/store/sqlstore's WriteCalls): a record with ID
// 0 is inserted and gets its ID, the others are updated; all or nothing.
type CallWriter interface {
	WriteCalls(ctx context.Context, recs []*hotdesk.CallRecord) error
}

// writeTimeout bounds one batch of record writes.
const writeTimeout = 10 * time.Second

// recordPace is the least time between two batches of record writes: what
// queues meanwhile is written together, so under load a batch holds many
// calls' records (fewer commits) and a call answered within it has its
// start and answer in one INSERT (issue 18). A record put when nothing
// was written for as long is written at once.
const recordPace = 100 * time.Millisecond

// recSlot is one call record's row: its ID once written. Only a flush
// (under recorder.wmu) reads or sets it.
type recSlot struct{ id int64 }

// recWrite is the state of a record to store.
type recWrite struct {
	slot *recSlot
	val  hotdesk.CallRecord
	done chan struct{} // closed once written (or failed); may be nil
}

// recorder writes the call records behind the calls (issue 18): a call
// queues each change of its records and goes on; one goroutine (run)
// writes what has queued meanwhile in one transaction, so N calls share a
// commit instead of paying one each, and the changes of one record that
// queued together become one write (a short call's start, answer and end
// can be a single INSERT). Without run (or after it), put writes at once.
type recorder struct {
	store Store
	batch CallWriter // nil: one write per record
	log   *slog.Logger

	pace time.Duration // recordPace

	mu      sync.Mutex
	queue   []recWrite
	spare   []recWrite // the queue a flush took, for the next one (no new array per batch)
	running bool
	kick    chan struct{}

	wmu sync.Mutex // one flush at a time
}

func newRecorder(store Store, log *slog.Logger) *recorder {
	r := &recorder{store: store, log: log, pace: recordPace, kick: make(chan struct{}, 1)}
	r.batch, _ = store.(CallWriter)
	return r
}

// put queues rec's current values; done, when not nil, is closed once
// they are written (or the write failed, which is logged).
func (r *recorder) put(slot *recSlot, rec *hotdesk.CallRecord, done chan struct{}) {
	r.mu.Lock()
	r.queue = append(r.queue, recWrite{slot: slot, val: *rec, done: done})
	running := r.running
	r.mu.Unlock()
	if !running {
		r.flush()
		return
	}
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// run writes queued records until ctx is done, then writes what is left;
// later puts write at once.
func (r *recorder) run(ctx context.Context) {
	r.mu.Lock()
	r.running = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running = false
		r.mu.Unlock()
		r.flush()
	}()
	pace := time.NewTimer(r.pace)
	pace.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
			r.flush()
		}
		pace.Reset(r.pace)
		select {
		case <-ctx.Done():
			return
		case <-pace.C:
		}
	}
}

// flush writes everything queued: the last values of each record, in one
// transaction when the store can, else (or when that fails) one by one.
func (r *recorder) flush() {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	r.mu.Lock()
	q := r.queue
	r.queue, r.spare = r.spare, nil
	r.mu.Unlock()
	if len(q) == 0 {
		return
	}
	defer func() {
		clear(q) // no done channels or records kept alive
		r.mu.Lock()
		r.spare = q[:0]
		r.mu.Unlock()
	}()
	recs := make([]*hotdesk.CallRecord, 0, len(q))
	slots := make([]*recSlot, 0, len(q))
	at := make(map[*recSlot]int, len(q))
	for i := range q {
		w := &q[i]
		if j, ok := at[w.slot]; ok {
			*recs[j] = w.val
			continue
		}
		at[w.slot] = len(recs)
		recs = append(recs, &w.val)
		slots = append(slots, w.slot)
	}
	for i, rec := range recs {
		rec.ID = slots[i].id
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if r.batch == nil || r.batch.WriteCalls(ctx, recs) != nil {
		// One by one: a record the batch could not take (its user was
		// deleted, say) does not cost the others theirs.
		for _, rec := range recs {
			r.writeOne(ctx, rec)
		}
	}
	for i, rec := range recs {
		slots[i].id = rec.ID
	}
	for _, w := range q {
		if w.done != nil {
			close(w.done)
		}
	}
}

// writeOne creates rec, or updates it when it has an ID.
func (r *recorder) writeOne(ctx context.Context, rec *hotdesk.CallRecord) {
	var err error
	if rec.ID == 0 {
		err = r.store.CreateCall(ctx, rec)
	} else {
		err = r.store.UpdateCall(ctx, rec)
	}
	if err != nil {
		r.log.Warn("b2bua: write call record", "call_id", rec.CallID, "extension", rec.Extension, "err", err)
	}
}

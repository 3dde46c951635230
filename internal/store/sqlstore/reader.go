package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/hotdesk-pbx/hotdesk/internal/gather"
)

// maxReadBatch bounds the reads one read transaction of the reader serves.
const maxReadBatch = 64

// errReaderClosed answers reads queued when the store closes.
var errReaderClosed = errors.New("store closed")

// reader runs one-row reads of the read pool on one long-lived goroutine,
// those that queued up meanwhile in one read transaction (SQLite only).
// Under login load the writer commits every millisecond or so, and a read
// of its own then starts a read transaction that finds the WAL's index
// changed and the connection's page cache stale, which costs more than the
// query (BenchmarkDeviceMailboxes: about 65 µs against 30 µs for a read
// within a transaction). The PIN prejudge of every login reads its user
// there (LoginUser), and the message lamp its phone's mailbox
// (DeviceMailbox, after every login and logout; issue 18). A read that
// finds the reader idle runs at once, as on the pool; one batch's reads
// see one snapshot, taken after each of them was asked for.
type reader struct {
	db      *DB
	reqs    chan *pointRead
	quit    chan struct{}
	start   sync.Once
	stop    sync.Once
	wg      sync.WaitGroup
	batched func(n int) // tests: each batch's size
}

// pointRead is one read queued for the reader: query with args, its row
// given to scan on the reader's goroutine.
type pointRead struct {
	ctx   context.Context
	query string
	args  []any
	scan  func(rowScanner) error
	err   error
	done  chan struct{}
}

func newReader(db *DB) *reader {
	return &reader{db: db, reqs: make(chan *pointRead, maxReadBatch), quit: make(chan struct{})}
}

// read runs query through the reader and returns scan's error (or ctx's
// when it ends before the read is queued, or errReaderClosed); query must
// be a constant text (readStmts).
func (r *reader) read(ctx context.Context, scan func(rowScanner) error, query string, args ...any) error {
	r.start.Do(func() {
		r.wg.Add(1)
		go r.run()
	})
	p := &pointRead{ctx: ctx, query: query, args: args, scan: scan, done: make(chan struct{})}
	select {
	case r.reqs <- p:
	case <-ctx.Done():
		return ctx.Err()
	case <-r.quit:
		return errReaderClosed
	}
	// Once queued, p is the reader's until done: scan writes into the
	// caller's variables, so returning before (on ctx) would let the
	// caller read them while the reader scans into them. A batch runs
	// without its callers' cancellation and is short (at most
	// maxReadBatch one-row reads), so ctx is not waited on here. When the
	// store closes, a queued read either ran in the reader's last batch or
	// never will, which the reader's end tells apart.
	select {
	case <-p.done:
		return p.err
	case <-r.quit:
		r.wg.Wait()
		select {
		case <-p.done:
			return p.err
		default:
			return errReaderClosed
		}
	}
}

func (r *reader) run() {
	defer r.wg.Done()
	gather.Serve(r.quit, r.reqs, maxReadBatch, func(b []*pointRead) {
		if r.batched != nil {
			r.batched(len(b))
		}
		r.runBatch(b)
		for _, p := range b {
			close(p.done)
		}
	})
}

// runBatch runs the reads of batch, more than one in one read transaction.
// Their statements run without their callers' cancellation: they are
// short, and an interrupted statement is not worth its error. A batch may
// mix queries (the logins' user reads, the lamps): each is prepared before
// the transaction takes its connection, as preparing takes one too.
func (r *reader) runBatch(batch []*pointRead) {
	if len(batch) == 1 {
		p := batch[0]
		p.err = p.scan(r.db.rs.QueryRowContext(context.WithoutCancel(p.ctx), p.query, p.args...))
		return
	}
	type prepared struct {
		s, inTx *sql.Stmt
		err     error
	}
	stmts := make(map[string]*prepared, 2)
	for _, p := range batch {
		if stmts[p.query] == nil {
			s, err := r.db.rs.stmt(p.query)
			stmts[p.query] = &prepared{s: s, err: err}
		}
	}
	ctx := context.Background()
	tx, err := r.db.r.BeginTx(ctx, nil)
	if err != nil {
		for _, p := range batch {
			p.err = err
		}
		return
	}
	defer tx.Rollback() //nolint:errcheck // read only: nothing to undo
	for _, p := range batch {
		st := stmts[p.query]
		if st.err != nil {
			p.err = st.err
			continue
		}
		if st.inTx == nil {
			st.inTx = tx.StmtContext(ctx, st.s)
		}
		p.err = p.scan(st.inTx.QueryRowContext(context.WithoutCancel(p.ctx), p.args...))
	}
}

// close stops the reader and waits for it; reads queued or asked for
// afterwards get errReaderClosed.
func (r *reader) close() {
	r.stop.Do(func() { close(r.quit) })
	r.wg.Wait()
}

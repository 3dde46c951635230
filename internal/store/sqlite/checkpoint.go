package sqlite

import (
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// checkpointEvery is how often the checkpointer copies committed WAL
// frames into the database file. At 1,000 logins/s a quarter of a second
// is about as many pages as SQLite's own threshold (1,000).
const checkpointEvery = 250 * time.Millisecond

// checkpointer runs WAL checkpoints on a connection of its own, off the
// commit path. By default SQLite checkpoints inside the commit that takes
// the WAL past 1,000 pages: that commit writes the pages back to the
// database file and fsyncs it before it returns, and with group commit
// every login of the batch, and the batches queued behind it, wait for it
// (the tail of INVITE→200 at 200 logins/s). The writer runs with
// wal_autocheckpoint=0 and this goroutine checkpoints PASSIVE on its own
// connection, which neither waits for nor blocks the writer and the
// readers.
//
// The writer starts the WAL over only when it begins a transaction with
// all of the WAL copied; under steady writes a checkpoint beside the
// writer never quite gets there, and the WAL would grow without bound. So
// when the writer appended while the checkpoint ran, the rest (only what
// was written meanwhile) is copied through the writer's own connection,
// between two group commits, as SQLite's automatic checkpoint would.
//
// A tick when nothing was committed since a checkpoint that copied the
// whole WAL does nothing: the WAL keeps its frames until the writer's next
// transaction starts it over, and both checkpoints would find them all
// copied already, on an idle server eight times a second. PRAGMA
// data_version tells: it changes when another connection (the writer,
// another process) commits.
type checkpointer struct {
	db     *sql.DB      // its own connection
	w      *sql.DB      // the writer (one connection)
	tails  atomic.Int64 // checkpoints finished through the writer (tests)
	stop   chan struct{}
	done   chan struct{}
	runs   atomic.Int64 // checkpoints that ran (tests)
	idle   atomic.Int64 // ticks with nothing committed since the WAL was all copied (tests)
	failed atomic.Int64 // checkpoints that failed; the next tick tries again
	last   atomic.Pointer[error]
	// seen is data_version before the last checkpoint that copied the
	// whole WAL, copied whether that is so; run's goroutine only.
	seen   int64
	copied bool

	closeOnce sync.Once
	closeErr  error
}

// startCheckpointer opens the checkpointer's connection to the database
// at base (baseDSN) and starts it.
func startCheckpointer(base, sync string, w *sql.DB) (*checkpointer, error) {
	db, err := sql.Open("sqlite", base+commonParams(sync))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	c := &checkpointer{db: db, w: w, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if err := c.tick(); err != nil {
			c.failed.Add(1)
			c.last.Store(&err)
		}
	}
}

// tick checkpoints unless nothing was committed since the last checkpoint
// that copied the whole WAL. The version is read before the checkpoint, so
// a commit made while it runs is copied at the next tick.
func (c *checkpointer) tick() error {
	var v int64
	if err := c.db.QueryRow(`PRAGMA data_version`).Scan(&v); err != nil {
		return err
	}
	if c.copied && v == c.seen {
		c.idle.Add(1)
		return nil
	}
	c.copied = false
	all, err := c.checkpoint()
	if err != nil {
		return err
	}
	c.runs.Add(1)
	c.seen, c.copied = v, all
	return nil
}

// checkpoint copies the WAL into the database file: beside the writer,
// then the rest through the writer. The first reports the WAL as it was
// when it started, so it cannot tell whether the writer appended since;
// the second copies only that. all reports whether every frame of the WAL
// is in the database file now (a reader's older snapshot can hold some
// back).
func (c *checkpointer) checkpoint() (all bool, err error) {
	var busy, log, copied int
	if err := c.db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied); err != nil {
		return false, err
	}
	if log <= 0 {
		return true, nil // the WAL is empty (started over), or not in WAL mode (-1)
	}
	if err := c.w.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied); err != nil {
		return false, err
	}
	c.tails.Add(1)
	return busy == 0 && copied >= log, nil
}

// close stops the checkpointer and closes its connection; closed last,
// that connection checkpoints the whole WAL and removes it, as SQLite's
// last connection does. Closing again does nothing.
func (c *checkpointer) close() error {
	c.closeOnce.Do(func() {
		close(c.stop)
		<-c.done
		var err error
		if p := c.last.Load(); p != nil && c.runs.Load() == 0 {
			err = *p // it never worked: say why
		}
		c.closeErr = errors.Join(err, c.db.Close())
	})
	return c.closeErr
}

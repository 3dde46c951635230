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
type checkpointer struct {
	db     *sql.DB      // its own connection
	w      *sql.DB      // the writer (one connection)
	tails  atomic.Int64 // checkpoints finished through the writer (tests)
	stop   chan struct{}
	done   chan struct{}
	runs   atomic.Int64 // checkpoints that ran (tests)
	failed atomic.Int64 // checkpoints that failed; the next tick tries again
	last   atomic.Pointer[error]

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
		if err := c.checkpoint(); err != nil {
			c.failed.Add(1)
			c.last.Store(&err)
			continue
		}
		c.runs.Add(1)
	}
}

// checkpoint copies the WAL into the database file: beside the writer,
// then the rest through the writer. The first reports the WAL as it was
// when it started, so it cannot tell whether the writer appended since;
// the second copies only that.
func (c *checkpointer) checkpoint() error {
	var busy, log, copied int
	if err := c.db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied); err != nil {
		return err
	}
	if log <= 0 {
		return nil // the WAL is empty (started over), or not in WAL mode (-1)
	}
	if err := c.w.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied); err != nil {
		return err
	}
	c.tails.Add(1)
	return nil
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

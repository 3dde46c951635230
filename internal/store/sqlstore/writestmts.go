package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// Limits of the write connection's statement cache (writeStmts).
const (
	maxWriteStmts   = 128  // statements kept prepared; the rest are parsed per use
	maxWriteStmtLen = 4096 // longer texts (bulk statements) are never prepared
	writeStmtSeen   = 2    // uses before a text is prepared
)

// writeStmts prepares, once, the statements that group-commit transactions
// run again and again (a login's lookups, its audit row, its outbox), so a
// login no longer parses and plans its SQL inside the one writer's critical
// section: on SQLite that parse was 40% of a login transaction (issue 18).
//
// A statement cannot be prepared while the write connection is inside a
// transaction (SQLite has one write connection, and database/sql prepares a
// DB-level statement on a free connection), so a member that runs a text
// not yet prepared runs it as before and counts it; the grouper prepares the
// texts used often enough when it next begins a transaction, before BEGIN.
// Only texts used writeStmtSeen times and at most maxWriteStmtLen long are
// prepared, at most maxWriteStmts of them, and they are never pruned:
// dynamic texts (a bulk import's) stay unprepared.
type writeStmts struct {
	db   *sql.DB
	mu   sync.Mutex
	m    map[string]*sql.Stmt
	seen map[string]int // texts not prepared: uses (-1: failed to prepare)
	due  bool           // some text in seen reached writeStmtSeen
}

// get returns the prepared statement for q, or nil after counting the use.
func (c *writeStmts) get(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.m[q]; s != nil {
		return s
	}
	if len(c.m) >= maxWriteStmts || len(q) > maxWriteStmtLen {
		return nil
	}
	if c.seen == nil {
		c.seen = map[string]int{}
	}
	n, ok := c.seen[q]
	if n < 0 || !ok && len(c.seen) >= 4*maxWriteStmts {
		return nil
	}
	c.seen[q] = n + 1
	c.due = c.due || n+1 >= writeStmtSeen
	return nil
}

// prepareDue prepares the texts used often enough. Call it only while no
// transaction holds the write connection, or it waits for one.
func (c *writeStmts) prepareDue() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.due {
		return
	}
	c.due = false
	for q, n := range c.seen {
		if n < writeStmtSeen || len(c.m) >= maxWriteStmts {
			continue
		}
		// Not a caller's context: the statement outlives the call.
		s, err := c.db.PrepareContext(context.Background(), q)
		if err != nil {
			c.seen[q] = -1 // run unprepared from now on
			continue
		}
		if c.m == nil {
			c.m = map[string]*sql.Stmt{}
		}
		c.m[q] = s
		delete(c.seen, q)
	}
}

// close closes the prepared statements.
func (c *writeStmts) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, s := range c.m {
		errs = append(errs, s.Close())
	}
	c.m, c.seen = nil, nil
	return errors.Join(errs...)
}

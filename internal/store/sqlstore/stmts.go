package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// readStmts is the read pool with each query prepared once: database/sql
// keeps a *sql.Stmt's copy per connection, so the lookups that run on
// every call (FindUser, LoginByUser, LoginByDevice, FindDevice) and
// every login (the sites and site devices an emergency location check
// reads, a mailbox's counts for the message lamp) skip the parse and plan
// of their SQL, which under call load was a tenth of the PBX's CPU
// (issue 18). Only constant query texts may go through it: the
// cache is never pruned.
type readStmts struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

var _ querier = (*readStmts)(nil)

func (c *readStmts) stmt(q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.m[q]; s != nil {
		return s, nil
	}
	// Not the caller's context: the statement outlives the call.
	s, err := c.db.PrepareContext(context.Background(), q)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[q] = s
	return s, nil
}

func (c *readStmts) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	s, err := c.stmt(q)
	if err != nil {
		return c.db.QueryRowContext(ctx, q, args...) // reports the error itself
	}
	return s.QueryRowContext(ctx, args...)
}

func (c *readStmts) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	s, err := c.stmt(q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

func (c *readStmts) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return c.db.ExecContext(ctx, q, args...)
}

func (c *readStmts) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return c.db.PrepareContext(ctx, q)
}

// close closes the prepared statements.
func (c *readStmts) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, s := range c.m {
		errs = append(errs, s.Close())
	}
	c.m = nil
	return errors.Join(errs...)
}

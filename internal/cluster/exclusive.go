package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// ExclusiveOptions configure Exclusive.
type ExclusiveOptions struct {
	DSN    string // the shared database
	Node   string // this node's name, for the log and pg_stat_activity
	Name   string // what is run, e.g. "webhooks"; one lock per name and schema
	Logger *slog.Logger
	// Retry is how often a node without the lock tries to take it, and
	// Check how often the holder checks its connection (defaults 5 s, 1 s).
	Retry, Check time.Duration
}

// Exclusive runs fn on one node of the cluster at a time: only while this
// node holds a PostgreSQL session advisory lock (per Name and schema) on a
// connection of its own. Another node takes over within Retry of the
// holder stopping or losing its connection (the server drops the lock with
// the session); a holder that loses its connection cancels fn within two
// Checks, and a new holder waits three before it starts fn, so the two do
// not overlap unless fn takes longer than that to stop.
// It returns nil when ctx is done, or fn's error if fn fails.
//
// Webhook deliveries go through it: every node reading the outbox would
// deliver each row once per node.
func Exclusive(ctx context.Context, o ExclusiveOptions, fn func(context.Context) error) error {
	if o.Name == "" || fn == nil {
		return errors.New("cluster: Exclusive needs a Name and a function")
	}
	if o.Retry <= 0 {
		o.Retry = 5 * time.Second
	}
	if o.Check <= 0 {
		o.Check = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	for {
		held, err := holdAndRun(ctx, o, fn)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && held {
			return err // fn failed: not a database problem
		}
		if err != nil {
			o.Logger.Warn("cluster: exclusive lock", "name", o.Name, "err", err, "retry_in", o.Retry)
		}
		if !sleep(ctx, o.Retry) {
			return nil
		}
	}
}

// holdAndRun connects, tries the lock once and, if it got it, runs fn until
// fn returns, ctx is done or the connection fails. held reports that err
// came from fn.
func holdAndRun(ctx context.Context, o ExclusiveOptions, fn func(context.Context) error) (held bool, err error) {
	cfg, err := pgx.ParseConfig(o.DSN)
	if err != nil {
		return false, fmt.Errorf("database URL: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	cfg.RuntimeParams["application_name"] = "hotdesk " + o.Name + " " + o.Node
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer closeConn(ctx, conn) // ends the session, and with it the lock
	var ok bool
	err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext('hotdesk exclusive ' || $1 || ' ' || COALESCE(current_schema(), ''))::bigint)`, o.Name).Scan(&ok)
	if err != nil || !ok {
		return false, err
	}
	// A holder whose session the server dropped notices within two Checks
	// (tick, then ping timeout) and stops: wait that out before starting.
	if !sleep(ctx, 3*o.Check) {
		return false, nil
	}
	o.Logger.Info("cluster: this node runs "+o.Name, "node", o.Node)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(fctx) }()
	t := time.NewTicker(o.Check)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			return true, err
		case <-t.C:
			pctx, pcancel := context.WithTimeout(ctx, o.Check)
			err := conn.Ping(pctx)
			pcancel()
			if err != nil && ctx.Err() == nil {
				o.Logger.Warn("cluster: lost the lock's connection; stopping "+o.Name, "node", o.Node, "err", err)
				cancel()
				<-done
				return false, err
			}
		}
	}
}

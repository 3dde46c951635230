package sqlstore

import "context"

// hookState is what the members of group-commit batches know of the
// webhooks table: whether any webhook is enabled. Every audit row used to
// run the outbox statement (INSERT INTO deliveries … SELECT … FROM
// webhooks) to learn that there is nothing to deliver, inside the one
// writer's critical section (issue 18); with no webhook enabled, as on most
// PBXs, the audit row is now its only statement.
//
// The state is read and written only under the grouper's lock, by members
// and at the start of a batch, so members see it in their serial order:
//   - it is read inside the batch's transaction, so it includes what
//     earlier members of the batch did;
//   - this store's webhook changes run as members (writeWebhooks) and
//     forget it, so later members read the table again;
//   - a member rolled back to its savepoint, or a batch that did not
//     commit, forgets it: it may have been read after changes now undone;
//   - other connections (another process on the same file) are noticed
//     through PRAGMA data_version at the start of each batch, which changes
//     when any other connection has committed; where that pragma fails
//     (not SQLite) the state is forgotten at every batch.
type hookState struct {
	known   bool
	enabled bool  // some webhook is enabled (when known)
	version int64 // PRAGMA data_version at the start of the batch; -1 unknown
}

// beginBatch checks, in the batch's new transaction, whether another
// connection committed since the last batch.
func (g *grouper) beginBatch() {
	var v int64
	if err := g.tx.QueryRow(`PRAGMA data_version`).Scan(&v); err != nil {
		v = -1
	}
	if v == -1 || v != g.hooks.version {
		g.hooks.known = false
	}
	g.hooks.version = v
}

// webhooksEnabled reports whether any webhook is enabled, as the batch's
// transaction sees it now.
func (g *grouper) webhooksEnabled(ctx context.Context) (bool, error) {
	if !g.hooks.known {
		var n int
		err := g.tx.QueryRowContext(context.WithoutCancel(ctx), `SELECT COUNT(*) FROM webhooks WHERE enabled`).Scan(&n)
		if err != nil {
			return false, err
		}
		g.hooks.known, g.hooks.enabled = true, n > 0
	}
	return g.hooks.enabled, nil
}

// writeWebhooks runs fn, a change to the webhooks table, in a transaction
// of its own; in a group-commit store as a member that makes the members
// after it read the table again.
func (db *DB) writeWebhooks(ctx context.Context, fn func(q querier) error) error {
	return db.inTx(ctx, func(q querier) error {
		if d, ok := q.(detached); ok {
			d.g.hooks.known = false
		}
		return fn(q)
	})
}

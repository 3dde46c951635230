package sqlstore

import (
	"context"
	"database/sql"
	"slices"

	"github.com/hotdesk-pbx/hotdesk"
)

// lazyLock is the querier of a write transaction on a database with
// Options.LockSQL: its first statement takes the exclusive lock, unless
// Tx.LockLogin took the shared one first.
type lazyLock struct {
	db        *DB
	tx        *sql.Tx
	locked    bool
	exclusive bool
}

func (l *lazyLock) lock(ctx context.Context, shared bool) error {
	if l.locked {
		return nil
	}
	stmt := l.db.lockSQL
	if shared && l.db.shared != "" {
		stmt = l.db.shared
	}
	if _, err := l.tx.ExecContext(ctx, stmt); err != nil {
		return l.db.wrap(err, "lock")
	}
	l.locked, l.exclusive = true, stmt == l.db.lockSQL
	return nil
}

func (l *lazyLock) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := l.lock(ctx, false); err != nil {
		return nil, err
	}
	return l.tx.ExecContext(ctx, query, args...)
}

func (l *lazyLock) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := l.lock(ctx, false); err != nil {
		return nil, err
	}
	return l.tx.QueryContext(ctx, query, args...)
}

// QueryRowContext cannot return the lock's error itself; it returns the
// row of a query that fails with it instead.
func (l *lazyLock) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if err := l.lock(ctx, false); err != nil {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		return l.tx.QueryRowContext(cctx, query, args...)
	}
	return l.tx.QueryRowContext(ctx, query, args...)
}

func (l *lazyLock) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	if err := l.lock(ctx, false); err != nil {
		return nil, err
	}
	return l.tx.PrepareContext(ctx, query)
}

// LockLogin prepares a login transaction of ext on device: on PostgreSQL
// it takes the shared write lock and locks (FOR NO KEY UPDATE) the rows of
// every user and device whose login the transaction may end or create —
// ext and device, the device ext is logged in on and the user logged in on
// device — users by extension, then devices by id, so two logins never
// wait for each other in opposite orders. Whoever changes a login holds
// both its user's and its device's row, so the logins read after this stay
// as read until commit, and the PIN failure counts of ext and device are
// read and written by one transaction at a time. The unique keys of the
// logins table remain the guard. A login of another user or device may
// appear before the locks are held: then the locks taken are given back
// (rollback to a savepoint; PostgreSQL releases row locks taken after it)
// and the larger set is locked again from the start, in order and
// waiting, so a busy row is waited for rather than failed on, and no two
// logins ever hold one row while waiting for one before it. It must be the
// transaction's first call; on SQLite (one writer) it does nothing.
func (tx *Tx) LockLogin(ctx context.Context, ext, device string) error {
	l, ok := tx.q.(*lazyLock)
	if !ok {
		return nil
	}
	if err := l.lock(ctx, true); err != nil {
		return err
	}
	if l.exclusive {
		return nil
	}
	users, devices, err := tx.neighbours(ctx, ext, device)
	if err != nil {
		return err
	}
	if _, err := tx.q.ExecContext(ctx, `SAVEPOINT lock_login`); err != nil {
		return tx.db.wrap(err, "lock login")
	}
	for range 8 {
		if err := tx.lockRows(ctx, `SELECT 1 FROM users WHERE extension = ANY($1) ORDER BY extension FOR NO KEY UPDATE`, users); err != nil {
			return err
		}
		if err := tx.lockRows(ctx, `SELECT 1 FROM devices WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, devices); err != nil {
			return err
		}
		// Logins only appear under their own rows' locks, so once all
		// of the neighbours read now are held the set is stable.
		u2, d2, err := tx.neighbours(ctx, ext, device)
		if err != nil {
			return err
		}
		moreU, moreD := missing(users, u2), missing(devices, d2)
		if len(moreU) == 0 && len(moreD) == 0 {
			return nil
		}
		if _, err := tx.q.ExecContext(ctx, `ROLLBACK TO SAVEPOINT lock_login`); err != nil {
			return tx.db.wrap(err, "lock login")
		}
		users, devices = append(users, moreU...), append(devices, moreD...)
		slices.Sort(users)
		slices.Sort(devices)
	}
	return hotdesk.Errorf(hotdesk.ECONFLICT, "Logins of %s and %s keep changing; try again.", ext, device)
}

// missing returns the elements of b not in a.
func missing(a, b []string) []string {
	var out []string
	for _, x := range b {
		if !slices.Contains(a, x) {
			out = append(out, x)
		}
	}
	return out
}

// neighbours returns the sorted users and devices a login of ext on device
// touches: themselves, ext's current device and device's current user.
func (tx *Tx) neighbours(ctx context.Context, ext, device string) (users, devices []string, err error) {
	users, devices = []string{ext}, []string{device}
	rows, err := tx.q.QueryContext(ctx, `SELECT extension, device FROM logins WHERE extension = $1 OR device = $2`, ext, device)
	if err != nil {
		return nil, nil, tx.db.wrap(err, "lock login")
	}
	defer rows.Close()
	for rows.Next() {
		var u, d string
		if err := rows.Scan(&u, &d); err != nil {
			return nil, nil, tx.db.wrap(err, "lock login")
		}
		if !slices.Contains(users, u) {
			users = append(users, u)
		}
		if !slices.Contains(devices, d) {
			devices = append(devices, d)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, tx.db.wrap(err, "lock login")
	}
	slices.Sort(users)
	slices.Sort(devices)
	return users, devices, nil
}

func (tx *Tx) lockRows(ctx context.Context, query string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	rows, err := tx.q.QueryContext(ctx, query, keys)
	if err != nil {
		return tx.db.wrap(err, "lock rows")
	}
	defer rows.Close()
	for rows.Next() {
	}
	return tx.db.wrap(rows.Err(), "lock rows")
}

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

var _ hotdesk.NodeStore = (*DB)(nil)

// ClaimNode records n as running unless a node of that name with another
// instance sent a heartbeat after aliveAfter. The check and the write are
// one statement, so of two processes starting with one name at once only
// one gets the row.
func (db *DB) ClaimNode(ctx context.Context, n hotdesk.Node, aliveAfter time.Time) error {
	var claimed bool
	err := db.inTx(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `INSERT INTO nodes (name, address, instance, started, heartbeat)
			VALUES ($1,$2,$3,$4,$5)
			ON CONFLICT (name) DO UPDATE SET address = excluded.address, instance = excluded.instance,
			started = excluded.started, heartbeat = excluded.heartbeat
			WHERE nodes.instance = excluded.instance OR nodes.instance = '' OR nodes.heartbeat <= $6`,
			n.Name, n.Address, n.Instance, ts(n.Started), ts(n.Heartbeat), ts(aliveAfter))
		if err != nil {
			return db.wrap(err, "claim node")
		}
		k, err := res.RowsAffected()
		claimed = k == 1
		return db.wrap(err, "claim node")
	})
	if err != nil || claimed {
		return err
	}
	var addr string
	var hb int64
	if err := db.w.QueryRowContext(ctx, `SELECT address, heartbeat FROM nodes WHERE name = $1`, n.Name).Scan(&addr, &hb); err != nil {
		return db.wrap(err, "claim node")
	}
	return hotdesk.Errorf(hotdesk.ECONFLICT, "node name %q is in use by a running node (SIP %s, last heartbeat %s ago); give each node its own --node",
		n.Name, addr, n.Heartbeat.Sub(fromTS(hb)).Round(time.Millisecond))
}

// ReleaseNode gives the name up (instance ”) if instance holds it.
func (db *DB) ReleaseNode(ctx context.Context, name, instance string) error {
	_, err := db.w.ExecContext(ctx, `UPDATE nodes SET instance = '' WHERE name = $1 AND instance = $2`, name, instance)
	return db.wrap(err, "release node")
}

// NodeHeartbeat stamps the node's heartbeat.
func (db *DB) NodeHeartbeat(ctx context.Context, name, instance string, at time.Time) error {
	res, err := db.w.ExecContext(ctx, `UPDATE nodes SET heartbeat = $1 WHERE name = $2 AND instance = $3`, ts(at), name, instance)
	if err != nil {
		return db.wrap(err, "node heartbeat")
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return hotdesk.Errorf(hotdesk.ENOTFOUND, "node %q belongs to another process now", name)
	}
	return nil
}

// ListNodes returns every node, by name.
func (db *DB) ListNodes(ctx context.Context) ([]hotdesk.Node, error) {
	return queryAll(ctx, db, db.r, "list nodes", scanNode,
		`SELECT name, address, instance, started, heartbeat FROM nodes ORDER BY name`)
}

func scanNode(row rowScanner) (hotdesk.Node, error) {
	var n hotdesk.Node
	var st, hb int64
	if err := row.Scan(&n.Name, &n.Address, &n.Instance, &st, &hb); err != nil {
		return n, err
	}
	n.Started, n.Heartbeat = fromTS(st), fromTS(hb)
	return n, nil
}

// NodeSecret returns the stored node secret, storing propose if none is.
func (db *DB) NodeSecret(ctx context.Context, propose string) (string, error) {
	if _, err := db.w.ExecContext(ctx, `INSERT INTO node_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, propose); err != nil {
		return "", db.wrap(err, "node secret")
	}
	var s string
	err := db.w.QueryRowContext(ctx, `SELECT secret FROM node_secret WHERE id = 1`).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return "", hotdesk.Errorf(hotdesk.EINTERNAL, "node secret missing")
	}
	return s, db.wrap(err, "node secret")
}

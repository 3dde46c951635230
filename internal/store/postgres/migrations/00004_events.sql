-- The cluster's event log (issue 14): every audit row is also written here,
-- in the same transaction, and the cluster bridge adds the events that have
-- no audit row (call progress, user_updated). Nodes read it from their last
-- seen seq; LISTEN/NOTIFY only wakes them. xid is the writing transaction,
-- so a reader can tell a gap that will still be filled (a lower seq whose
-- transaction is running) from one that never will (rolled back). Rows are
-- pruned by age. SQLite has no such table: one process owns its database
-- and publishes on its in-process bus.

-- +goose Up
CREATE TABLE events (
	seq       BIGSERIAL PRIMARY KEY,
	xid       xid8   NOT NULL,
	time      BIGINT NOT NULL,
	node      TEXT   NOT NULL DEFAULT '',
	kind      TEXT   NOT NULL,
	extension TEXT   NOT NULL DEFAULT '',
	device    TEXT   NOT NULL DEFAULT '',
	reason    TEXT   NOT NULL DEFAULT '',
	source    TEXT   NOT NULL DEFAULT '',
	detail    TEXT   NOT NULL DEFAULT '',
	call_id   TEXT   NOT NULL DEFAULT '',
	direction TEXT   NOT NULL DEFAULT '',
	peer      TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX events_time ON events (time);

-- +goose Down
DROP TABLE events;

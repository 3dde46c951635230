-- Where each node is in the cluster's event log (issue 14): the cluster
-- bridge of a node saves the last seq it has applied, so after a restart it
-- catches up on the events committed while it was down, as long as the log
-- still holds them (PostgreSQL; SQLite keeps the column for a schema in
-- step, one process owning it needs no log). Keep in step with the other
-- backend's 00011.

-- +goose Up
ALTER TABLE nodes ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE nodes DROP COLUMN last_seq;

-- Several nodes, one location (issue 14): a binding belongs to the node that
-- holds the phone's flow, so the key is (device, contact, node) and each
-- node writes and expires only its own rows; a binding of a node that went
-- silent is marked stale (not deleted: it is the record of where the phone
-- was) and counts as unregistered. Nodes heartbeat in the nodes table; the
-- address is where the other nodes send SIP for phones this node holds.
-- Keep in step with the other backend's 00003.

-- +goose Up
CREATE TABLE bindings_new (
	device     TEXT NOT NULL,
	contact    TEXT NOT NULL,
	expires    INTEGER NOT NULL,
	call_id    TEXT NOT NULL DEFAULT '',
	cseq       INTEGER NOT NULL DEFAULT 0,
	user_agent TEXT NOT NULL DEFAULT '',
	source     TEXT NOT NULL DEFAULT '',
	transport  TEXT NOT NULL DEFAULT '',
	node       TEXT NOT NULL DEFAULT '',
	updated    INTEGER NOT NULL DEFAULT 0,
	stale      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (device, contact, node)
);
INSERT INTO bindings_new (device, contact, expires, call_id, cseq, user_agent, source, transport, node, updated)
	SELECT device, contact, expires, call_id, cseq, user_agent, source, transport, node, updated FROM bindings;
DROP TABLE bindings;
ALTER TABLE bindings_new RENAME TO bindings;
CREATE INDEX bindings_expires ON bindings (expires);
CREATE INDEX bindings_node ON bindings (node);

CREATE TABLE nodes (
	name      TEXT PRIMARY KEY,
	address   TEXT NOT NULL DEFAULT '', -- host:port of its SIP listener for the other nodes
	instance  TEXT NOT NULL DEFAULT '', -- random per process: tells a restart from a duplicate
	started   INTEGER NOT NULL DEFAULT 0,
	heartbeat INTEGER NOT NULL DEFAULT 0
);

-- The shared secret nodes sign their SIP requests to each other with.
CREATE TABLE node_secret (
	id     INTEGER PRIMARY KEY CHECK (id = 1),
	secret TEXT NOT NULL
);

-- +goose Down
DROP TABLE node_secret;
DROP TABLE nodes;
DELETE FROM bindings WHERE stale <> 0;
CREATE TABLE bindings_old (
	device     TEXT NOT NULL,
	contact    TEXT NOT NULL,
	expires    INTEGER NOT NULL,
	call_id    TEXT NOT NULL DEFAULT '',
	cseq       INTEGER NOT NULL DEFAULT 0,
	user_agent TEXT NOT NULL DEFAULT '',
	source     TEXT NOT NULL DEFAULT '',
	transport  TEXT NOT NULL DEFAULT '',
	node       TEXT NOT NULL DEFAULT '',
	updated    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (device, contact)
);
INSERT INTO bindings_old (device, contact, expires, call_id, cseq, user_agent, source, transport, node, updated)
	SELECT device, contact, MAX(expires), MAX(call_id), MAX(cseq), MAX(user_agent), MAX(source), MAX(transport), MAX(node), MAX(updated)
	FROM bindings GROUP BY device, contact;
DROP TABLE bindings;
ALTER TABLE bindings_old RENAME TO bindings;
CREATE INDEX bindings_expires ON bindings (expires);

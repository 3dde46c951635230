-- Hotdesk PBX schema for SQLite. Times are INTEGER Unix nanoseconds (UTC),
-- booleans INTEGER 0/1, lists JSON text. Keep in step with
-- internal/store/postgres/migrations, which differs only in types.

-- +goose Up
CREATE TABLE users (
	extension    TEXT PRIMARY KEY,
	name         TEXT NOT NULL DEFAULT '',
	email        TEXT NOT NULL DEFAULT '',
	hotdesk      INTEGER NOT NULL DEFAULT 0,
	pin_hash     TEXT NOT NULL DEFAULT '',
	caller_id    TEXT NOT NULL DEFAULT '',
	dids         TEXT NOT NULL DEFAULT '[]',
	outbound     TEXT NOT NULL DEFAULT '',
	blf          TEXT NOT NULL DEFAULT '[]',
	speed_dials  TEXT NOT NULL DEFAULT '[]',
	voicemail    INTEGER NOT NULL DEFAULT 0,
	ring_timeout INTEGER NOT NULL DEFAULT 0,
	locked_until INTEGER,
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL
);

-- One owner per DID; the primary key is also the DID lookup index.
CREATE TABLE user_dids (
	did       TEXT PRIMARY KEY,
	extension TEXT NOT NULL REFERENCES users (extension) ON DELETE CASCADE
);
CREATE INDEX user_dids_extension ON user_dids (extension);

CREATE TABLE devices (
	id                 TEXT PRIMARY KEY,
	label              TEXT NOT NULL DEFAULT '',
	mac                TEXT NOT NULL DEFAULT '',
	model              TEXT NOT NULL DEFAULT '',
	mode               TEXT NOT NULL DEFAULT '',
	owner              TEXT NOT NULL DEFAULT '',
	location           TEXT NOT NULL DEFAULT '{}',
	emergency_callback TEXT NOT NULL DEFAULT '',
	sip_password       TEXT NOT NULL DEFAULT '',
	provision_token    TEXT NOT NULL DEFAULT '',
	auto_logout        TEXT,
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL
);
CREATE UNIQUE INDEX devices_mac ON devices (mac) WHERE mac <> '';
CREATE INDEX devices_owner ON devices (owner) WHERE owner <> '';

-- Counters that must never hand out a value twice (HD00001, HD00002, …).
CREATE TABLE sequences (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
);
INSERT INTO sequences (name, value) VALUES ('hotdesk_device', 0);

-- At most one login per device (primary key) and per user (unique).
CREATE TABLE logins (
	device        TEXT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
	extension     TEXT NOT NULL UNIQUE REFERENCES users (extension) ON DELETE CASCADE,
	since         INTEGER NOT NULL,
	via           TEXT NOT NULL DEFAULT '',
	ends_at       INTEGER,
	policy        TEXT NOT NULL DEFAULT '',
	last_activity INTEGER NOT NULL DEFAULT 0
);

-- No foreign key to devices: a registrar batch must not fail because one
-- device in it was deleted meanwhile; DeleteDevice removes bindings itself.
CREATE TABLE bindings (
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
CREATE INDEX bindings_expires ON bindings (expires);

-- AUTOINCREMENT: audit IDs are never reused, even after pruning the newest.
CREATE TABLE audit (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	time      INTEGER NOT NULL,
	kind      TEXT NOT NULL,
	extension TEXT NOT NULL DEFAULT '',
	device    TEXT NOT NULL DEFAULT '',
	reason    TEXT NOT NULL DEFAULT '',
	source    TEXT NOT NULL DEFAULT '',
	detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_extension ON audit (extension, id) WHERE extension <> '';
CREATE INDEX audit_device ON audit (device, id) WHERE device <> '';
CREATE INDEX audit_kind ON audit (kind, id);
CREATE INDEX audit_time ON audit (time);

CREATE TABLE calls (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	call_id   TEXT NOT NULL DEFAULT '',
	extension TEXT NOT NULL,
	direction TEXT NOT NULL DEFAULT '',
	peer      TEXT NOT NULL DEFAULT '',
	device    TEXT NOT NULL DEFAULT '',
	start_at  INTEGER NOT NULL,
	answer_at INTEGER,
	end_at    INTEGER,
	result    TEXT NOT NULL DEFAULT '',
	emergency INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX calls_extension ON calls (extension, start_at);

CREATE TABLE settings (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	doc TEXT NOT NULL
);

CREATE TABLE admins (
	username      TEXT PRIMARY KEY,
	password_hash TEXT NOT NULL,
	created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	username   TEXT NOT NULL,
	csrf       TEXT NOT NULL,
	expires    INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires);

CREATE TABLE webhooks (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	url        TEXT NOT NULL,
	secret     TEXT NOT NULL DEFAULT '',
	kinds      TEXT NOT NULL DEFAULT '[]',
	enabled    INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL
);

-- The webhook outbox: one row per event per webhook, written with the event.
CREATE TABLE deliveries (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	webhook      INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	audit_id     INTEGER NOT NULL REFERENCES audit (id),
	status       TEXT NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt INTEGER NOT NULL,
	last_error   TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	delivered_at INTEGER
);
CREATE INDEX deliveries_webhook ON deliveries (webhook, status, id);

-- +goose Down
DROP TABLE deliveries;
DROP TABLE webhooks;
DROP TABLE sessions;
DROP TABLE admins;
DROP TABLE settings;
DROP TABLE calls;
DROP TABLE audit;
DROP TABLE bindings;
DROP TABLE logins;
DROP TABLE sequences;
DROP TABLE devices;
DROP TABLE user_dids;
DROP TABLE users;

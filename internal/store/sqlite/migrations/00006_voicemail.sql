-- Voicemail (issue 13): messages with their WAV audio, and each user's
-- recorded greeting. The audio lives in the database (BLOB here, BYTEA on
-- PostgreSQL) so that every node of a cluster plays every message and a
-- backup of the database holds the mailboxes too. Both go with the user
-- (ON DELETE CASCADE). Keep in step with the other backend's 00006.

-- +goose Up
CREATE TABLE voicemail (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	extension   TEXT NOT NULL REFERENCES users (extension) ON DELETE CASCADE,
	caller      TEXT NOT NULL DEFAULT '',
	caller_name TEXT NOT NULL DEFAULT '',
	received_at INTEGER NOT NULL,
	duration_ms INTEGER NOT NULL DEFAULT 0,
	is_new      INTEGER NOT NULL DEFAULT 1,
	codec       TEXT NOT NULL DEFAULT '',
	audio       BLOB NOT NULL
);
CREATE INDEX voicemail_extension ON voicemail (extension, is_new, received_at, id);

CREATE TABLE voicemail_greetings (
	extension  TEXT PRIMARY KEY REFERENCES users (extension) ON DELETE CASCADE,
	audio      BLOB NOT NULL,
	updated_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE voicemail_greetings;
DROP TABLE voicemail;

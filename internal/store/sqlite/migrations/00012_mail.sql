-- Voicemail-to-email outbox (issue 13): one row per email, with its WAV
-- attachment, sent by internal/mail with retries and backoff like the
-- webhook outbox. Rows are kept after sending (status sent) for a trail.
-- Keep in step with the other backend's 00012.

-- +goose Up
CREATE TABLE mail_outbox (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	to_addr         TEXT NOT NULL,
	subject         TEXT NOT NULL DEFAULT '',
	body            TEXT NOT NULL DEFAULT '',
	attachment_name TEXT NOT NULL DEFAULT '',
	attachment      BLOB NOT NULL,
	status          TEXT NOT NULL DEFAULT 'pending',
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt    INTEGER NOT NULL,
	last_error      TEXT NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	sent_at         INTEGER
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt, id);

-- +goose Down
DROP TABLE mail_outbox;

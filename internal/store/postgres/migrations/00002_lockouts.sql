-- Durable hot-desk lockouts (issue 11): a device's PIN lock lives on the
-- device row like a user's, and the wrong-PIN times that count towards a
-- lock are kept per user and per device, so counting survives a restart and
-- is shared by every node. Keep in step with the other backend's 00002.

-- +goose Up
ALTER TABLE devices ADD COLUMN locked_until BIGINT;

CREATE TABLE pin_failures (
	scope   TEXT NOT NULL, -- user | device
	subject TEXT NOT NULL, -- extension or device id
	times   TEXT NOT NULL DEFAULT '[]', -- JSON list of Unix nanoseconds, oldest first
	PRIMARY KEY (scope, subject)
);

-- +goose Down
DROP TABLE pin_failures;
ALTER TABLE devices DROP COLUMN locked_until;

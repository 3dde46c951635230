-- Sites and emergency call records (issue 16). A site has a civic address,
-- the networks its phones register from, its emergency trunk and callback;
-- a device belongs to at most one site (site_devices, so the devices table
-- is left as it is). emergency_calls keeps what each emergency call sent
-- and who acknowledged its on-site alert: the callback window and the
-- "last tested" list read it. Keep in step with the other backend's 00007.

-- +goose Up
CREATE TABLE sites (
	id         BIGSERIAL PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	location   TEXT NOT NULL DEFAULT '{}',
	networks   TEXT NOT NULL DEFAULT '[]',
	trunk      TEXT NOT NULL DEFAULT '',
	callback   TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE TABLE site_devices (
	device TEXT COLLATE "C" PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
	site   BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE
);
CREATE INDEX site_devices_site ON site_devices (site);

CREATE TABLE emergency_calls (
	id        BIGSERIAL PRIMARY KEY,
	time      BIGINT NOT NULL,
	device    TEXT NOT NULL DEFAULT '',
	extension TEXT NOT NULL DEFAULT '',
	name      TEXT NOT NULL DEFAULT '',
	number    TEXT NOT NULL DEFAULT '',
	callback  TEXT NOT NULL DEFAULT '',
	site      BIGINT NOT NULL DEFAULT 0,
	trunk     TEXT NOT NULL DEFAULT '',
	location  TEXT NOT NULL DEFAULT '{}',
	warning   TEXT NOT NULL DEFAULT '',
	test      BOOLEAN NOT NULL DEFAULT FALSE,
	acked_at  BIGINT,
	acked_by  TEXT NOT NULL DEFAULT '',
	acked_via TEXT NOT NULL DEFAULT ''
);
CREATE INDEX emergency_calls_callback ON emergency_calls (callback, time);
CREATE INDEX emergency_calls_device ON emergency_calls (device, time);

-- +goose Down
DROP TABLE emergency_calls;
DROP TABLE site_devices;
DROP TABLE sites;

-- Device ids are unique regardless of case (issue 12 item 8): a phone
-- registers as HD00001 or hd00001 alike to an admin reading the list, so
-- both may not exist. The audit trail is searched by device regardless of
-- case too. Keep in step with the other backend's 00005. Fails if a
-- database already holds two ids that differ only in case: rename one
-- (delete and re-create the device) and migrate again.

-- +goose Up
CREATE UNIQUE INDEX devices_id_lower ON devices (lower(id));
CREATE INDEX audit_device_lower ON audit (lower(device), id) WHERE device <> '';

-- +goose Down
DROP INDEX audit_device_lower;
DROP INDEX devices_id_lower;

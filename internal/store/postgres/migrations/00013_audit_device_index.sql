-- The audit trail is searched by device regardless of case (00005's
-- audit_device_lower, FindAudit's lower(device) = lower(?)): the
-- case-sensitive audit_device index served no query, and every audit row
-- (one per first registration, written in the registrar's group commit)
-- paid for an insert into it, a fifth of the row's index writes (issue
-- 18). Keep in step with the other backend's 00013.

-- +goose Up
DROP INDEX audit_device;

-- +goose Down
CREATE INDEX audit_device ON audit (device, id) WHERE device <> '';

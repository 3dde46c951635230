-- A binding's flow (issue 15 item 1): whether the phone is behind NAT (its
-- Contact or Via address is not where its REGISTER came from; it then gets
-- keep-alives), and its RFC 5626 outbound instance and reg-id, which
-- identify the binding a re-registration over a new flow replaces. The
-- source address and transport were stored already. Keep in step with the
-- other backend's 00009.

-- +goose Up
ALTER TABLE bindings ADD COLUMN nat INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bindings ADD COLUMN instance TEXT NOT NULL DEFAULT '';
ALTER TABLE bindings ADD COLUMN reg_id INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE bindings DROP COLUMN reg_id;
ALTER TABLE bindings DROP COLUMN instance;
ALTER TABLE bindings DROP COLUMN nat;

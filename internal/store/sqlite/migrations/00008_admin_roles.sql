-- Console admin roles (issue 17 item 12): admin (everything), helpdesk
-- (log users out, unlock, reset PINs; no settings) and viewer (read
-- only), and disabled accounts. An admin without a row is an enabled
-- admin, so existing accounts keep what they could do. Keep in step with
-- the other backend's 00008.

-- +goose Up
CREATE TABLE admin_access (
	username TEXT PRIMARY KEY REFERENCES admins (username) ON DELETE CASCADE,
	role     TEXT NOT NULL DEFAULT 'admin', -- admin | helpdesk | viewer
	disabled INTEGER NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE admin_access;

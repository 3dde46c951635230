-- SIP over TLS and SRTP per device (issue 15): the transport provisioned
-- to the phone ('' = the site's setting) and its SRTP policy ('' =
-- optional). Keep in step with the other backend's 00010.

-- +goose Up
ALTER TABLE devices ADD COLUMN sip_transport TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN srtp TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE devices DROP COLUMN srtp;
ALTER TABLE devices DROP COLUMN sip_transport;

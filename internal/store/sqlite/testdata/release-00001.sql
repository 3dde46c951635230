-- Data as a site running the release with schema version 00001 has it.
-- TestUpgradeFromPreviousRelease loads it into a database migrated only to
-- that version, opens it with this build (which migrates to the latest)
-- and reads it back through the store. When a release ships with a newer
-- schema, add release-<N>.sql for it: every file is tested.
INSERT INTO users (extension, name, email, hotdesk, pin_hash, caller_id, dids, outbound, blf, speed_dials, voicemail, ring_timeout, created_at, updated_at)
VALUES ('201', 'Anna de Vries', 'anna@example.com', 1, '$2a$10$abcdefghijklmnopqrstuuv0123456789012345678901234567890', '+31201234201', '["+31201234201"]', 'national', '["202"]', '[]', 1, 20, 1764590400000000000, 1764590400000000000),
       ('202', 'Bram Jansen', '', 1, '', '', '[]', 'internal', '[]', '[]', 0, 0, 1764590400000000000, 1764590400000000000);
INSERT INTO user_dids (did, extension) VALUES ('+31201234201', '201');
INSERT INTO devices (id, label, mac, model, mode, owner, location, emergency_callback, sip_password, provision_token, created_at, updated_at)
VALUES ('HD00001', 'Desk 1.01', '000413a00001', 'snom', 'hotdesk', '', '{"text":"Keizersgracht 1","country":"NL","floor":"1"}', '+31201234000', 'demo-HD00001-secret', 'tok1', 1764590400000000000, 1764590400000000000),
       ('soft202', 'Bram soft', '', 'generic', 'personal', '202', '{}', '', 'pw202', '', 1764590400000000000, 1764590400000000000);
UPDATE sequences SET value = 1 WHERE name = 'hotdesk_device';
INSERT INTO logins (device, extension, since, via, last_activity) VALUES ('HD00001', '201', 1764594000000000000, 'code', 1764594000000000000);
INSERT INTO audit (time, kind, extension, device, reason, source, detail) VALUES (1764594000000000000, 'login', '201', 'HD00001', '', 'phone', '');
INSERT INTO calls (call_id, extension, direction, peer, device, start_at, answer_at, end_at, result) VALUES ('c1@x', '201', 'out', '0201234567', 'HD00001', 1764594100000000000, 1764594105000000000, 1764594200000000000, 'answered');
INSERT INTO settings (id, doc) VALUES (1, '{"lang":"nl","timezone":"Europe/Amsterdam"}');
INSERT INTO admins (username, password_hash, created_at) VALUES ('admin', '$2a$10$abcdefghijklmnopqrstuuv0123456789012345678901234567890', 1764590400000000000);
INSERT INTO webhooks (url, secret, kinds, enabled, created_at) VALUES ('https://example.com/hook', 's3cret', '["login"]', 1, 1764590400000000000);

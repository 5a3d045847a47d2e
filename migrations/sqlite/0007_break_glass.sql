-- Break-glass grants (SECURITY C3): an IG officer may read one message's content for a
-- limited time, with a written reason. Kept for good, like the audit log they are recorded in.
CREATE TABLE break_glass_grants (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    message_id TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX break_glass_by_user ON break_glass_grants (user_id, message_id, expires_at);

CREATE TRIGGER break_glass_no_update BEFORE UPDATE ON break_glass_grants
BEGIN
    SELECT RAISE(ABORT, 'break_glass_grants is append-only');
END;

CREATE TRIGGER break_glass_no_delete BEFORE DELETE ON break_glass_grants
BEGIN
    SELECT RAISE(ABORT, 'break_glass_grants is append-only');
END;

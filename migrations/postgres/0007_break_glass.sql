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

CREATE FUNCTION break_glass_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'break_glass_grants is append-only';
END
$$;

CREATE TRIGGER break_glass_no_change BEFORE UPDATE OR DELETE ON break_glass_grants
    FOR EACH ROW EXECUTE FUNCTION break_glass_append_only();
CREATE TRIGGER break_glass_no_truncate BEFORE TRUNCATE ON break_glass_grants
    FOR EACH STATEMENT EXECUTE FUNCTION break_glass_append_only();

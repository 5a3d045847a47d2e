-- Restores from a backup (`sealpost restore`), each signed with the audit key: the head the
-- log went back to and the last head signed before it, so `audit verify` can tell a restore
-- from a rollback made by hand. Append-only like the checkpoints.
CREATE TABLE audit_restores (
    at                 BIGINT PRIMARY KEY,
    restored_seq       BIGINT NOT NULL,
    restored_hash      BYTEA NOT NULL,
    last_signed_seq    BIGINT NOT NULL,
    last_signed_hash   BYTEA NOT NULL,
    key                BYTEA NOT NULL,
    signature          BYTEA NOT NULL
);

CREATE FUNCTION audit_restores_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_restores is append-only';
END
$$;

CREATE TRIGGER audit_restores_no_change BEFORE UPDATE OR DELETE ON audit_restores
    FOR EACH ROW EXECUTE FUNCTION audit_restores_append_only();
CREATE TRIGGER audit_restores_no_truncate BEFORE TRUNCATE ON audit_restores
    FOR EACH STATEMENT EXECUTE FUNCTION audit_restores_append_only();

-- Restores from a backup (`sealpost restore`), each signed with the audit key: the head the
-- log went back to and the last head signed before it, so `audit verify` can tell a restore
-- from a rollback made by hand. Append-only like the checkpoints.
CREATE TABLE audit_restores (
    at                 BIGINT PRIMARY KEY,
    restored_seq       BIGINT NOT NULL,
    restored_hash      BLOB NOT NULL,
    last_signed_seq    BIGINT NOT NULL,
    last_signed_hash   BLOB NOT NULL,
    key                BLOB NOT NULL,
    signature          BLOB NOT NULL
);

CREATE TRIGGER audit_restores_no_update BEFORE UPDATE ON audit_restores
BEGIN
    SELECT RAISE(ABORT, 'audit_restores is append-only');
END;

CREATE TRIGGER audit_restores_no_delete BEFORE DELETE ON audit_restores
BEGIN
    SELECT RAISE(ABORT, 'audit_restores is append-only');
END;

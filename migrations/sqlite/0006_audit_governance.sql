-- Signed checkpoints of the audit chain's head (SECURITY F6), append-only like the log, and
-- the indexes the IG console searches by.
CREATE TABLE audit_checkpoints (
    seq       BIGINT PRIMARY KEY,
    hash      BLOB NOT NULL,
    at        BIGINT NOT NULL,
    key       BLOB NOT NULL,
    signature BLOB NOT NULL
);

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;

CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;

-- The message an event is about: every object about a message starts `message:<id>`, so a
-- message's whole timeline (downloads and notifications included) is one index range, and
-- stays findable after the message itself is erased. Derived, so the chain does not cover it.
ALTER TABLE audit_events ADD COLUMN message_id TEXT
    GENERATED ALWAYS AS (CASE WHEN substr(object, 1, 8) = 'message:' THEN substr(object, 9, 36) END) VIRTUAL;
CREATE INDEX audit_events_by_message ON audit_events (message_id, seq);
CREATE INDEX audit_events_by_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_by_action ON audit_events (action, seq);
CREATE INDEX audit_events_by_time ON audit_events (at);

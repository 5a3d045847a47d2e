-- The audit log becomes a hash chain (SECURITY F3) and append-only at the database (F5).
-- Events written before this migration have no hash yet: the store chains them once, at
-- start, which is the only change a row may ever see. After that no row changes or goes,
-- and every new row carries its place in the chain.
ALTER TABLE audit_events ADD COLUMN prev_hash BLOB;
ALTER TABLE audit_events ADD COLUMN hash BLOB;
-- Finds the rows still to chain at start without reading the whole log.
CREATE INDEX audit_events_unchained ON audit_events (seq) WHERE hash IS NULL;

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
WHEN OLD.hash IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

CREATE TRIGGER audit_events_chained BEFORE INSERT ON audit_events
WHEN NEW.hash IS NULL OR NEW.prev_hash IS NULL
BEGIN
    SELECT RAISE(ABORT, 'audit events must be chained');
END;

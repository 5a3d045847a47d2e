-- The audit log becomes a hash chain (SECURITY F3) and append-only at the database (F5).
-- Events written before this migration have no hash yet: the store chains them once, at
-- start, which is the only change a row may ever see. After that no row changes or goes
-- (TRUNCATE included), and every new row carries its place in the chain.
ALTER TABLE audit_events ADD COLUMN prev_hash BYTEA, ADD COLUMN hash BYTEA;
-- Finds the rows still to chain at start without reading the whole log.
CREATE INDEX audit_events_unchained ON audit_events (seq) WHERE hash IS NULL;

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.hash IS NULL THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only';
END
$$;

CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

CREATE FUNCTION audit_events_chained() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.hash IS NULL OR NEW.prev_hash IS NULL THEN
        RAISE EXCEPTION 'audit events must be chained';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_events_chained BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_chained();

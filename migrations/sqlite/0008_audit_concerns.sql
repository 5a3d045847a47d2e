-- The person an event concerns without being theirs to do: the recipient a notification went
-- to or whose access was withdrawn (`message:<id>/to:<address>`). The IG console's view of a
-- person shows these beside what they did. Derived, so the chain does not cover it.
ALTER TABLE audit_events ADD COLUMN concerns TEXT
    GENERATED ALWAYS AS (CASE WHEN instr(object, '/to:') > 0 THEN substr(object, instr(object, '/to:') + 4) END) VIRTUAL;
CREATE INDEX audit_events_by_concerns ON audit_events (concerns, seq);

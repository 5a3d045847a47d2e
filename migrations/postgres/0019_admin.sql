-- The admin console (issue 17): when each account last signed in, and account emails (set-up
-- invitations) sent through an outbox of their own, so an invitation survives a relay outage
-- and a restart. No secret is stored here: the set-up link is made when the email is sent.
ALTER TABLE users ADD COLUMN last_sign_in_at BIGINT;

CREATE TABLE account_emails (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('invite')),
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    claim           TEXT,
    next_attempt_at BIGINT NOT NULL,
    first_queued_at BIGINT NOT NULL,
    last_error      TEXT
);
CREATE INDEX account_emails_due ON account_emails (state, next_attempt_at);

-- An administrator's change to an account (`person:<address>`) concerns that person too, so
-- the IG console's view of them shows who invited, disabled or re-roled them and when.
ALTER TABLE audit_events DROP COLUMN concerns;
ALTER TABLE audit_events ADD COLUMN concerns TEXT
    GENERATED ALWAYS AS (CASE
        WHEN strpos(object, '/to:') > 0 THEN substr(object, strpos(object, '/to:') + 4)
        WHEN substr(object, 1, 7) = 'person:' THEN substr(object, 8)
    END) STORED;
CREATE INDEX audit_events_by_concerns ON audit_events (concerns, seq);

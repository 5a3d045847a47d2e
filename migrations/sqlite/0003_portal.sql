-- The recipient portal: sessions opened by redeeming a link, one-time codes, and lockouts.
CREATE TABLE portal_sessions (
    token_hash   BLOB PRIMARY KEY,
    recipient_id TEXT NOT NULL REFERENCES recipients (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    verified_at  BIGINT
);
CREATE INDEX portal_sessions_by_recipient ON portal_sessions (recipient_id);

-- At most one live code per portal session; asking again replaces it.
CREATE TABLE portal_codes (
    session_hash BLOB PRIMARY KEY REFERENCES portal_sessions (token_hash) ON DELETE CASCADE,
    code_hash    BLOB NOT NULL,
    expires_at   BIGINT NOT NULL,
    tries        BIGINT NOT NULL DEFAULT 0
);

-- Codes sent and wrong passphrases, per recipient, for the hourly and daily limits.
CREATE TABLE portal_attempts (
    recipient_id TEXT NOT NULL REFERENCES recipients (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('code_sent', 'passphrase_failed')),
    at           BIGINT NOT NULL
);
CREATE INDEX portal_attempts_by_recipient ON portal_attempts (recipient_id, kind, at);

CREATE TABLE portal_locks (
    recipient_id TEXT PRIMARY KEY REFERENCES recipients (id) ON DELETE CASCADE,
    until_at     BIGINT NOT NULL
);

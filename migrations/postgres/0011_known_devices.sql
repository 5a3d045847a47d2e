-- Browsers that have signed in to an account before (a device cookie, OWASP's defence against
-- lockout by strangers): from a known browser the per-address lock does not apply, only a
-- limit of its own, so nobody can lock an officer out by guessing from elsewhere (SECURITY A3).
-- Tokens are stored as SHA-256, like sessions.
CREATE TABLE known_devices (
    token_hash   BYTEA PRIMARY KEY,
    email        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL
);
CREATE INDEX known_devices_by_email ON known_devices (email);

-- Partners who write first (/write): an outside person proves their address with an emailed
-- code, then sends a message to a member of staff. Such a message has no staff sender: its
-- sender_id is the one "outside" account below (disabled, with no password: it can never sign
-- in, and nothing lists it), and outside_sender names the address that was verified.
ALTER TABLE messages ADD COLUMN outside_sender TEXT;
INSERT INTO users (id, email, display_name, role, password_hash, disabled, created_at)
VALUES ('00000000-0000-4000-8000-0000000000fe', 'outside-sender@sealpost.invalid', 'Someone outside the council', 'staff', NULL, TRUE, 0);

-- A visit to /write: the address to verify, the staff address asked for, and the live code.
CREATE TABLE write_sessions (
    token_hash      BYTEA PRIMARY KEY,
    address         TEXT NOT NULL,
    write_to        TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    verified_at     BIGINT,
    code_hash       BYTEA,
    code_expires_at BIGINT,
    code_tries      BIGINT NOT NULL DEFAULT 0
);

-- Codes asked for and messages sent through /write, per address and per network address, for
-- the hourly limits (taken before anything is sent, so parallel requests never pass them).
CREATE TABLE write_attempts (
    bucket TEXT NOT NULL,
    at     BIGINT NOT NULL
);
CREATE INDEX write_attempts_by_bucket ON write_attempts (bucket, at);

-- The second factor (issue 17, SECURITY A6). A TOTP secret is stored only sealed to the master
-- and escrow keys (age), never in the clear; totp_pending holds one being enrolled until a code
-- confirms it. totp_last_step is the newest step a code was accepted for: a code is taken once
-- (an UPDATE that only moves it forward). Recovery codes are stored as SHA-256 hashes, each
-- used once. A session is 'full', or waits for the second factor, or for enrolment.
ALTER TABLE users ADD COLUMN totp_secret BYTEA;
ALTER TABLE users ADD COLUMN totp_pending BYTEA;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash BYTEA NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- Sessions open at the upgrade began without a second factor: everyone signs in again.
DELETE FROM sessions;
ALTER TABLE sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'full'
    CHECK (stage IN ('full', 'second_factor', 'enrol'));

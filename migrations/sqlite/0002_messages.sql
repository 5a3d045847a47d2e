-- Messages, their keys, recipients and attachments; the notification outbox; the audit log.
-- Subjects, bodies, file names and link tokens are age ciphertext; everything else is the
-- metadata routing, tracking and audit need.
CREATE TABLE messages (
    id           TEXT PRIMARY KEY,
    reference    TEXT NOT NULL UNIQUE,
    sender_id    TEXT NOT NULL REFERENCES users (id),
    marking      TEXT NOT NULL CHECK (marking IN ('official', 'official-sensitive')),
    subject      BLOB NOT NULL,
    body         BLOB NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX messages_by_sender ON messages (sender_id, created_at);

-- Deleting a row here is crypto-shredding: the content can no longer be opened.
CREATE TABLE message_keys (
    message_id TEXT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    wrapped    BLOB NOT NULL
);

CREATE TABLE recipients (
    id              TEXT PRIMARY KEY,
    message_id      TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position        BIGINT NOT NULL,
    address         TEXT NOT NULL,
    user_id         TEXT REFERENCES users (id),
    link_hash       BLOB UNIQUE,
    passphrase_hash TEXT,
    status          TEXT NOT NULL CHECK (status IN ('delivered', 'read', 'queued', 'sent', 'failed', 'revoked')),
    status_detail   TEXT,
    read_at         BIGINT,
    revoked_at      BIGINT
);
CREATE INDEX recipients_by_message ON recipients (message_id);
CREATE INDEX recipients_by_user ON recipients (user_id);

CREATE TABLE attachments (
    id          TEXT PRIMARY KEY,
    message_id  TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    name        BLOB NOT NULL,
    size        BIGINT NOT NULL,
    blob_key    TEXT NOT NULL
);
CREATE INDEX attachments_by_message ON attachments (message_id);

-- One row per external notification, written in the message's transaction (SECURITY G3).
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    recipient_id    TEXT NOT NULL REFERENCES recipients (id) ON DELETE CASCADE,
    sealed_link     BLOB,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    claim           TEXT,
    next_attempt_at BIGINT NOT NULL,
    first_queued_at BIGINT NOT NULL,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- Append-only record of who did what (the governance issue adds the hash chain).
CREATE TABLE audit_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    object     TEXT,
    outcome    TEXT NOT NULL,
    ip         TEXT,
    user_agent TEXT,
    request_id TEXT
);

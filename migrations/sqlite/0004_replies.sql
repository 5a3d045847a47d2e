-- Secure replies from external recipients, sealed with their message's key. A reply belongs to
-- the message (its thread) and to the recipient row that wrote it; its files are attachments
-- of the same message that name the reply.
CREATE TABLE replies (
    id           TEXT PRIMARY KEY,
    message_id   TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    recipient_id TEXT NOT NULL REFERENCES recipients (id) ON DELETE CASCADE,
    body         BLOB NOT NULL,
    created_at   BIGINT NOT NULL,
    -- When the sender first opened the thread after the reply arrived.
    read_at      BIGINT
);
CREATE INDEX replies_by_message ON replies (message_id, created_at);

-- A verified recipient's session lists every message to their address.
CREATE INDEX recipients_by_address ON recipients (address);

ALTER TABLE attachments ADD COLUMN reply_id TEXT REFERENCES replies (id) ON DELETE CASCADE;

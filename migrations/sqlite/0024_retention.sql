-- Retention and erasure (issue 19). A message is crypto-shredded by deleting its key row
-- (message_keys: every wrap of its key) and its sealed blobs; its metadata stays (reference,
-- sender, recipients, dates, marking, sizes). shredded_at says when, shred_reason why:
-- 'retention' (its time under the council's schedule was up) or 'erased' (IG erased it).
ALTER TABLE messages ADD COLUMN shredded_at BIGINT;
ALTER TABLE messages ADD COLUMN shred_reason TEXT CHECK (shred_reason IN ('retention', 'erased'));
-- For an erasure, the IG officer's reason (IG sees it in the message's timeline).
ALTER TABLE messages ADD COLUMN shred_note TEXT;
CREATE INDEX messages_unshredded ON messages (created_at) WHERE shredded_at IS NULL;

-- A message on legal hold is never shredded, by retention or by erasure, until IG lifts it.
CREATE TABLE legal_holds (
    message_id TEXT PRIMARY KEY REFERENCES messages (id),
    reason     TEXT NOT NULL,
    placed_by  TEXT NOT NULL REFERENCES users (id),
    placed_at  BIGINT NOT NULL
);

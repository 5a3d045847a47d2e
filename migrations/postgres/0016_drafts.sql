-- Drafts: what a member of staff is still writing, seen by nobody else. Each draft has its own
-- key, wrapped to the master and escrow recipients like a message key and bound to the draft's
-- id; its fields are one sealed JSON document and its files sealed blobs, as a message's are.
-- Sending a draft makes the message under the same id and key: its files become the message's
-- without being sealed again, and the draft's rows go in the send's transaction.
CREATE TABLE drafts (
    id         TEXT PRIMARY KEY,
    owner_id   TEXT NOT NULL REFERENCES users (id),
    wrapped    BYTEA NOT NULL,
    content    BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX drafts_by_owner ON drafts (owner_id, updated_at);

CREATE TABLE draft_attachments (
    id         TEXT PRIMARY KEY,
    draft_id   TEXT NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
    position   BIGINT NOT NULL,
    name       BYTEA NOT NULL,
    size       BIGINT NOT NULL,
    blob_key   TEXT NOT NULL
);
CREATE INDEX draft_attachments_by_draft ON draft_attachments (draft_id);
CREATE INDEX draft_attachments_by_blob ON draft_attachments (blob_key);

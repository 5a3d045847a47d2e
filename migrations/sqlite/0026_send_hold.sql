-- Undo send (issue 20). A message in its sender's undo window has held_until set: nobody but
-- its sender sees it, and its notifications wait in the outbox until then (their
-- next_attempt_at is held_until, so a restart keeps the hold). Once the window is over it is
-- released: held_until is NULL again. A message its sender cancels in the window is
-- crypto-shredded with shredded_at set and shred_reason NULL: "recalled" (the CHECK on
-- shred_reason predates recall, and SQLite cannot change a CHECK).
ALTER TABLE messages ADD COLUMN held_until BIGINT;
CREATE INDEX messages_held ON messages (held_until) WHERE held_until IS NOT NULL;

-- The marking policy's most opens per partner (issue 20): max_opens on the message (NULL: no
-- limit), and each recipient's opens so far, counted in one conditional UPDATE per open.
ALTER TABLE messages ADD COLUMN max_opens BIGINT;
ALTER TABLE recipients ADD COLUMN opens BIGINT NOT NULL DEFAULT 0;

-- The marking policy's view-only files (issue 20): partners may view this message's files in
-- the browser (images, PDF, text) but not download them.
ALTER TABLE messages ADD COLUMN view_only_files BOOLEAN NOT NULL DEFAULT FALSE;

-- Which portal sessions have opened which recipient's message: an open is counted once per
-- session (reading again, downloading a file or replying in that session is not another
-- open), and a file downloads only in a session that counted an open.
CREATE TABLE portal_opens (
    token_hash   BLOB NOT NULL REFERENCES portal_sessions (token_hash) ON DELETE CASCADE,
    recipient_id TEXT NOT NULL REFERENCES recipients (id) ON DELETE CASCADE,
    PRIMARY KEY (token_hash, recipient_id)
);

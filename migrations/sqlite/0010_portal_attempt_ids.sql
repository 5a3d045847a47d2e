-- Portal attempts are recorded before they are checked (SECURITY B3, B4, A10), so that N
-- parallel guesses are never N evaluations; a right passphrase then forgets its own attempt,
-- which needs an id. Rows from before this migration have none and simply age out.
ALTER TABLE portal_attempts ADD COLUMN id TEXT;
CREATE INDEX portal_attempts_by_id ON portal_attempts (id);

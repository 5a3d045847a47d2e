-- Folders: each person's own filing of the messages they can read. No row: the message is in
-- its natural box (Inbox, or Sent). Archived messages leave the Inbox; deleted ones leave the
-- Inbox and Sent for the Deleted box, and after the configured days (or "Empty Deleted") are
-- listed nowhere for that person. The message itself, and everyone else's view of it, is
-- untouched: deleting it for good is retention's (issue 19).
CREATE TABLE mail_folders (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    folder     TEXT NOT NULL CHECK (folder IN ('archive', 'deleted', 'purged')),
    moved_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, message_id)
);

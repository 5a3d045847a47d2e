-- Colleagues are told by email that secure mail is waiting (no content: sender, marking,
-- reference, a link to the message), through the same outbox as partners' notifications, unless
-- they have turned it off.
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'link' CHECK (kind IN ('link', 'colleague'));
ALTER TABLE users ADD COLUMN notify_by_email BOOLEAN NOT NULL DEFAULT TRUE;

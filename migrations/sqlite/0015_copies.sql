-- Copies: each recipient is on the To, CC or BCC line. A blind copy is known only to the sender;
-- every other reader's view leaves it out (the rule lives in the server's disclosure module).
ALTER TABLE recipients ADD COLUMN addressed TEXT NOT NULL DEFAULT 'to' CHECK (addressed IN ('to', 'cc', 'bcc'));

-- Conversations: a message written in answer to another joins its thread. `thread_id` names the
-- message that started the conversation (every message before this migration starts its own);
-- `in_reply_to` the message it answers. Who may read each part is still that part's own sender
-- and recipients: the thread only orders and links them.
ALTER TABLE messages ADD COLUMN thread_id TEXT;
ALTER TABLE messages ADD COLUMN in_reply_to TEXT;
UPDATE messages SET thread_id = id;
CREATE INDEX messages_thread ON messages (thread_id, created_at);

-- A partner's open checks that each message of the conversation (and a message opened from
-- another message's session) was sent to their address: a lookup by message and address
-- together. With an index on the address alone, SQLite (which keeps no statistics unless
-- asked) visited every recipient row of the partner's address for each message: about 1 ms
-- a query once 10,000 messages have gone to one address, 0.008 ms with this index (issue 22).
-- It serves every lookup by message too, so the index on the message alone goes.
CREATE INDEX recipients_by_message_address ON recipients (message_id, address);
DROP INDEX recipients_by_message;

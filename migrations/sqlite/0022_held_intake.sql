-- OFFICIAL-SENSITIVE mail from Outlook to people outside the council (issue 18) needs a
-- passphrase, which email cannot carry: the intake keeps it as a draft of its sender's, held
-- until this time (24 hours on), for them to add the passphrase and send it from Sealpost. A
-- held draft still here at that time is discarded and its sender told.
ALTER TABLE drafts ADD COLUMN held_until BIGINT;
CREATE INDEX drafts_held ON drafts (held_until) WHERE held_until IS NOT NULL;

-- Mail taken in from Outlook (issue 18) may be HTML: its cleaned HTML (SECURITY D1), sealed
-- with the message key like the text body, shown in a sandboxed frame beside the text (D2).
-- NULL for every message written in Sealpost, which is text only.
ALTER TABLE messages ADD COLUMN body_html BLOB;

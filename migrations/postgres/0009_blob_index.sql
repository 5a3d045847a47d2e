-- The orphan-blob sweep (SECURITY G2) asks, for each sealed file in the blob store, whether an
-- attachment row still names it: one indexed lookup per file.
CREATE INDEX attachments_by_blob ON attachments (blob_key);

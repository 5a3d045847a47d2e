-- A telephone number a member of staff may give, shown to partners on notifications and on the
-- link's dead-end pages as a way to reach the sender. Optional; set by IT.
ALTER TABLE users ADD COLUMN phone TEXT;

-- Single sign-on (issue 17). An account is linked to the council's identity provider by the
-- person's stable id there (Entra's object id, `oid`, or else the subject), once it is first
-- matched by address; after that the address claim no longer matters. A sign-in started but
-- not yet back from the provider keeps its nonce and PKCE verifier here for ten minutes, under
-- the hash of its state; the callback deletes the row as it reads it, so a state works once.
ALTER TABLE users ADD COLUMN sso_id TEXT;
CREATE UNIQUE INDEX users_sso_id ON users (sso_id);

CREATE TABLE sso_logins (
    state_hash    BYTEA PRIMARY KEY,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

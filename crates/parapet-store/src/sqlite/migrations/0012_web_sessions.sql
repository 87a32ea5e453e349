-- Browser sessions and OpenID Connect logins in progress, in the database so
-- that every replica of the server knows them. Only hashes of the cookies
-- and of the login's state are kept, never a secret.
CREATE TABLE web_sessions (
    id_hash     TEXT    PRIMARY KEY,           -- SHA-256 of the session cookie
    name        TEXT    NOT NULL,              -- who
    scope       TEXT    NOT NULL,              -- read-only | read-write
    token_hash  TEXT,                          -- the API token it was made from, if any
    expires_at  INTEGER NOT NULL
);

CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

CREATE TABLE oidc_logins (
    state_hash   TEXT    PRIMARY KEY,          -- SHA-256 of the login's `state`
    binding_hash TEXT    NOT NULL,             -- SHA-256 of the browser's login cookie
    expires_at   INTEGER NOT NULL
);

CREATE INDEX oidc_logins_expiry ON oidc_logins (expires_at);

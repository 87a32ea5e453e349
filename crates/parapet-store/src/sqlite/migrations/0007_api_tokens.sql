-- API tokens for the HTTP API and the web UI. Only a SHA-256 hash of each
-- token is kept: the token itself is shown once, when it is created.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    scope        TEXT    NOT NULL,             -- read-only | read-write
    hash         TEXT    NOT NULL UNIQUE,      -- hex SHA-256 of the token
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

-- The inventory lists current assets by type and by name.
CREATE INDEX assets_type ON assets (resource_type, id);

-- Parapet store, schema version 3: the notification outbox. A row is written
-- in the same transaction as the finding change that causes it, one per
-- channel the change is routed to, and delivered later by a worker that
-- retries with backoff; after its last attempt it stays, marked failed.

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    event_id        INTEGER NOT NULL REFERENCES events (id),
    channel         TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL UNIQUE,
    change          TEXT    NOT NULL,            -- JSON: parapet_store::FindingChange
    status          TEXT    NOT NULL,            -- pending | delivered | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER
);

CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

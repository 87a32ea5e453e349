-- Parapet store, schema version 1. Times are milliseconds since the Unix epoch, UTC.

CREATE TABLE scans (
    id             INTEGER PRIMARY KEY,
    scope          TEXT    NOT NULL,          -- JSON: parapet_core::Scope
    source         TEXT    NOT NULL,
    started_at     INTEGER NOT NULL,
    finished_at    INTEGER,
    status         TEXT    NOT NULL,          -- running | complete | partial
    counts         TEXT    NOT NULL,          -- JSON: parapet_core::ScanCounts
    errors         TEXT    NOT NULL           -- JSON: [parapet_core::CollectionError]
);

CREATE TABLE assets (
    id             TEXT    PRIMARY KEY,
    provider       TEXT    NOT NULL,
    account        TEXT    NOT NULL,
    region         TEXT    NOT NULL,
    resource_type  TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    tags           TEXT    NOT NULL,          -- JSON object, for mutes by tag
    content_hash   TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    first_seen     INTEGER NOT NULL,
    last_seen      INTEGER NOT NULL,
    deleted_at     INTEGER
) WITHOUT ROWID;

CREATE INDEX assets_account ON assets (provider, account);

-- A rowid table: documents are large, and appending is cheap.
CREATE TABLE asset_versions (
    asset_id       TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    content_hash   TEXT    NOT NULL,
    observed_at    INTEGER NOT NULL,
    document       TEXT    NOT NULL           -- JSON: parapet_core::Asset
);

CREATE UNIQUE INDEX asset_versions_key ON asset_versions (asset_id, version);

CREATE TABLE findings (
    rule_id        TEXT    NOT NULL,
    asset_id       TEXT    NOT NULL,
    account        TEXT    NOT NULL,
    region         TEXT    NOT NULL,
    resource_type  TEXT    NOT NULL,
    severity       INTEGER NOT NULL,          -- rank: 0 critical, 1 high, 2 medium, 3 low, 4 informational
    status         TEXT,                      -- open | resolved | reopened; NULL until it first fails
    first_seen     INTEGER,                   -- when it first failed
    last_seen      INTEGER NOT NULL,          -- when it was last evaluated
    resolved_at    INTEGER,
    result         TEXT    NOT NULL,          -- latest evaluation: pass | fail | unknown | error
    message        TEXT    NOT NULL,
    evidence       TEXT    NOT NULL,          -- JSON object
    muted_by       INTEGER,                   -- the mute in force, if any
    PRIMARY KEY (rule_id, asset_id)
) WITHOUT ROWID;

-- Listings read findings in report order (most severe first, the lowest rank),
-- filtered; every column ascending, so a page can start from a cursor.
CREATE INDEX findings_order ON findings (severity, rule_id, asset_id) WHERE status IS NOT NULL;
CREATE INDEX findings_rule ON findings (rule_id, severity, asset_id) WHERE status IS NOT NULL;
CREATE INDEX findings_account ON findings (account, severity, rule_id, asset_id) WHERE status IS NOT NULL;
CREATE INDEX findings_asset ON findings (asset_id);

CREATE TABLE events (
    id             INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    kind           TEXT    NOT NULL,
    asset_id       TEXT    NOT NULL,
    account        TEXT    NOT NULL,
    rule_id        TEXT,
    scan_id        INTEGER,
    detail         TEXT    NOT NULL           -- JSON
);

CREATE INDEX events_asset ON events (asset_id, id);
CREATE INDEX events_account ON events (account, id);
CREATE INDEX events_rule ON events (rule_id, id) WHERE rule_id IS NOT NULL;
CREATE INDEX events_kind ON events (kind, id);
CREATE INDEX events_at ON events (at);

CREATE TABLE mutes (
    id             INTEGER PRIMARY KEY,
    selector       TEXT    NOT NULL,          -- JSON: parapet_core::MuteSelector
    reason         TEXT    NOT NULL,
    author         TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER,
    lifted_at      INTEGER
);

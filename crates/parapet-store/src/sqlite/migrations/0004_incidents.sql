-- Parapet store, schema version 4: incidents. Findings that need work are
-- grouped into incidents (by rule and account, or by asset), each with its
-- status (open, acknowledged, resolved), an owner and its own timeline.

CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY,
    group_key       TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    severity        INTEGER NOT NULL,            -- 0 critical .. 4 informational
    status          TEXT    NOT NULL,            -- open | acknowledged | resolved
    owner           TEXT,
    opened_at       INTEGER NOT NULL,
    acknowledged_at INTEGER,
    resolved_at     INTEGER
);

CREATE INDEX incidents_by_group ON incidents (group_key, status);

-- The incident each finding belongs to (the latest one it was grouped in).
CREATE TABLE incident_findings (
    rule_id     TEXT    NOT NULL,
    asset_id    TEXT    NOT NULL,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    PRIMARY KEY (rule_id, asset_id)
) WITHOUT ROWID;

CREATE INDEX incident_findings_by_incident ON incident_findings (incident_id);

CREATE TABLE incident_events (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,                -- opened | finding_added | acknowledged | resolved | reopened
    detail      TEXT    NOT NULL                 -- JSON
);

CREATE INDEX incident_events_by_incident ON incident_events (incident_id, id);

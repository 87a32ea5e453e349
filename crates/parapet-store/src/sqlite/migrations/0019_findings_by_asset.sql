-- Findings are kept in the order of their asset, then their rule: SQLite
-- keeps a table in the order of its key, and a scan reads and writes the
-- results of one asset after another (a rescan reads every stored result
-- of the assets it evaluates again). Keyed by rule first, an asset's
-- results lay in as many places of the table as it has rules; the index
-- by asset that found them goes, as the key now serves it.
DROP TRIGGER finding_counts_asset_life;

CREATE TABLE findings_by_asset (
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
    PRIMARY KEY (asset_id, rule_id)
) WITHOUT ROWID;

INSERT INTO findings_by_asset (rule_id, asset_id, account, region, resource_type, severity, status,
                               first_seen, last_seen, resolved_at, result, message, evidence, muted_by)
SELECT rule_id, asset_id, account, region, resource_type, severity, status,
       first_seen, last_seen, resolved_at, result, message, evidence, muted_by
FROM findings ORDER BY asset_id, rule_id;

DROP TABLE findings;
ALTER TABLE findings_by_asset RENAME TO findings;

CREATE INDEX findings_order ON findings (severity, rule_id, asset_id) WHERE status IS NOT NULL;
CREATE INDEX findings_rule ON findings (rule_id, severity, asset_id) WHERE status IS NOT NULL;
CREATE INDEX findings_account ON findings (account, severity, rule_id, asset_id) WHERE status IS NOT NULL;

CREATE TRIGGER finding_counts_insert AFTER INSERT ON findings BEGIN
    INSERT INTO finding_counts (account, rule_id, severity, result, open, muted, live, n)
    VALUES (NEW.account, NEW.rule_id, NEW.severity, NEW.result,
            coalesce(NEW.status IN ('open', 'reopened'), 0), NEW.muted_by IS NOT NULL,
            coalesce((SELECT deleted_at IS NULL FROM assets WHERE id = NEW.asset_id), 1), 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER finding_counts_delete AFTER DELETE ON findings BEGIN
    UPDATE finding_counts SET n = n - 1
    WHERE account = OLD.account AND rule_id = OLD.rule_id AND severity = OLD.severity AND result = OLD.result
      AND open = coalesce(OLD.status IN ('open', 'reopened'), 0)
      AND muted = (OLD.muted_by IS NOT NULL)
      AND live = coalesce((SELECT deleted_at IS NULL FROM assets WHERE id = OLD.asset_id), 1);
END;

CREATE TRIGGER finding_counts_update
AFTER UPDATE OF account, rule_id, severity, result, status, muted_by ON findings
WHEN OLD.result IS NOT NEW.result OR OLD.status IS NOT NEW.status
  OR (OLD.muted_by IS NULL) <> (NEW.muted_by IS NULL) OR OLD.severity IS NOT NEW.severity
  OR OLD.account IS NOT NEW.account OR OLD.rule_id IS NOT NEW.rule_id
BEGIN
    UPDATE finding_counts SET n = n - 1
    WHERE account = OLD.account AND rule_id = OLD.rule_id AND severity = OLD.severity AND result = OLD.result
      AND open = coalesce(OLD.status IN ('open', 'reopened'), 0)
      AND muted = (OLD.muted_by IS NOT NULL)
      AND live = coalesce((SELECT deleted_at IS NULL FROM assets WHERE id = OLD.asset_id), 1);
    INSERT INTO finding_counts (account, rule_id, severity, result, open, muted, live, n)
    VALUES (NEW.account, NEW.rule_id, NEW.severity, NEW.result,
            coalesce(NEW.status IN ('open', 'reopened'), 0), NEW.muted_by IS NOT NULL,
            coalesce((SELECT deleted_at IS NULL FROM assets WHERE id = NEW.asset_id), 1), 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER finding_counts_asset_life AFTER UPDATE OF deleted_at ON assets
WHEN (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
BEGIN
    UPDATE finding_counts SET n = n - (
        SELECT count(*) FROM findings f
        WHERE f.asset_id = NEW.id AND f.account = finding_counts.account
          AND f.rule_id = finding_counts.rule_id AND f.severity = finding_counts.severity AND f.result = finding_counts.result
          AND coalesce(f.status IN ('open', 'reopened'), 0) = finding_counts.open
          AND (f.muted_by IS NOT NULL) = finding_counts.muted)
    WHERE live = (OLD.deleted_at IS NULL);
    INSERT INTO finding_counts (account, rule_id, severity, result, open, muted, live, n)
        SELECT account, rule_id, severity, result, coalesce(status IN ('open', 'reopened'), 0),
               muted_by IS NOT NULL, NEW.deleted_at IS NULL, count(*)
        FROM findings WHERE asset_id = NEW.id GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;

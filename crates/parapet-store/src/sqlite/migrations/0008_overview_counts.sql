-- What the overview shows, kept current by triggers in the transaction of
-- every write, so that it is read from a few hundred rows rather than
-- aggregated from every finding and event (seconds on large estates).

-- Latest results counted by account, rule, severity, result, whether the
-- finding is open, whether a mute covers it, and whether its asset exists
-- now: the overview and compliance read them.
CREATE TABLE finding_counts (
    account  TEXT    NOT NULL,
    rule_id  TEXT    NOT NULL,
    severity INTEGER NOT NULL,
    result   TEXT    NOT NULL,
    open     INTEGER NOT NULL,
    muted    INTEGER NOT NULL,
    live     INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (account, rule_id, severity, result, open, muted, live)
) WITHOUT ROWID;

INSERT INTO finding_counts (account, rule_id, severity, result, open, muted, live, n)
    SELECT f.account, f.rule_id, f.severity, f.result,
           coalesce(f.status IN ('open', 'reopened'), 0), f.muted_by IS NOT NULL,
           coalesce((SELECT a.deleted_at IS NULL FROM assets a WHERE a.id = f.asset_id), 1),
           count(*)
    FROM findings f GROUP BY 1, 2, 3, 4, 5, 6, 7;

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

-- An asset deleted or seen again moves its findings between live and not.
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

-- Findings opened (or reopened) and resolved per day (UTC).
CREATE TABLE finding_trend (
    day      INTEGER PRIMARY KEY,   -- days since 1970-01-01
    opened   INTEGER NOT NULL,
    resolved INTEGER NOT NULL
);

INSERT INTO finding_trend (day, opened, resolved)
    SELECT at / 86400000, sum(kind <> 'finding_resolved'), sum(kind = 'finding_resolved')
    FROM events WHERE kind IN ('finding_opened', 'finding_reopened', 'finding_resolved')
    GROUP BY 1;

CREATE TRIGGER finding_trend_event AFTER INSERT ON events
WHEN NEW.kind IN ('finding_opened', 'finding_reopened', 'finding_resolved')
BEGIN
    INSERT INTO finding_trend (day, opened, resolved)
    VALUES (NEW.at / 86400000, NEW.kind <> 'finding_resolved', NEW.kind = 'finding_resolved')
    ON CONFLICT DO UPDATE SET opened = opened + excluded.opened, resolved = resolved + excluded.resolved;
END;

-- The inventory's facets and counts read this index alone.
CREATE INDEX assets_place ON assets (deleted_at, provider, account, region, resource_type);

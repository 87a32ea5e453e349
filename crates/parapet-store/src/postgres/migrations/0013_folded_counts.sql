-- The overview's counters, folded once per transaction. Kept row by row (as
-- SQLite keeps them), a scan of 100,000 findings updates one counter row
-- 100,000 times in one transaction, and PostgreSQL walks every earlier
-- version of that row at each update. Instead each write appends its delta,
-- tagged with its transaction, and the transaction folds its deltas into the
-- counters just before it commits (parapet_fold, which the store calls).

CREATE TABLE finding_count_log (
    tx       BIGINT NOT NULL,
    account  TEXT COLLATE "C" NOT NULL,
    rule_id  TEXT COLLATE "C" NOT NULL,
    severity BIGINT NOT NULL,
    result   TEXT COLLATE "C" NOT NULL,
    open     BIGINT NOT NULL,
    muted    BIGINT NOT NULL,
    live     BIGINT NOT NULL,
    delta    BIGINT NOT NULL
);

CREATE INDEX finding_count_log_tx ON finding_count_log (tx);

CREATE TABLE finding_trend_log (
    tx       BIGINT NOT NULL,
    day      BIGINT NOT NULL,
    opened   BIGINT NOT NULL,
    resolved BIGINT NOT NULL
);

CREATE INDEX finding_trend_log_tx ON finding_trend_log (tx);

CREATE OR REPLACE FUNCTION finding_count(f findings, delta BIGINT) RETURNS VOID LANGUAGE sql AS $$
    INSERT INTO finding_count_log (tx, account, rule_id, severity, result, open, muted, live, delta)
    VALUES (txid_current(), f.account, f.rule_id, f.severity, f.result,
            CASE WHEN f.status IN ('open', 'reopened') THEN 1 ELSE 0 END,
            CASE WHEN f.muted_by IS NULL THEN 0 ELSE 1 END,
            finding_live(f.asset_id), delta)
$$;

CREATE OR REPLACE FUNCTION finding_counts_asset_life() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO finding_count_log (tx, account, rule_id, severity, result, open, muted, live, delta)
        SELECT txid_current(), account, rule_id, severity, result,
               CASE WHEN status IN ('open', 'reopened') THEN 1 ELSE 0 END,
               CASE WHEN muted_by IS NULL THEN 0 ELSE 1 END,
               CASE WHEN OLD.deleted_at IS NULL THEN 1 ELSE 0 END, -1
        FROM findings WHERE asset_id = NEW.id;
    INSERT INTO finding_count_log (tx, account, rule_id, severity, result, open, muted, live, delta)
        SELECT txid_current(), account, rule_id, severity, result,
               CASE WHEN status IN ('open', 'reopened') THEN 1 ELSE 0 END,
               CASE WHEN muted_by IS NULL THEN 0 ELSE 1 END,
               CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE 0 END, 1
        FROM findings WHERE asset_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION finding_trend_follow() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO finding_trend_log (tx, day, opened, resolved)
    VALUES (txid_current(), NEW.at / 86400000,
            CASE WHEN NEW.kind <> 'finding_resolved' THEN 1 ELSE 0 END,
            CASE WHEN NEW.kind = 'finding_resolved' THEN 1 ELSE 0 END);
    RETURN NULL;
END
$$;

-- Folds this transaction's deltas into the counters.
CREATE FUNCTION parapet_fold() RETURNS VOID LANGUAGE sql AS $$
    INSERT INTO finding_counts AS c (account, rule_id, severity, result, open, muted, live, n)
        SELECT account, rule_id, severity, result, open, muted, live, sum(delta)
        FROM finding_count_log WHERE tx = txid_current()
        GROUP BY account, rule_id, severity, result, open, muted, live
    ON CONFLICT (account, rule_id, severity, result, open, muted, live) DO UPDATE SET n = c.n + excluded.n;
    DELETE FROM finding_count_log WHERE tx = txid_current();
    INSERT INTO finding_trend AS t (day, opened, resolved)
        SELECT day, sum(opened), sum(resolved) FROM finding_trend_log WHERE tx = txid_current() GROUP BY day
    ON CONFLICT (day) DO UPDATE SET opened = t.opened + excluded.opened, resolved = t.resolved + excluded.resolved;
    DELETE FROM finding_trend_log WHERE tx = txid_current();
$$;

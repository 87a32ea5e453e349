-- History kept for years: asset versions, events and the outbox partitioned
-- by month (of observed_at, at and created_at, milliseconds since the epoch,
-- UTC), so that a month's history is one table that prune can drop whole and
-- a query for a period reads only its months. A partition key belongs to
-- every unique key: versions are unique by (asset_id, version, observed_at),
-- which the store's locks make unique by (asset_id, version) as before;
-- an outbox row's event is no longer a foreign key (prune keeps the events
-- of pending notifications itself). Rows of a month with no partition yet
-- land in the default partition; parapet_partitions moves them to their
-- month's own.

-- The first millisecond of the month `at` falls in.
CREATE FUNCTION parapet_month(at BIGINT) RETURNS BIGINT LANGUAGE sql IMMUTABLE AS $$
    SELECT (extract(epoch FROM date_trunc('month', to_timestamp(at / 1000.0) AT TIME ZONE 'UTC')) * 1000)::BIGINT
$$;

-- The first millisecond of the month after the one `at` falls in.
CREATE FUNCTION parapet_next_month(at BIGINT) RETURNS BIGINT LANGUAGE sql IMMUTABLE AS $$
    SELECT (extract(epoch FROM date_trunc('month', to_timestamp(at / 1000.0) AT TIME ZONE 'UTC') + interval '1 month') * 1000)::BIGINT
$$;

-- Gives `parent` (partitioned by `key`) a partition for the month `at` falls
-- in, when it has none, moving that month's rows out of the default
-- partition into it.
CREATE FUNCTION parapet_partition(parent TEXT, key TEXT, at BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    lo BIGINT := parapet_month(at);
    hi BIGINT := parapet_next_month(at);
    part TEXT := parent || '_' || to_char(to_timestamp(lo / 1000.0) AT TIME ZONE 'UTC', '"y"YYYY"m"MM');
BEGIN
    IF to_regclass(part) IS NOT NULL THEN
        RETURN;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS)', part, parent);
    EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= %s AND %I < %s RETURNING *) INSERT INTO %I SELECT * FROM moved',
                   parent || '_default', key, lo, key, hi, part);
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', parent, part, lo, hi);
END
$$;

-- Partitions for every month with rows in a default partition, and for the
-- month `at` falls in and the two after it.
-- Under the migration lock, so that processes starting together do not
-- both create one month.
CREATE FUNCTION parapet_partitions(at BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    t RECORD;
    month BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(8097879367811953665);
    FOR t IN SELECT * FROM (VALUES ('asset_versions', 'observed_at'), ('events', 'at'), ('outbox', 'created_at')) AS p (parent, key) LOOP
        FOR month IN EXECUTE format('SELECT DISTINCT parapet_month(%I) FROM %I', t.key, t.parent || '_default') LOOP
            PERFORM parapet_partition(t.parent, t.key, month);
        END LOOP;
        month := parapet_month(at);
        FOR i IN 1..3 LOOP
            PERFORM parapet_partition(t.parent, t.key, month);
            month := parapet_next_month(month);
        END LOOP;
    END LOOP;
END
$$;

-- Drops the months wholly before `cutoff` that hold nothing prune keeps
-- (see parapet_store's retention), oldest first, after making sure every
-- month has its partition; returns the rows each table lost. What is left
-- before the cutoff, prune's statements remove row by row.
CREATE FUNCTION parapet_drop_months(cutoff BIGINT) RETURNS TABLE (parent TEXT, removed BIGINT) LANGUAGE plpgsql AS $$
DECLARE
    part TEXT;
    kept BOOLEAN;
    n BIGINT;
BEGIN
    PERFORM parapet_partitions((extract(epoch FROM now()) * 1000)::BIGINT);
    FOREACH parent IN ARRAY ARRAY['asset_versions', 'outbox', 'events'] LOOP
        FOR part IN
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = parent::regclass AND c.relname <> parent || '_default'
            ORDER BY c.relname
        LOOP
            IF parapet_next_month((extract(epoch FROM to_date(right(part, 8), '"y"YYYY"m"MM')::timestamp AT TIME ZONE 'UTC') * 1000)::BIGINT) > cutoff THEN
                CONTINUE;
            END IF;
            EXECUTE format(CASE parent
                WHEN 'asset_versions' THEN
                    'SELECT EXISTS (SELECT 1 FROM %1$I v WHERE NOT EXISTS (SELECT 1 FROM asset_versions w WHERE w.asset_id = v.asset_id AND w.version > v.version AND w.observed_at <= $1) '
                    'AND NOT EXISTS (SELECT 1 FROM assets a WHERE a.id = v.asset_id AND a.deleted_at < $1))'
                WHEN 'outbox' THEN
                    'SELECT EXISTS (SELECT 1 FROM %1$I WHERE status = ''pending'')'
                ELSE
                    'SELECT EXISTS (SELECT 1 FROM outbox o JOIN %1$I e ON e.id = o.event_id WHERE o.status = ''pending'' OR o.created_at >= $1)'
                END, part) INTO kept USING cutoff;
            IF kept THEN
                CONTINUE;
            END IF;
            EXECUTE format('SELECT count(*) FROM %I', part) INTO n;
            EXECUTE format('DROP TABLE %I', part);
            removed := n;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;

ALTER TABLE asset_versions RENAME TO asset_versions_unpartitioned;
ALTER TABLE asset_versions_unpartitioned RENAME CONSTRAINT asset_versions_pkey TO asset_versions_unpartitioned_pkey;
CREATE TABLE asset_versions (
    asset_id       TEXT COLLATE "C" NOT NULL,
    version        BIGINT  NOT NULL,
    content_hash   TEXT    NOT NULL,
    observed_at    BIGINT  NOT NULL,
    document       TEXT    NOT NULL,          -- JSON: parapet_core::Asset
    PRIMARY KEY (asset_id, version, observed_at)
) PARTITION BY RANGE (observed_at);
CREATE TABLE asset_versions_default PARTITION OF asset_versions DEFAULT;
INSERT INTO asset_versions SELECT * FROM asset_versions_unpartitioned;
DROP TABLE asset_versions_unpartitioned;

ALTER TABLE outbox DROP CONSTRAINT outbox_event_id_fkey;

ALTER TABLE events RENAME TO events_unpartitioned;
ALTER TABLE events_unpartitioned RENAME CONSTRAINT events_pkey TO events_unpartitioned_pkey;
ALTER INDEX events_asset RENAME TO events_unpartitioned_asset;
ALTER INDEX events_account RENAME TO events_unpartitioned_account;
ALTER INDEX events_rule RENAME TO events_unpartitioned_rule;
ALTER INDEX events_kind RENAME TO events_unpartitioned_kind;
ALTER INDEX events_at RENAME TO events_unpartitioned_at;
CREATE TABLE events (
    id             BIGINT GENERATED BY DEFAULT AS IDENTITY,
    at             BIGINT  NOT NULL,
    kind           TEXT COLLATE "C" NOT NULL,
    asset_id       TEXT COLLATE "C" NOT NULL,
    account        TEXT COLLATE "C" NOT NULL,
    rule_id        TEXT COLLATE "C",
    scan_id        BIGINT,
    detail         TEXT    NOT NULL,          -- JSON
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE INDEX events_id ON events (id);
CREATE INDEX events_asset ON events (asset_id, id);
CREATE INDEX events_account ON events (account, id);
CREATE INDEX events_rule ON events (rule_id, id) WHERE rule_id IS NOT NULL;
CREATE INDEX events_kind ON events (kind, id);
CREATE INDEX events_at ON events (at);
INSERT INTO events SELECT * FROM events_unpartitioned;
SELECT setval(pg_get_serial_sequence('events', 'id'), coalesce((SELECT max(id) FROM events), 0) + 1, false);
DROP TABLE events_unpartitioned;
CREATE TRIGGER finding_trend_event AFTER INSERT ON events
    FOR EACH ROW WHEN (NEW.kind IN ('finding_opened', 'finding_reopened', 'finding_resolved'))
    EXECUTE FUNCTION finding_trend_follow();

ALTER TABLE outbox RENAME TO outbox_unpartitioned;
ALTER TABLE outbox_unpartitioned RENAME CONSTRAINT outbox_pkey TO outbox_unpartitioned_pkey;
ALTER TABLE outbox_unpartitioned RENAME CONSTRAINT outbox_idempotency_key_key TO outbox_unpartitioned_idempotency_key_key;
ALTER INDEX outbox_due RENAME TO outbox_unpartitioned_due;
ALTER INDEX outbox_incident RENAME TO outbox_unpartitioned_incident;
CREATE TABLE outbox (
    id              BIGINT GENERATED BY DEFAULT AS IDENTITY,
    event_id        BIGINT  NOT NULL,
    channel         TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,            -- unique: it names the event, whose id is
    change          TEXT    NOT NULL,            -- JSON: parapet_store::FindingChange
    status          TEXT    NOT NULL,            -- pending | delivered | failed
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    delivered_at    BIGINT,
    incident_id     BIGINT,
    PRIMARY KEY (id, created_at),
    UNIQUE (idempotency_key, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE outbox_default PARTITION OF outbox DEFAULT;
CREATE INDEX outbox_id ON outbox (id);
CREATE INDEX outbox_event ON outbox (event_id);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_incident ON outbox (incident_id, id) WHERE incident_id IS NOT NULL;
INSERT INTO outbox SELECT * FROM outbox_unpartitioned;
SELECT setval(pg_get_serial_sequence('outbox', 'id'), coalesce((SELECT max(id) FROM outbox), 0) + 1, false);
DROP TABLE outbox_unpartitioned;

SELECT parapet_partitions((extract(epoch FROM now()) * 1000)::BIGINT);

-- The job queue workers share: units of work (a plan, one account x region
-- x service collected, one account's scan recorded) claimed under leases.
-- Jobs of one group (`grp`) run stage after stage.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    run_id       INTEGER,                  -- the job that planned it
    grp          TEXT    NOT NULL,
    stage        INTEGER NOT NULL,
    payload      TEXT    NOT NULL,         -- JSON, the kind's own
    status       TEXT    NOT NULL,         -- queued | running | done | failed
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    reclaims     INTEGER NOT NULL DEFAULT 0, -- claims of a job whose lease had passed
    owner        TEXT,                     -- the worker holding (or that last held) it
    lease_until  INTEGER,
    not_before   INTEGER NOT NULL,         -- not claimed before (a retry's backoff)
    result       TEXT,                     -- JSON, once done
    error        TEXT,
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER
);

CREATE INDEX jobs_ready ON jobs (status, id);
CREATE INDEX jobs_group ON jobs (grp, stage, status);
CREATE INDEX jobs_run ON jobs (run_id, id);

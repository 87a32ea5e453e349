-- When each place (an account's resource type in one region) was last
-- collected whole: by a scan that covered it, failed nowhere in it and so
-- saw every live asset there (those it did not see it marked deleted). An
-- asset seen again unchanged is not written again; it was last seen when
-- its place was, if that is later than its own `last_seen`.
CREATE TABLE place_seen (
    provider      TEXT    NOT NULL,
    account       TEXT    NOT NULL,
    region        TEXT    NOT NULL,
    resource_type TEXT    NOT NULL,
    seen_at       INTEGER NOT NULL,
    PRIMARY KEY (provider, account, region, resource_type)
) WITHOUT ROWID;

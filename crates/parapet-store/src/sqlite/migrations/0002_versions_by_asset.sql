-- Parapet store, schema version 2: asset versions clustered by asset, so a
-- new version is one B-tree insert rather than a row and an index entry, and
-- an asset's history is read from adjacent pages.

CREATE TABLE asset_versions_by_asset (
    asset_id       TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    content_hash   TEXT    NOT NULL,
    observed_at    INTEGER NOT NULL,
    document       TEXT    NOT NULL,          -- JSON: parapet_core::Asset
    PRIMARY KEY (asset_id, version)
) WITHOUT ROWID;

INSERT INTO asset_versions_by_asset (asset_id, version, content_hash, observed_at, document)
    SELECT asset_id, version, content_hash, observed_at, document FROM asset_versions;

DROP TABLE asset_versions;

ALTER TABLE asset_versions_by_asset RENAME TO asset_versions;

-- What a scan reads of each asset of its account before recording it
-- (content hash, version, deletion, place, evaluation stamp) is in the
-- account's index: the read is a walk along the index rather than a
-- lookup of each asset in the table, where an account's assets lie
-- scattered by id. It replaces the index of the account alone.
CREATE INDEX assets_known ON assets (provider, account, content_hash, version, deleted_at, region, resource_type, evaluated);
DROP INDEX assets_account;

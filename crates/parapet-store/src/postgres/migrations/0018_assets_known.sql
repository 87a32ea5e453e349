-- What a scan reads of each asset of its account before recording it
-- (content hash, version, deletion, place, evaluation stamp) is carried
-- by the account's index, so the read can be answered from the index
-- alone. It replaces the index of the account alone.
CREATE INDEX assets_known ON assets (provider, account) INCLUDE (id, content_hash, version, deleted_at, region, resource_type, evaluated);
DROP INDEX assets_account;

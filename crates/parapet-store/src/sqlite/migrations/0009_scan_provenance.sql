-- What produced each scan: Parapet's version, the collector and its
-- version, and the digest of the rule pack (JSON: parapet_core::Provenance).
-- NULL for scans recorded before it was kept.
ALTER TABLE scans ADD COLUMN provenance TEXT;

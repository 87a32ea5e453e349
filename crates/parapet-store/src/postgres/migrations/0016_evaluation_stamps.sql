-- Incremental evaluation: what each asset's results were worked out with
-- beside its content (the rule pack and a digest of each derived fact, as
-- parapet-rules' Stamp writes it; NULL: unknown, every rule evaluated
-- again), and the digest of each rule under each pack.
ALTER TABLE assets ADD COLUMN evaluated TEXT COLLATE "C";

CREATE TABLE rule_packs (
    id    TEXT COLLATE "C" PRIMARY KEY,       -- the pack's id
    rules TEXT NOT NULL                       -- JSON: rule id to its digest
);

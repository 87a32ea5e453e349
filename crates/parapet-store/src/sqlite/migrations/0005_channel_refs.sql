-- Parapet store, schema version 5: what a channel calls the thing a
-- notification is about (the Jira issue of a finding), so that its
-- resolution comments on and closes the same one.

CREATE TABLE channel_refs (
    channel    TEXT NOT NULL,
    subject    TEXT NOT NULL,       -- parapet/RULE/ASSET
    reference  TEXT NOT NULL,       -- the channel's id, such as SEC-42
    PRIMARY KEY (channel, subject)
) WITHOUT ROWID;

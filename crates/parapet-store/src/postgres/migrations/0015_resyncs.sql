-- When each account is next collected whole by the continuous mode, in the
-- database, so that any number of `parapet watch` processes share one
-- schedule. `account` '' stands for a whole collection, before any account
-- is known.
CREATE TABLE resyncs (
    source  TEXT COLLATE "C" NOT NULL,        -- the provider's scan source
    account TEXT COLLATE "C" NOT NULL,
    due_at  BIGINT  NOT NULL,
    PRIMARY KEY (source, account)
);

CREATE INDEX resyncs_due ON resyncs (source, due_at);

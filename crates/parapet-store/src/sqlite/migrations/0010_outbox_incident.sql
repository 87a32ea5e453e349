-- The incident each notification is about, as a column, so that an
-- incident's messages are found by index on every backend (they were read
-- from the change document).
ALTER TABLE outbox ADD COLUMN incident_id INTEGER;

UPDATE outbox SET incident_id = json_extract(change, '$.incident.id');

CREATE INDEX outbox_incident ON outbox (incident_id, id) WHERE incident_id IS NOT NULL;

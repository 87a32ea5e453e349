-- PostgreSQL's schema version 14 partitions asset versions, events and the
-- outbox by month; a SQLite file is one machine's and stays as it is. The
-- version keeps both backends in step.
SELECT 1;

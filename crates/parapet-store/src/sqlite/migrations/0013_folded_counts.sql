-- PostgreSQL's schema version 13 folds the overview's counters once per
-- transaction; SQLite updates them in place, quickly, and keeps its
-- triggers. Nothing changes here: the version keeps both backends in step.
SELECT 1;

-- SQLite's findings are now kept in the order of their asset (its
-- migration 19). PostgreSQL keeps a table's rows in no key's order, and
-- its findings keep their key and their index by asset: nothing changes.
SELECT 1;

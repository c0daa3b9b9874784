-- The journal's log (database.journal = "log"): one row per committed batch, its entries as one
-- binary record; a row is deleted in the transaction that projects it into the tables (see the
-- Postgres migration of the same name). AUTOINCREMENT: a position is never given out twice, even
-- once every row has been projected and deleted.
CREATE TABLE journal_log (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    key INTEGER NOT NULL,
    record BLOB NOT NULL,
    appended_at INTEGER NOT NULL
);

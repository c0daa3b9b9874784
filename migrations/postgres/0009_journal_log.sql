-- The journal's log (database.journal = "log"): one row per committed batch, its entries as one
-- binary record. A row is deleted in the transaction that projects it into the tables, so the
-- rows here are exactly the batches the tables do not show yet.
CREATE TABLE journal_log (
    position bigserial PRIMARY KEY,
    record bytea NOT NULL,
    appended_at bigint NOT NULL
);

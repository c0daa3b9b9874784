-- The journal's log (database.journal = "log"): one row per committed batch, its entries as one
-- binary record. A row is deleted in the transaction that projects it into the tables, so the
-- rows here are exactly the batches the tables do not show yet. `position` is taken once the
-- batch before has committed, so it follows the commit order; `key` is chosen by the writer, so
-- a commit whose answer was lost can be looked up (rarely, on the few rows here: no index).
CREATE TABLE journal_log (
    position bigserial PRIMARY KEY,
    key bigint NOT NULL,
    record bytea NOT NULL,
    appended_at bigint NOT NULL
);

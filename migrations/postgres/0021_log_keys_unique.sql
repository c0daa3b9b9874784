-- A record's key is unique, so an append whose commit's answer was lost can learn what became of
-- it by inserting the same key: the insert waits for a transaction still committing one, then
-- either conflicts (it committed) or goes in (it did not, and no longer can). One index entry a
-- batch, not a sale.
CREATE UNIQUE INDEX journal_log_key ON journal_log (key);

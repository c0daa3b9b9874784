-- In a cluster every node appends to the one log, and each record names its writer: the node and
-- the incarnation its fence was armed with (both NULL for a process that is not a node). A node
-- projects its own records; the records of a writer the cluster has fenced out (taken over, or
-- replaced by a restart of the same node) are projected by the node that next joins or acquires
-- shards, before it serves them (docs/journal-log.md, "Recovery and the cluster").
ALTER TABLE journal_log ADD COLUMN writer_node text, ADD COLUMN writer_incarnation bigint;

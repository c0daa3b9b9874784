-- The process that writes a database's log alone (no cluster) holds an advisory lock on a
-- connection of its own, so a second one is refused at start. The lock goes with its connection:
-- a restart of Postgres, or a killed backend, frees it while the process still runs, and a second
-- process could then start and write beside it. So each process that takes the lock also takes
-- a new epoch here (a random number), and every append and projection of a lone writer
-- share-locks this row at its own epoch, in the same statement or transaction as its rows
-- (store/log/lone_writer.rs). The next writer's update of the epoch waits for those in flight;
-- after it, every write of the earlier process fails with WF002 and that process stops.
CREATE TABLE log_writer (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    epoch BIGINT NOT NULL
);

CREATE FUNCTION warung_log_writer_replaced(p_epoch BIGINT) RETURNS BOOLEAN
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION 'another process writes this journal now (this one wrote as epoch %)', p_epoch
        USING ERRCODE = 'WF002';
END
$$;

-- The fence also names the writer of its transaction: `warung.writer` is set to
-- '<node>:<incarnation>' until the transaction ends. Nothing in the engine reads it; it lets an
-- audit trigger (the chaos test's) record which incarnation committed each write, so a checker
-- can prove that no incarnation wrote after it was fenced. Otherwise as in 0006.
CREATE OR REPLACE FUNCTION warung_fence(p_node TEXT, p_incarnation BIGINT) RETURNS BOOLEAN
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM 1 FROM cluster_nodes
     WHERE node_id = p_node AND incarnation = p_incarnation AND state <> 'dead'
       FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'node % incarnation % has been fenced', p_node, p_incarnation
            USING ERRCODE = 'WF001';
    END IF;
    PERFORM set_config('warung.writer', p_node || ':' || p_incarnation, true);
    RETURN TRUE;
END
$$;

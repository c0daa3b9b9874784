-- The journal's fence becomes plain SQL in its own statement (store/fence.rs, `fencing_select`):
-- `EXISTS (SELECT 1 FROM cluster_nodes ... FOR SHARE)`, the same share lock as `warung_fence`,
-- half the cost of calling that PL/pgSQL function on every batch. When the check fails it calls
-- `warung_fenced`, which only raises WF001, as `warung_fence` does.
CREATE FUNCTION warung_fenced(p_node TEXT, p_incarnation BIGINT) RETURNS BOOLEAN
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION 'node % incarnation % has been fenced', p_node, p_incarnation
        USING ERRCODE = 'WF001';
END
$$;

-- Every fenced write also names its writer: `warung.writer` = '<node>:<incarnation>' until the
-- transaction ends. Nothing in the engine reads it; it lets an audit trigger (the chaos test's)
-- record which incarnation committed each write, so a checker can prove that no incarnation wrote
-- after it was fenced. `warung_fence` (acquisitions, leases) names it too; otherwise as in 0006.
CREATE OR REPLACE FUNCTION warung_fence(p_node TEXT, p_incarnation BIGINT) RETURNS BOOLEAN
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM 1 FROM cluster_nodes
     WHERE node_id = p_node AND incarnation = p_incarnation AND state <> 'dead'
       FOR SHARE;
    IF NOT FOUND THEN
        PERFORM warung_fenced(p_node, p_incarnation);
    END IF;
    PERFORM set_config('warung.writer', p_node || ':' || p_incarnation, true);
    RETURN TRUE;
END
$$;

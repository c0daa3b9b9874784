-- Several nodes on one database (docs/cluster.md). Nothing here changes what one node does: a
-- node that never joins a cluster never reads these tables, and its writes are not fenced.

-- Every product and customer belongs to one of 256 shards: the first byte of the SHA-256 of
-- "p:<code>" or "c:<customer id>" (the engine computes the same in `cluster::shard`). Declared
-- IMMUTABLE so it can fill generated columns: it is, because a database's encoding never changes.
CREATE FUNCTION warung_shard(tag TEXT, id TEXT) RETURNS SMALLINT
    LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN get_byte(sha256(convert_to(tag || ':' || id, 'UTF8')), 0)::SMALLINT;

-- Stored on the rows a node reads per shard when it acquires one (recovery, the sweeps, the
-- conversations), computed by the database itself: no writer can forget it, and the rows already
-- here get theirs now.
ALTER TABLE products ADD COLUMN shard SMALLINT GENERATED ALWAYS AS (warung_shard('p', code)) STORED;
ALTER TABLE reservations ADD COLUMN shard SMALLINT GENERATED ALWAYS AS (warung_shard('p', product)) STORED;
ALTER TABLE customers ADD COLUMN shard SMALLINT GENERATED ALWAYS AS (warung_shard('c', id)) STORED;
ALTER TABLE orders ADD COLUMN shard SMALLINT GENERATED ALWAYS AS (warung_shard('c', customer)) STORED;
ALTER TABLE qris_charges ADD COLUMN shard SMALLINT GENERATED ALWAYS AS (warung_shard('c', customer)) STORED;
ALTER TABLE webhook_inbox ADD COLUMN shard SMALLINT GENERATED ALWAYS AS (warung_shard('c', customer)) STORED;

CREATE INDEX orders_open_by_shard ON orders (shard) WHERE state IN ('pending', 'awaiting_payment');
CREATE INDEX reservations_open_by_shard ON reservations (shard) WHERE status = 'reserved';
CREATE INDEX webhook_inbox_unhandled_by_shard ON webhook_inbox (shard, received_at) WHERE handled_at IS NULL;

-- One row per node name: the fence. `incarnation` grows at every join and every forced takeover;
-- a journal batch commits only while its node's row still has the incarnation it was written by
-- and is not 'dead' (warung_fence).
CREATE TABLE cluster_nodes (
    node_id TEXT COLLATE "C" PRIMARY KEY,
    incarnation BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('up', 'leaving', 'dead')),
    joined_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Where other nodes and ops reach this one (its HTTP address), for the ops page.
    address TEXT NOT NULL DEFAULT ''
);

-- Renewed every heartbeat, apart from the fence row so a renewal never waits behind the share
-- locks of the node's own journal batches. Expiry is on the database's clock only.
CREATE TABLE cluster_heartbeats (
    node_id TEXT COLLATE "C" PRIMARY KEY REFERENCES cluster_nodes (node_id),
    incarnation BIGINT NOT NULL,
    renewed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL
);

-- Who serves each shard. `epoch` grows at every change of owner.
CREATE TABLE cluster_shards (
    shard SMALLINT PRIMARY KEY CHECK (shard BETWEEN 0 AND 255),
    owner TEXT COLLATE "C",
    owner_incarnation BIGINT,
    epoch BIGINT NOT NULL DEFAULT 0,
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((owner IS NULL) = (owner_incarnation IS NULL))
);
INSERT INTO cluster_shards (shard) SELECT generate_series(0, 255);

-- Leases on work of which the cluster runs exactly one (the outbox sender): renewed by the
-- holder, taken by another node once expired.
CREATE TABLE cluster_leases (
    name TEXT PRIMARY KEY,
    holder TEXT COLLATE "C" NOT NULL,
    holder_incarnation BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- Joins, takeovers, acquisitions and releases, for the ops page and the chaos test's checker.
CREATE TABLE cluster_events (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    node_id TEXT COLLATE "C" NOT NULL,
    incarnation BIGINT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);

-- The fence: succeeds, holding the node's row FOR SHARE until the caller's transaction ends, only
-- while the row has this incarnation and is not dead; otherwise raises SQLSTATE WF001. FOR SHARE
-- (not FOR KEY SHARE) because a takeover's plain UPDATE takes FOR NO KEY UPDATE, which waits for
-- FOR SHARE holders but not for FOR KEY SHARE ones: with the weaker lock a takeover would not wait
-- for a batch in flight. Under READ COMMITTED a locking read re-reads a row changed by a
-- transaction that committed meanwhile, so a batch that waited behind a takeover sees it.
CREATE FUNCTION warung_fence(p_node TEXT, p_incarnation BIGINT) RETURNS BOOLEAN
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM 1 FROM cluster_nodes
     WHERE node_id = p_node AND incarnation = p_incarnation AND state <> 'dead'
       FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'node % incarnation % has been fenced', p_node, p_incarnation
            USING ERRCODE = 'WF001';
    END IF;
    RETURN TRUE;
END
$$;

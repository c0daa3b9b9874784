//! Membership, leases and takeovers, in Postgres, on the database's clock (docs/cluster.md).
//! Each function is one transaction; none keeps state between calls, so every node can run them.

use std::time::Duration;

use sqlx::PgPool;

use super::shard::Shard;
use crate::store::FenceId;

/// How long a join or a takeover waits for the batches still in flight under the node's old
/// incarnation (they hold its row `FOR SHARE`); a journal batch waits at most 5 s for a lock, and
/// one whose process stalled is ended after 2 s idle, so this outlasts any batch that will commit.
const TAKEOVER_LOCK_TIMEOUT: &str = "10s";

/// Sets both limits of a membership transaction: the lock wait above, and how long it may sit
/// idle (this process stalled mid-transaction) before Postgres ends it and its locks.
fn limits() -> String {
    format!("SET LOCAL lock_timeout = '{TAKEOVER_LOCK_TIMEOUT}'; SET LOCAL idle_in_transaction_session_timeout = '2s'")
}

/// Why a membership call failed.
#[derive(Debug, thiserror::Error)]
pub enum MembershipError {
    #[error("the cluster's tables could not be reached: {0}")]
    Database(#[from] sqlx::Error),
    /// This process's incarnation is no longer the node's: it was taken over or restarted.
    #[error("this node was declared dead or replaced; it must stop")]
    Fenced,
    /// With the journal's log: the records of a node fenced out could not be projected, or this
    /// node's projection could not catch up before a hand-off.
    #[error("the journal's log could not be projected: {0}")]
    Log(String),
}

impl From<crate::store::StoreError> for MembershipError {
    fn from(error: crate::store::StoreError) -> Self {
        match error {
            crate::store::StoreError::Database(error) if crate::store::fence::is_fenced(&error) => {
                MembershipError::Fenced
            }
            other => MembershipError::Log(other.to_string()),
        }
    }
}

/// A node as the tables show it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct NodeView {
    pub node_id: String,
    pub incarnation: i64,
    pub state: String,
    /// Since the last renewal, by the database's clock; None if it never renewed.
    pub heartbeat_age_ms: Option<i64>,
    /// Whether its heartbeat is still valid (it has not expired).
    pub alive: bool,
    /// Whether it has been up long enough to be given shards.
    pub stable: bool,
    pub shards: i64,
    pub address: String,
}

/// Joins as `node` with a new incarnation. An older incarnation of the same name (a process that
/// died, or is paused) is fenced by this: its shards are freed, and its batches still in flight
/// are waited for.
pub async fn join(pool: &PgPool, node: &str, address: &str, ttl: Duration) -> Result<FenceId, MembershipError> {
    let mut tx = pool.begin().await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(limits())).execute(&mut *tx).await?;
    let (incarnation,): (i64,) = sqlx::query_as(
        "INSERT INTO cluster_nodes (node_id, incarnation, state, address) VALUES ($1, 1, 'up', $2) \
         ON CONFLICT (node_id) DO UPDATE SET incarnation = cluster_nodes.incarnation + 1, state = 'up', \
           joined_at = now(), address = EXCLUDED.address \
         RETURNING incarnation",
    )
    .bind(node)
    .bind(address)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO cluster_heartbeats (node_id, incarnation, renewed_at, expires_at) \
         VALUES ($1, $2, now(), now() + $3 * interval '1 millisecond') \
         ON CONFLICT (node_id) DO UPDATE SET incarnation = EXCLUDED.incarnation, renewed_at = now(), expires_at = EXCLUDED.expires_at",
    )
    .bind(node)
    .bind(incarnation)
    .bind(millis(ttl))
    .execute(&mut *tx)
    .await?;
    free_shards_of(&mut tx, node).await?;
    event(&mut tx, node, incarnation, "joined", address).await?;
    tx.commit().await?;
    Ok(FenceId { node: node.to_string(), incarnation })
}

/// Renews the heartbeat, only while this incarnation is still the node's and not dead.
pub async fn heartbeat(pool: &PgPool, me: &FenceId, ttl: Duration) -> Result<(), MembershipError> {
    let renewed = sqlx::query(
        "UPDATE cluster_heartbeats h SET renewed_at = now(), expires_at = now() + $3 * interval '1 millisecond' \
         FROM cluster_nodes n \
         WHERE h.node_id = $1 AND h.incarnation = $2 AND n.node_id = $1 AND n.incarnation = $2 AND n.state <> 'dead'",
    )
    .bind(&me.node)
    .bind(me.incarnation)
    .bind(millis(ttl))
    .execute(pool)
    .await?;
    if renewed.rows_affected() == 1 {
        Ok(())
    } else {
        Err(MembershipError::Fenced)
    }
}

/// Nodes whose heartbeat has expired and that are not yet dead, with the incarnation seen.
pub async fn expired(pool: &PgPool) -> Result<Vec<(String, i64)>, MembershipError> {
    Ok(sqlx::query_as(
        "SELECT n.node_id, n.incarnation FROM cluster_nodes n JOIN cluster_heartbeats h ON h.node_id = n.node_id \
         WHERE n.state <> 'dead' AND (h.expires_at < now() OR h.incarnation <> n.incarnation) ORDER BY n.node_id",
    )
    .fetch_all(pool)
    .await?)
}

/// Takes `victim` over if its heartbeat has still expired and it still has `seen` incarnation:
/// bumps its incarnation, marks it dead and frees its shards, in one transaction. The update of
/// its row waits for every batch it has in flight; from the commit on, none of its batches
/// passes the fence. Returns whether this call took it over (another node may have first).
pub async fn take_over(pool: &PgPool, me: &FenceId, victim: &str, seen: i64) -> Result<bool, MembershipError> {
    let mut tx = pool.begin().await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(limits())).execute(&mut *tx).await?;
    let taken = sqlx::query(
        "UPDATE cluster_nodes n SET incarnation = n.incarnation + 1, state = 'dead' \
         FROM cluster_heartbeats h \
         WHERE n.node_id = $1 AND n.incarnation = $2 AND n.state <> 'dead' AND h.node_id = n.node_id \
           AND (h.expires_at < now() OR h.incarnation <> n.incarnation)",
    )
    .bind(victim)
    .bind(seen)
    .execute(&mut *tx)
    .await?;
    if taken.rows_affected() == 0 {
        return Ok(false);
    }
    // The heartbeat was read before the wait for the victim's batches; it may have renewed since.
    let (still_expired,): (bool,) = sqlx::query_as(
        "SELECT expires_at < now() OR incarnation <> $2 FROM cluster_heartbeats WHERE node_id = $1 FOR UPDATE",
    )
    .bind(victim)
    .bind(seen)
    .fetch_one(&mut *tx)
    .await?;
    if !still_expired {
        return Ok(false);
    }
    free_shards_of(&mut tx, victim).await?;
    event(&mut tx, victim, seen, "fenced", &format!("taken over by {} ({})", me.node, me.incarnation)).await?;
    tx.commit().await?;
    Ok(true)
}

/// The nodes that may own shards: up, heartbeat valid, and up for at least `stable_after` (so a
/// node that flaps does not pull shards back and forth).
pub async fn nodes(pool: &PgPool, stable_after: Duration) -> Result<Vec<NodeView>, MembershipError> {
    Ok(sqlx::query_as(
        "SELECT n.node_id, n.incarnation, n.state, \
                CAST(EXTRACT(EPOCH FROM (now() - h.renewed_at)) * 1000 AS BIGINT) AS heartbeat_age_ms, \
                COALESCE(h.expires_at > now() AND h.incarnation = n.incarnation, false) AS alive, \
                n.joined_at <= now() - $1 * interval '1 millisecond' AS stable, \
                (SELECT COUNT(*) FROM cluster_shards s WHERE s.owner = n.node_id AND s.owner_incarnation = n.incarnation) AS shards, \
                n.address \
         FROM cluster_nodes n LEFT JOIN cluster_heartbeats h ON h.node_id = n.node_id ORDER BY n.node_id",
    )
    .bind(millis(stable_after))
    .fetch_all(pool)
    .await?)
}

/// Takes the shards of `wanted` that have no owner, fenced: a node taken over meanwhile takes none.
/// Shards the table already gives this incarnation are taken again: an acquisition whose catch-up
/// failed (`ClusterNode::acquire_due`) left them there, not yet served.
pub async fn acquire(pool: &PgPool, me: &FenceId, wanted: &[Shard]) -> Result<Vec<Shard>, MembershipError> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = pool.begin().await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(limits())).execute(&mut *tx).await?;
    fence(&mut tx, me).await?;
    let taken: Vec<(i16,)> = sqlx::query_as(
        "UPDATE cluster_shards SET owner = $1, owner_incarnation = $2, epoch = epoch + 1, changed_at = now() \
         WHERE shard = ANY($3) AND (owner IS NULL OR (owner = $1 AND owner_incarnation = $2)) RETURNING shard",
    )
    .bind(&me.node)
    .bind(me.incarnation)
    .bind(wanted.iter().map(|s| i16::from(s.number())).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await?;
    let taken: Vec<Shard> = taken.into_iter().map(|(s,)| Shard::from_number(s as u8)).collect();
    if !taken.is_empty() {
        event(&mut tx, &me.node, me.incarnation, "acquired", &shard_list(&taken)).await?;
    }
    tx.commit().await?;
    Ok(taken)
}

/// Gives shards up (after handing them off: nothing more will be written for them).
pub async fn release(pool: &PgPool, me: &FenceId, shards: &[Shard]) -> Result<(), MembershipError> {
    if shards.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE cluster_shards SET owner = NULL, owner_incarnation = NULL, epoch = epoch + 1, changed_at = now() \
         WHERE shard = ANY($3) AND owner = $1 AND owner_incarnation = $2",
    )
    .bind(&me.node)
    .bind(me.incarnation)
    .bind(shards.iter().map(|s| i16::from(s.number())).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    event(&mut tx, &me.node, me.incarnation, "released", &shard_list(shards)).await?;
    tx.commit().await?;
    Ok(())
}

/// Takes or renews the lease `name` for `ttl`: free or expired, it is taken; held by this
/// incarnation, it is renewed. Fenced like an acquisition. Returns whether this node holds it.
pub async fn hold_lease(pool: &PgPool, me: &FenceId, name: &str, ttl: Duration) -> Result<bool, MembershipError> {
    let mut tx = pool.begin().await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(limits())).execute(&mut *tx).await?;
    fence(&mut tx, me).await?;
    let held = sqlx::query(
        "INSERT INTO cluster_leases AS l (name, holder, holder_incarnation, expires_at) \
         VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond') \
         ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, holder_incarnation = EXCLUDED.holder_incarnation, \
           expires_at = EXCLUDED.expires_at \
         WHERE l.expires_at < now() OR (l.holder = EXCLUDED.holder AND l.holder_incarnation = EXCLUDED.holder_incarnation)",
    )
    .bind(name)
    .bind(&me.node)
    .bind(me.incarnation)
    .bind(millis(ttl))
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    tx.commit().await?;
    Ok(held)
}

/// Gives the lease `name` up, if this incarnation holds it.
pub async fn release_lease(pool: &PgPool, me: &FenceId, name: &str) -> Result<(), MembershipError> {
    sqlx::query("DELETE FROM cluster_leases WHERE name = $1 AND holder = $2 AND holder_incarnation = $3")
        .bind(name)
        .bind(&me.node)
        .bind(me.incarnation)
        .execute(pool)
        .await?;
    Ok(())
}

/// Marks this node as leaving (it hands its shards off and will not be given new ones).
pub async fn leave(pool: &PgPool, me: &FenceId) -> Result<(), MembershipError> {
    sqlx::query("UPDATE cluster_nodes SET state = 'leaving' WHERE node_id = $1 AND incarnation = $2 AND state = 'up'")
        .bind(&me.node)
        .bind(me.incarnation)
        .execute(pool)
        .await?;
    Ok(())
}

/// The shards this incarnation owns, by the table.
pub async fn owned(pool: &PgPool, me: &FenceId) -> Result<Vec<Shard>, MembershipError> {
    let rows: Vec<(i16,)> =
        sqlx::query_as("SELECT shard FROM cluster_shards WHERE owner = $1 AND owner_incarnation = $2 ORDER BY shard")
            .bind(&me.node)
            .bind(me.incarnation)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|(s,)| Shard::from_number(s as u8)).collect())
}

/// Each shard's owner (None: unowned), in shard order.
pub async fn shard_map(pool: &PgPool) -> Result<Vec<Option<String>>, MembershipError> {
    let rows: Vec<(Option<String>,)> =
        sqlx::query_as("SELECT owner FROM cluster_shards ORDER BY shard").fetch_all(pool).await?;
    Ok(rows.into_iter().map(|(owner,)| owner).collect())
}

/// Shards with no owner.
pub async fn unowned(pool: &PgPool) -> Result<i64, MembershipError> {
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM cluster_shards WHERE owner IS NULL").fetch_one(pool).await?;
    Ok(count)
}

/// The latest events, newest first.
pub async fn recent_events(pool: &PgPool, limit: i64) -> Result<Vec<ClusterEvent>, MembershipError> {
    let rows: Vec<(i64, String, i64, String, String)> = sqlx::query_as(
        "SELECT CAST(EXTRACT(EPOCH FROM at) * 1000 AS BIGINT), node_id, incarnation, kind, detail \
         FROM cluster_events ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(at_ms, node_id, incarnation, kind, detail)| ClusterEvent { at_ms, node_id, incarnation, kind, detail })
        .collect())
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ClusterEvent {
    pub at_ms: i64,
    pub node_id: String,
    pub incarnation: i64,
    pub kind: String,
    pub detail: String,
}

async fn fence(tx: &mut sqlx::PgConnection, me: &FenceId) -> Result<(), MembershipError> {
    match sqlx::query("SELECT warung_fence($1, $2)").bind(&me.node).bind(me.incarnation).execute(tx).await {
        Ok(_) => Ok(()),
        Err(error) if crate::store::fence::is_fenced(&error) => Err(MembershipError::Fenced),
        Err(error) => Err(error.into()),
    }
}

async fn free_shards_of(tx: &mut sqlx::PgConnection, node: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE cluster_shards SET owner = NULL, owner_incarnation = NULL, epoch = epoch + 1, changed_at = now() WHERE owner = $1",
    )
    .bind(node)
    .execute(tx)
    .await?;
    Ok(())
}

async fn event(
    tx: &mut sqlx::PgConnection,
    node: &str,
    incarnation: i64,
    kind: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO cluster_events (node_id, incarnation, kind, detail) VALUES ($1, $2, $3, $4)")
        .bind(node)
        .bind(incarnation)
        .bind(kind)
        .bind(detail)
        .execute(tx)
        .await?;
    Ok(())
}

fn shard_list(shards: &[Shard]) -> String {
    shards.iter().map(Shard::to_string).collect::<Vec<_>>().join(",")
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

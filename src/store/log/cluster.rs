//! The log when several nodes of a cluster append to it (docs/journal-log.md, "Recovery and the
//! cluster"). Each record names its writer (node and incarnation); each node projects its own.
//!
//! - A writer the cluster has fenced out (taken over, or replaced by a restart of the same node)
//!   can neither append nor project any more: its fence check holds its node's row `FOR SHARE`,
//!   which the takeover's or the new incarnation's update of that row waits for. Its records left
//!   in the log (acknowledged, not yet in the tables) are *orphans*: the next node to join or to
//!   acquire shards projects them before it serves anything (`LogHandOver::project_orphans`), one
//!   node at a time, in log order; every node also looks for them each round of its upkeep (a
//!   node that left and never came back owned no shards to acquire).
//! - A node handing shards over waits until the tables show everything it acknowledged
//!   (`LogHandOver::caught_up`), so the next owner activates their actors from complete rows.
//! - A read that waits for everything acknowledged before it began also waits for the records
//!   other writers had committed by then (`others_projected`): an acknowledgement sent from
//!   another node is never read as missing here.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgPool;

use super::postgres::delete_and_write;
use super::projection::{Projection, ProjectionBehind, FRESH_READ_WAIT_SECS};
use super::projector::{decode_rows, LogRow, Projected};
use crate::store::batch::OrderWrites;
use crate::store::fence::{FenceId, WriterFence};
use crate::store::journal_writer::Writer;
use crate::store::StoreError;

/// The advisory lock one node holds (per transaction) while it projects orphans: two nodes
/// acquiring shards at once take the records in turn, in log order, never interleaved.
const LOG_ORPHANS_LOCK: i64 = 0x7761_7275_6e67_4f52; // "warungOR"

/// Orphan records projected in one transaction.
const ORPHAN_ROWS_PER_TRANSACTION: i64 = 1_000;

/// How long a hand-off waits for the tables to show what its node acknowledged (see
/// `LogHandOver::caught_up`); a projection keeps up within milliseconds when the store answers.
pub const HANDOFF_PROJECTION_WAIT_SECS: u64 = 60;

/// The longest pause between two looks at whether other writers' records are in the tables.
const OTHERS_POLL_MS_MAX: u64 = 20;

/// The oldest records whose writer is no live incarnation of a node (a record of a process that
/// was never a node, writer NULL, has none either).
const ORPHAN_RECORDS: &str = "SELECT position, record FROM journal_log l \
     WHERE NOT EXISTS (SELECT 1 FROM cluster_nodes n WHERE n.node_id = l.writer_node \
       AND n.incarnation = l.writer_incarnation AND n.state <> 'dead') \
     ORDER BY position LIMIT $1";

/// Whether a record is another writer's than `$1`/`$2`, as a condition on `journal_log`.
const NOT_MINE: &str = "(writer_node IS DISTINCT FROM $1 OR writer_incarnation IS DISTINCT FROM $2)";

/// What a node of a cluster on the log needs of its store when shards change hands.
#[derive(Clone)]
pub struct LogHandOver {
    pub(crate) pool: PgPool,
    pub(crate) fence: Arc<WriterFence>,
    pub(crate) projection: Arc<Projection>,
}

impl LogHandOver {
    /// Projects every orphan record, oldest first, in transactions fenced as this node (a node
    /// fenced out meanwhile writes none of them); returns how many. Run after joining and after
    /// acquiring shards, before their actors may activate: the records of the node they came
    /// from are then in the tables.
    pub async fn project_orphans(&self) -> Result<u64, StoreError> {
        let me = self.fence.id().cloned();
        let mut projected = 0;
        loop {
            let mut tx = self.pool.begin().await?;
            // The fence first: it also limits how long this transaction may sit idle, so a node
            // paused while it holds the lock below cannot keep the other nodes waiting for it.
            if let Some(me) = &me {
                Writer::Node(me).check(&mut tx).await?;
            }
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(LOG_ORPHANS_LOCK).execute(&mut *tx).await?;
            let rows: Vec<LogRow> =
                sqlx::query_as(ORPHAN_RECORDS).bind(ORPHAN_ROWS_PER_TRANSACTION).fetch_all(&mut *tx).await?;
            if rows.is_empty() {
                if projected > 0 {
                    tracing::warn!(records = projected, "projected the journal log left by nodes fenced out");
                }
                return Ok(projected);
            }
            let (positions, entries) = decode_rows(&rows)?;
            // Read under the lock, in this transaction: nobody else can have projected them.
            let written =
                delete_and_write(&mut tx, &positions, std::slice::from_ref(&entries), None, OrderWrites::UpsertForward)
                    .await?;
            if written != Projected::Written {
                return Err(StoreError::Corrupt("orphan log records vanished under the projection lock".into()));
            }
            tx.commit().await?;
            projected += rows.len() as u64;
        }
    }

    /// Waits until the tables show every record this node acknowledged, trying again while the
    /// projector retries (the store away), for at most `HANDOFF_PROJECTION_WAIT_SECS`. It gives
    /// up once the fence has tripped, and trips it when the time is up: the node then stops,
    /// and whoever takes its shards projects its records, rather than its shards staying out
    /// of service behind a projection that does not move.
    pub async fn caught_up(&self) -> Result<(), ProjectionBehind> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(HANDOFF_PROJECTION_WAIT_SECS);
        loop {
            match self.projection.fresh().await {
                Ok(()) => return Ok(()),
                Err(behind) if self.fence.is_tripped() => return Err(behind),
                Err(behind) if tokio::time::Instant::now() >= deadline => {
                    tracing::error!(%behind, "the projection did not catch up for a hand-off; stopping this node");
                    self.fence.trip();
                    return Err(behind);
                }
                Err(behind) => tracing::warn!(%behind, "a hand-off waits for the projection to catch up"),
            }
        }
    }
}

/// Waits until the tables show every record that writers other than `me` had committed when it
/// was called (the other nodes' projectors, or the orphan projection of a node fenced out), for
/// at most `FRESH_READ_WAIT_SECS`. An empty answer costs one indexed query.
pub(crate) async fn others_projected(pool: &PgPool, me: &FenceId) -> Result<(), sqlx::Error> {
    let newest = format!("SELECT max(position) FROM journal_log WHERE {NOT_MINE}");
    let head: Option<i64> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(newest)).bind(&me.node).bind(me.incarnation).fetch_one(pool).await?;
    let Some(head) = head else {
        return Ok(());
    };
    let waiting = format!("SELECT EXISTS (SELECT 1 FROM journal_log WHERE position <= $3 AND {NOT_MINE})");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(FRESH_READ_WAIT_SECS);
    let mut pause = Duration::from_millis(1);
    loop {
        tokio::time::sleep(pause).await;
        let behind: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(waiting.clone()))
            .bind(&me.node)
            .bind(me.incarnation)
            .bind(head)
            .fetch_one(pool)
            .await?;
        if !behind {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            let behind = format!(
                "SELECT coalesce(writer_node, '(no node)') || ' incarnation ' || coalesce(writer_incarnation, 0) \
                   || ': ' || count(*) || ' records from position ' || min(position) \
                 FROM journal_log WHERE position <= $3 AND {NOT_MINE} GROUP BY writer_node, writer_incarnation"
            );
            let writers: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(behind))
                .bind(&me.node)
                .bind(me.incarnation)
                .bind(head)
                .fetch_all(pool)
                .await?;
            return Err(sqlx::Error::Protocol(format!(
                "the tables do not show other nodes' log up to position {head} after {FRESH_READ_WAIT_SECS} s \
                 (not yet projected: {})",
                writers.join("; ")
            )));
        }
        pause = (pause * 2).min(Duration::from_millis(OTHERS_POLL_MS_MAX));
    }
}

//! The lone writer's epoch (migration 0017): what keeps a process that lost its writer lock from
//! writing beside the one that took it next.
//!
//! A process that writes a database's log alone holds an advisory lock on a connection of its own
//! (`postgres::lock_writer`), and a second process is refused at start. The lock goes with that
//! connection: a restart of Postgres, or a backend killed by hand, frees it while the process runs
//! on, its pools reconnecting. A second process could then start, replay the log, and serve beside
//! the first: two actors for one wallet, each writing its own balance (docs/journal-log.md, "One
//! writer").
//!
//! So every process that opens the log takes a new epoch (`LoneWriter::take`) before it reads the
//! log, and a lone process's every append and projection share-locks the epoch's row at its own
//! epoch, in the same statement or transaction as its rows. Taking a new epoch waits for the
//! writes in flight under the one before; after it, each write of the earlier process fails
//! with WF002, its fence trips, and it stops. A cluster's nodes are kept apart by the cluster's
//! fence instead, and take an epoch only to shut a lone process out.

use sqlx::PgPool;

use crate::store::fence::FENCED_IDLE_IN_TRANSACTION_TIMEOUT;
use crate::store::Writers;

/// The SQLSTATE `warung_log_writer_replaced` raises; `fence::is_fenced` counts it as fenced.
pub const REPLACED_SQLSTATE: &str = "WF002";

/// A new epoch is a random number, not the next: a database dropped and made again under a running
/// process (the lab's runs do that) must not hand that process's epoch to the next.
const TAKE_NEW_EPOCH: &str = "INSERT INTO log_writer (id, epoch) VALUES (1, $1) \
     ON CONFLICT (id) DO UPDATE SET epoch = EXCLUDED.epoch RETURNING epoch";

/// This process's epoch as a writer of the log, and whether its writes check it.
#[derive(Debug)]
pub(crate) struct LoneWriter {
    checked: bool,
    epoch: tokio::sync::OnceCell<i64>,
}

impl LoneWriter {
    pub(crate) fn new(writers: Writers) -> LoneWriter {
        LoneWriter { checked: writers == Writers::ThisProcess, epoch: tokio::sync::OnceCell::new() }
    }

    /// Takes a new epoch on first use, which must come before this process reads the log: it
    /// returns only once the writes in flight under the epoch before have ended, so what the
    /// start reads holds all that process will ever have stored.
    pub(crate) async fn take(&self, pool: &PgPool) -> Result<i64, sqlx::Error> {
        let take = || sqlx::query_scalar(TAKE_NEW_EPOCH).bind(rand::random::<i64>()).fetch_one(pool);
        let epoch = self.epoch.get_or_try_init(take).await?;
        Ok(*epoch)
    }

    /// The epoch this process's writes check: None for a cluster's node.
    pub(crate) async fn checked(&self, pool: &PgPool) -> Result<Option<i64>, sqlx::Error> {
        match self.checked {
            true => self.take(pool).await.map(Some),
            false => Ok(None),
        }
    }
}

/// The check as a boolean expression on placeholder `$n`: true while `$n` is the epoch, whose row
/// it share-locks until the transaction ends; otherwise it raises WF002.
pub(crate) fn guard(n: usize) -> String {
    format!(
        "CASE WHEN EXISTS (SELECT 1 FROM log_writer WHERE id = 1 AND epoch = ${n} FOR SHARE) \
         THEN true ELSE warung_log_writer_replaced(${n}) END"
    )
}

/// The check as the first statement of a transaction of several (placeholder `$1`). It also
/// limits how long the transaction may sit idle, as the cluster's fence does: a process paused
/// while it holds the share lock would otherwise keep the next writer from starting.
pub(crate) fn guard_statement() -> String {
    format!(
        "SELECT {}, set_config('idle_in_transaction_session_timeout', '{FENCED_IDLE_IN_TRANSACTION_TIMEOUT}', true)",
        guard(1)
    )
}

/// Runs the check in `tx` when `epoch` is given.
pub(crate) async fn check(tx: &mut sqlx::PgConnection, epoch: Option<i64>) -> Result<(), sqlx::Error> {
    if let Some(epoch) = epoch {
        sqlx::query(sqlx::AssertSqlSafe(guard_statement())).bind(epoch).execute(tx).await?;
    }
    Ok(())
}

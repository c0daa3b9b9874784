//! The projector and the start's catch-up, on either backend: a backend says how it writes
//! batches to its tables and deletes their log rows in one transaction (`LogTables`); the order,
//! the retries and the lag accounting are the same everywhere.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use warung_actors::journal::{Entries, SinkError};

use super::limits::ProjectionLimits;
use super::projection::Projection;
use super::record;
use crate::records::ShopRecord;
use crate::store::{is_refusal, sink_error, StoreError};

/// Log rows read at once when projecting what a crash left.
const LEFTOVER_ROWS_PER_READ: i64 = 1_000;

/// Longest pause between two tries of a projection the store refused or could not take.
const PROJECTION_RETRY_MS_MAX: u64 = 1_000;

/// The projector thread's nice value where it helps (`LogTables::PROJECTOR_NICE`; 0 is the
/// default, 19 the lowest). Its work is off every reply's path, so when the cores are contended
/// the threads that answer buyers (the actors, the journal) run first and the projector takes what
/// they leave; when they are idle it runs at full speed. It cannot fall behind without limit: past
/// the lag limits (`projection`) the journal waits, the answering threads go idle, and the
/// projector has the cores. On Postgres the lab measured 6 to 10% more durable sales per second
/// with it, 64 buyers at once on 2 cores (docs/benchmarks.md).
pub const PROJECTOR_THREAD_NICE: i32 = 10;

/// The oldest records of the log, for `LogTables::oldest` (the same on both backends).
pub(crate) const OLDEST_RECORDS: &str = "SELECT position, record FROM journal_log ORDER BY position LIMIT $1";

/// What became of an append whose commit's answer was lost.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Landed {
    /// Its record is in the log, at this position: the batch counts.
    At(i64),
    /// It did not commit, and no longer can: the batch failed.
    Not,
    /// The store could not tell. The record may be in the log: were the batch counted as
    /// failed, its actors would go on from the state before it, and the next start would
    /// project it over what they wrote since; so this process must write nothing more.
    Unknown,
}

/// Settles an append's outcome: a refusal of the content fails the batch; any other error may
/// have come after the commit, so whether the record is in the log (`landed`) decides. An
/// outcome the store cannot tell is `SinkError::Fenced`: the caller stops the process's writes.
pub(crate) async fn settle_append<F>(appended: Result<i64, sqlx::Error>, landed: F) -> Result<i64, SinkError>
where
    F: std::future::Future<Output = Landed>,
{
    match appended {
        Ok(position) => Ok(position),
        Err(error) if is_refusal(&error) => Err(sink_error(error)),
        Err(error) => match landed.await {
            Landed::At(position) => {
                tracing::warn!(%error, "a journal commit's answer was lost; its record is in the log, so it counts");
                Ok(position)
            }
            Landed::Not => Err(sink_error(error)),
            Landed::Unknown => Err(SinkError::Fenced(format!("a journal commit's outcome is unknown ({error})"))),
        },
    }
}

/// A row of the log: its position and its record.
pub(crate) type LogRow = (i64, Vec<u8>);

/// What a projection transaction found of its log rows.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Projected {
    /// It wrote them.
    Written,
    /// Another transaction had projected them all already (a retry whose first try committed).
    AlreadyDone,
}

/// A backend's log and tables, as the projector uses them.
pub(crate) trait LogTables: Send + Sync + 'static {
    /// The nice value the projector's thread runs at (`PROJECTOR_THREAD_NICE`, or 0).
    const PROJECTOR_NICE: i32;

    /// Events written in one projection transaction, at most (it may exceed it by one batch).
    const TRANSACTION_EVENTS_MAX: usize;

    /// The same once the appends have paused (a burst's catch-up), when no reply waits behind
    /// the transaction.
    const PAUSED_TRANSACTION_EVENTS_MAX: usize = Self::TRANSACTION_EVENTS_MAX;

    /// Writes `batches` (the entries of the batches at `positions`, in log order, however they
    /// are grouped) to the tables and deletes their log rows, in one transaction. The rows are
    /// deleted first: all of them gone means the batches were projected already (nothing is
    /// written twice); some of them gone is a broken invariant (`StoreError::Corrupt`). Their
    /// payments are stored already (with the log row), unless the log is replayed into other
    /// tables: a stored one is kept.
    fn project<'a>(
        &'a self,
        positions: &'a [i64],
        batches: &'a [Entries<ShopRecord>],
    ) -> BoxFuture<'a, Result<Projected, StoreError>>;

    /// The oldest rows of the log, position and record, at most `limit`.
    fn oldest(&self, limit: i64) -> BoxFuture<'_, Result<Vec<LogRow>, StoreError>>;

    /// Whether this process was fenced out of its cluster: it projects nothing more (the node
    /// that takes its shards projects the rest of its records).
    fn fenced_out(&self) -> bool {
        false
    }
}

/// How many of a projection's log rows its delete found: all, none, or a broken invariant.
pub(crate) fn deleted_rows(deleted: u64, positions: &[i64]) -> Result<Projected, StoreError> {
    match deleted {
        0 => Ok(Projected::AlreadyDone),
        n if n == positions.len() as u64 => Ok(Projected::Written),
        n => Err(StoreError::Corrupt(format!(
            "{} of {} log records to project were already gone",
            positions.len() as u64 - n,
            positions.len()
        ))),
    }
}

/// The projector: for as long as the process runs, takes the acknowledged batches in order and
/// writes them. A failure is retried (the batches stay in memory and in the log) with a growing
/// pause; meanwhile reads wait, and past the lag limits so does the journal.
pub(crate) async fn run_projector<T: LogTables>(tables: T, projection: Arc<Projection>) {
    loop {
        let taken = projection.take_more_once_paused(T::TRANSACTION_EVENTS_MAX, T::PAUSED_TRANSACTION_EVENTS_MAX).await;
        let last = taken.last().expect("take returns at least one batch").0;
        let positions: Vec<i64> = taken.iter().map(|t| t.1).collect();
        // The journal's own entries, shared with it, never copied.
        let batches: Vec<Entries<ShopRecord>> = taken.into_iter().map(|t| t.2).collect();
        let mut pause = Duration::from_millis(10);
        loop {
            match tables.project(&positions, &batches).await {
                Ok(_) => break,
                Err(error) if tables.fenced_out() => {
                    tracing::error!(%error, "fenced out of the cluster: this node projects nothing more");
                    return;
                }
                Err(error) => {
                    projection.failed();
                    tracing::error!(%error, batches = positions.len(), "projecting the journal's log failed; trying again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(PROJECTION_RETRY_MS_MAX));
                }
            }
        }
        projection.projected(last);
    }
}

/// Projects every record left in the log (by a crash between a batch's commit and its
/// projection), oldest first, before anything reads the tables; returns how many.
pub(crate) async fn project_leftovers(tables: &impl LogTables) -> Result<u64, StoreError> {
    let mut projected = 0;
    loop {
        let rows = tables.oldest(LEFTOVER_ROWS_PER_READ).await?;
        if rows.is_empty() {
            if projected > 0 {
                tracing::info!(records = projected, "projected the journal's log left by the last run");
            }
            return Ok(projected);
        }
        let (positions, entries) = decode_rows(&rows)?;
        tables.project(&positions, std::slice::from_ref(&entries)).await?;
        projected += rows.len() as u64;
    }
}

/// The positions of log rows, and their records' entries in log order.
pub(crate) fn decode_rows(rows: &[LogRow]) -> Result<(Vec<i64>, Entries<ShopRecord>), StoreError> {
    let mut entries = Vec::new();
    for (position, bytes) in rows {
        let decoded = record::decode(bytes)
            .map_err(|error| StoreError::LogRecordUnreadable { position: *position, error: error.to_string() })?;
        entries.extend(decoded);
    }
    Ok((rows.iter().map(|r| r.0).collect(), Arc::new(entries)))
}

/// A store's journal on the log: the projection's state, and the projector writing the tables on
/// a thread of its own. (The backend's journal holds the writer lock: one process writes a
/// database's log, `store::lone_writer`; a second would project records the first still holds in
/// memory, and could write an older state over a newer one.)
pub(crate) struct LogJournal {
    pub(crate) projection: Arc<Projection>,
    /// Stops the projector's thread (a permit is kept if it is not waiting yet).
    stop: Arc<tokio::sync::Notify>,
}

impl LogJournal {
    /// Starts the projector on `tables`, on a thread of its own: its work (large transactions
    /// built from many batches) never queues the requests and flows of the thread that opened the
    /// store.
    pub(crate) fn start<T: LogTables>(tables: T, limits: ProjectionLimits) -> Result<LogJournal, StoreError> {
        let projection = Arc::new(Projection::new(limits));
        let stop = Arc::new(tokio::sync::Notify::new());
        let (projecting, stopping) = (projection.clone(), stop.clone());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(sqlx::Error::Io)?;
        std::thread::Builder::new()
            .name("warung-projector".into())
            .spawn(move || {
                if let Err(error) = crate::infra::thread_priority::lower_this_thread(T::PROJECTOR_NICE) {
                    tracing::warn!(%error, "the projector runs at the default priority");
                }
                runtime.block_on(async move {
                    tokio::select! {
                        () = run_projector(tables, projecting) => {}
                        () = stopping.notified() => {}
                    }
                })
            })
            .map_err(sqlx::Error::Io)?;
        Ok(LogJournal { projection, stop })
    }

    /// Lets the projector write what was acknowledged, so a clean stop leaves the log empty (what
    /// it cannot write in time stays in the log, for the next start), and stops it. The caller
    /// releases the writer lock after it, not before: no other process writes while it projects.
    pub(crate) async fn stop(&self) {
        if self.projection.is_held() {
            tracing::warn!("stopping with the projector held; the next start projects the log");
        } else if let Err(behind) = self.projection.fresh().await {
            tracing::warn!(%behind, "stopping with batches in the log; the next start projects them");
        }
        self.stop.notify_one();
    }
}

impl Drop for LogJournal {
    /// The projector holds the store's connections: it goes with the store, not with the process.
    fn drop(&mut self) {
        self.stop.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tables the projector never gets to: nothing is appended.
    struct Untouched;

    impl LogTables for Untouched {
        const PROJECTOR_NICE: i32 = PROJECTOR_THREAD_NICE;
        const TRANSACTION_EVENTS_MAX: usize = 1;

        fn project<'a>(
            &'a self,
            _: &'a [i64],
            _: &'a [Entries<ShopRecord>],
        ) -> BoxFuture<'a, Result<Projected, StoreError>> {
            unreachable!("nothing was appended")
        }

        fn oldest(&self, _: i64) -> BoxFuture<'_, Result<Vec<LogRow>, StoreError>> {
            unreachable!("nothing was appended")
        }
    }

    /// The nice value of each of this process's projector threads (named `warung-projector`,
    /// which the kernel cuts to 15 bytes).
    fn projector_threads_nice() -> Vec<i32> {
        let tasks = std::fs::read_dir("/proc/self/task").expect("this process's threads");
        tasks
            .filter_map(|task| {
                let task = task.ok()?;
                let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
                let tid: i32 = task.file_name().to_str()?.parse().ok()?;
                (comm.trim_end() == "warung-projecto").then_some(tid)
            })
            .filter_map(|tid| rustix::process::getpriority_process(rustix::process::Pid::from_raw(tid)).ok())
            .collect()
    }

    #[test]
    fn the_projector_runs_at_a_lower_priority_than_the_threads_that_answer() {
        let caller = crate::infra::thread_priority::this_thread_nice().unwrap();
        let journal = LogJournal::start(Untouched, ProjectionLimits::default()).expect("projector started");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let nice = loop {
            let nice = projector_threads_nice();
            if (!nice.is_empty() && nice.iter().all(|n| *n >= PROJECTOR_THREAD_NICE))
                || std::time::Instant::now() > deadline
            {
                break nice;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(!nice.is_empty(), "a projector thread is running");
        assert!(
            nice.iter().all(|n| *n >= PROJECTOR_THREAD_NICE),
            "every projector thread at nice {PROJECTOR_THREAD_NICE}: {nice:?}"
        );
        assert_eq!(
            crate::infra::thread_priority::this_thread_nice().unwrap(),
            caller,
            "the caller's thread is untouched"
        );
        drop(journal);
    }
}

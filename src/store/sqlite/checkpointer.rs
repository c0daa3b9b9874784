//! SQLite's checkpoints, off the writers' lane. Left to SQLite, the commit that takes the WAL past
//! `wal_autocheckpoint` pages copies them into the database and syncs it before it returns, on the
//! one lane every append and projection takes in turn (`WriterTurn`): measured, a tenth of that
//! lane's time, and every reply behind it waits.
//!
//! A `PASSIVE` checkpoint takes no write lock, so this task runs one every
//! `SQLITE_CHECKPOINT_INTERVAL_MS`, on a connection of its own, beside the writers. With writers
//! always at work it seldom finds the WAL wholly copied, and SQLite starts the WAL again from its
//! beginning only when it is; so once the WAL holds `SQLITE_WAL_RESTART_PAGES`, the task takes the
//! writers' turn for one more passive checkpoint, which then copies what the last one left (a few
//! milliseconds of writes) and finishes, and the next commit starts the WAL again. A commit
//! checkpoints by itself only past `SQLITE_WAL_AUTOCHECKPOINT_PAGES`: if this task cannot keep up,
//! or without the turn (the tables' journal, whose writers do not take it).
//!
//! Durability does not change: a commit is durable once its WAL frames are synced
//! (`synchronous = FULL`); a checkpoint only moves frames already durable into the database file.

use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::ConnectOptions;

use crate::store::log::sqlite::WriterTurn;

/// How often the checkpointer copies the WAL's committed frames into the database.
pub(crate) const SQLITE_CHECKPOINT_INTERVAL_MS: u64 = 100;

/// WAL pages (4 KiB each) past which the checkpointer takes the writers' turn to finish a
/// checkpoint, so that the WAL starts again from its beginning: about 8 MB of WAL at most.
pub(crate) const SQLITE_WAL_RESTART_PAGES: i64 = 2_000;

/// WAL pages past which every commit checkpoints by itself, as SQLite does by default at 1,000.
/// SQLite counts the pages since the WAL last started again, copied or not: with the checkpointer
/// keeping up, the WAL starts again long before this.
pub(crate) const SQLITE_WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// Failed checkpoints in a row after which the checkpointer warns (then once per as many more):
/// one failure is a moment's trouble, a run of them (a full disk, a broken file) is not.
const FAILURES_BEFORE_WARNING: u32 = 50;

/// The checkpointer's task; it stops when this is dropped or `stop` is called.
pub(crate) struct Checkpointer {
    task: tokio::task::JoinHandle<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database `options` open (one with a WAL: a file, not memory),
    /// taking `turn` to finish a checkpoint when the writers take it for every write.
    pub(crate) fn start(options: SqliteConnectOptions, turn: Option<WriterTurn>) -> Checkpointer {
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(SQLITE_CHECKPOINT_INTERVAL_MS));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut connection: Option<SqliteConnection> = None;
            let mut failures = 0u32;
            loop {
                tick.tick().await;
                // A checkpoint that fails leaves the frames in the WAL, durable; the next one, or a
                // commit past the bound, copies them. The connection is made again.
                match checkpoint(&mut connection, &options, turn.as_ref()).await {
                    Ok(()) => failures = 0,
                    Err(error) => {
                        connection = None;
                        failures += 1;
                        if failures.is_multiple_of(FAILURES_BEFORE_WARNING) {
                            tracing::warn!(%error, failures, "WAL checkpoints keep failing; commits checkpoint by themselves");
                        }
                    }
                }
            }
        });
        Checkpointer { task }
    }

    /// Stops the task (a checkpoint under way is left to finish on SQLite's side).
    pub(crate) fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn checkpoint(
    connection: &mut Option<SqliteConnection>,
    options: &SqliteConnectOptions,
    turn: Option<&WriterTurn>,
) -> Result<(), sqlx::Error> {
    let connection = match connection {
        Some(connection) => connection,
        None => connection.insert(options.connect().await?),
    };
    let wal_pages = passive(connection).await?;
    if let (true, Some(turn)) = (wal_pages >= SQLITE_WAL_RESTART_PAGES, turn) {
        let _turn = turn.lock().await;
        passive(connection).await?;
    }
    Ok(())
}

/// One passive checkpoint; the WAL's pages when it ran.
async fn passive(connection: &mut SqliteConnection) -> Result<i64, sqlx::Error> {
    let (_busy, wal_pages, _copied): (i64, i64, i64) =
        sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(connection).await?;
    Ok(wal_pages)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

    use super::*;

    /// Rows of 500 bytes written to the WAL, about 250 pages: far below the bounds.
    const ROWS: i64 = 2_000;

    /// How long the test waits for a checkpoint (one is due every 100 ms) before it fails.
    const CHECKPOINT_WAIT_SECS_MAX: u64 = 10;

    #[tokio::test]
    async fn committed_frames_reach_the_database_file_with_no_commit_checkpointing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shop.db");
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .unwrap()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .pragma("wal_autocheckpoint", SQLITE_WAL_AUTOCHECKPOINT_PAGES.to_string());
        let pool = SqlitePoolOptions::new().max_connections(2).connect_with(options.clone()).await.unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)").execute(&pool).await.unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&pool).await.unwrap();
        let before = std::fs::metadata(&path).unwrap().len();
        sqlx::query("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) INSERT INTO t SELECT i, printf('%.500c', 'x') FROM n")
            .bind(ROWS)
            .execute(&pool)
            .await
            .unwrap();
        // Far below the bound: no commit checkpoints, the rows are only in the WAL.
        assert_eq!(std::fs::metadata(&path).unwrap().len(), before);

        let _checkpointer = Checkpointer::start(options, None);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(CHECKPOINT_WAIT_SECS_MAX);
        // A checkpoint writes the pages one by one: wait for all of them.
        while std::fs::metadata(&path).unwrap().len() < (ROWS * 500) as u64 {
            assert!(tokio::time::Instant::now() < deadline, "no checkpoint copied the WAL into the database");
            tokio::time::sleep(Duration::from_millis(SQLITE_CHECKPOINT_INTERVAL_MS / 2)).await;
        }
    }
}

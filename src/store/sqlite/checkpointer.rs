//! SQLite's checkpoints, off the writer's lane. Left to SQLite, the commit that takes the WAL past
//! `wal_autocheckpoint` pages copies them into the database and fsyncs it before it returns, on
//! the one lane every append and projection takes in turn: measured, a tenth of that lane's time,
//! and every reply behind it waits. A `PASSIVE` checkpoint needs no write lock, so a task of its
//! own runs one every `SQLITE_CHECKPOINT_INTERVAL_MS` beside the writers, and a commit checkpoints
//! by itself only when the WAL has grown past `SQLITE_WAL_AUTOCHECKPOINT_PAGES` all the same.
//!
//! Durability does not change: a commit is durable once its WAL frames are synced
//! (`synchronous = FULL`); a checkpoint only moves frames already durable into the database file.

use std::time::Duration;

use sqlx::sqlite::SqlitePool;

/// How often the checkpointer copies the WAL's committed frames into the database. With writers
/// always at work a passive checkpoint seldom finds the WAL wholly copied, so the WAL is seldom
/// started again from its beginning: its file grows to about the bound below (measured: 40-43 MB
/// through a 60,000-sale run) and is reused from there, where it was about 4 MB.
pub(crate) const SQLITE_CHECKPOINT_INTERVAL_MS: u64 = 100;

/// WAL pages past which a commit checkpoints by itself, as SQLite does by default at 1,000: the
/// bound if the checkpointer falls behind (or a reader keeps it from finishing). About 40 MB.
pub(crate) const SQLITE_WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// The checkpointer's task; it stops when this is dropped or its pool is closed.
pub(crate) struct Checkpointer {
    task: tokio::task::JoinHandle<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database behind `pool` (one with a WAL: a file, not memory).
    pub(crate) fn start(pool: SqlitePool) -> Checkpointer {
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(SQLITE_CHECKPOINT_INTERVAL_MS));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if pool.is_closed() {
                    return;
                }
                // A checkpoint that fails (the file unreadable a moment) leaves the frames in the
                // WAL, durable; the next one, or a commit past the bound, copies them.
                if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
                    tracing::debug!(%error, "a WAL checkpoint failed; the next one retries");
                }
            }
        });
        Checkpointer { task }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

    use super::*;

    /// Rows of 500 bytes written to the WAL, about 250 pages: far below the bound.
    const ROWS: i64 = 2_000;

    #[tokio::test]
    async fn committed_frames_reach_the_database_file_with_no_commit_checkpointing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shop.db");
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .unwrap()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .pragma("wal_autocheckpoint", SQLITE_WAL_AUTOCHECKPOINT_PAGES.to_string());
        let pool = SqlitePoolOptions::new().max_connections(2).connect_with(options).await.unwrap();
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

        let _checkpointer = Checkpointer::start(pool.clone());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&path).unwrap().len() == before {
            assert!(tokio::time::Instant::now() < deadline, "no checkpoint copied the WAL into the database");
            tokio::time::sleep(Duration::from_millis(SQLITE_CHECKPOINT_INTERVAL_MS / 2)).await;
        }
        assert!(std::fs::metadata(&path).unwrap().len() >= (ROWS * 500) as u64);
    }
}

//! Between a strategy's preparation and its sale: the writes still in memory (its preparation's,
//! and what the strategies before it left) are written out first, so that no strategy sells
//! while the disk and the kernel's writeback work for another's data. Runs that followed another
//! one within seconds were measured 10 to 15% slower than the same build run first
//! (docs/benchmarks.md, fourteenth part), whichever build it was.

use std::time::Instant;

use anyhow::Context;

/// Asks the lab's Postgres for a checkpoint (its dirty shared buffers written and synced), then
/// the kernel to write every dirty page (`sync(2)`). A server that refuses the checkpoint (a role
/// without the right to it) or cannot be reached does not stop the run: the note says so.
pub async fn settle(database_url: &str) -> String {
    let started = Instant::now();
    let checkpoint = async {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(database_url).await?;
        sqlx::query("CHECKPOINT").execute(&mut conn).await?;
        sqlx::Connection::close(conn).await
    };
    let checkpointed = checkpoint.await.context("a CHECKPOINT on --database-url");
    let synced = tokio::task::spawn_blocking(nix::unistd::sync).await.context("sync(2)");
    let took = started.elapsed().as_millis();
    match (checkpointed, synced) {
        (Ok(()), Ok(())) => format!("pending writes flushed before selling (CHECKPOINT, sync) in {took} ms"),
        (checkpointed, synced) => {
            let failed: Vec<String> =
                [checkpointed.err(), synced.err()].into_iter().flatten().map(|e| format!("{e:#}")).collect();
            format!("pending writes flushed before selling in {took} ms, except: {}", failed.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::settle;

    #[tokio::test]
    async fn the_labs_postgres_checkpoints_and_the_disk_syncs() {
        let note = settle("postgres://postgres@127.0.0.1:5432/postgres").await;
        assert!(note.starts_with("pending writes flushed before selling (CHECKPOINT, sync) in "), "{note}");
    }

    #[tokio::test]
    async fn a_server_that_cannot_be_reached_is_named_and_the_run_goes_on() {
        let note = settle("postgres://postgres@127.0.0.1:1/postgres").await;
        assert!(note.contains(", except: a CHECKPOINT on --database-url"), "{note}");
        assert!(!note.contains("sync(2)"), "the sync still ran: {note}");
    }
}

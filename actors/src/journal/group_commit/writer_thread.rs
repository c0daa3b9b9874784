//! The journal's writer thread: a large batch is written from it rather than from the thread
//! that gathers the batches (see `JournalSettings::writer_thread_events_min`).
//!
//! Writing a batch is work on the gathering thread: its record is encoded, its statements are
//! sent and their answers read. When that thread is the limit (a thousand buyers in flight on
//! the engine's one thread), a thousand-event batch's writing is time its actors do not run, while
//! the other core waits for Postgres. Handed over, a batch costs two wake-ups across threads: its
//! task is queued here, and its end wakes the runner. For a small batch those wake-ups cost more
//! than the writing moved (measured at 64 buyers in flight: no gain, and slower in some runs),
//! so small batches stay where they are gathered.
//!
//! One thread serves every journal of the process and lives as long as the process: a
//! connection is driven by the runtime that opened it, and a pooled one outlives any journal.
//! It starts on the first large batch and sleeps when there is none.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::Handle;
use tokio::task::JoinHandle;

/// The writer thread's name, as `ps` and the lab's CPU report show it (15 bytes at most).
const WRITER_THREAD_NAME: &str = "warung-writer";

/// Runs `task` on the writer thread; on the caller's runtime if the thread could not start.
pub(super) fn spawn<F>(task: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match writer() {
        Some(writer) => writer.spawn(task),
        None => tokio::spawn(task),
    }
}

fn writer() -> Option<&'static Handle> {
    static WRITER: OnceLock<Option<Handle>> = OnceLock::new();
    WRITER.get_or_init(|| start().inspect_err(|error| tracing::warn!(%error, "no journal writer thread; batches are written where they are gathered")).ok()).as_ref()
}

fn start() -> std::io::Result<Handle> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let handle = runtime.handle().clone();
    std::thread::Builder::new()
        .name(WRITER_THREAD_NAME.into())
        .spawn(move || runtime.block_on(std::future::pending::<()>()))?;
    Ok(handle)
}

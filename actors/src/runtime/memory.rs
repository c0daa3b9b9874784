//! Handing memory back to the system once many actors have passivated. An allocator keeps what a
//! thread freed for that thread's next allocations; after a flash sale the threads that ran tens
//! of thousands of actors may allocate little for hours, and what those actors held stays
//! resident. The binary says how its allocator releases a thread's freed memory
//! (`release_memory_with`); the supervisor runs it on each of its threads once enough actors
//! have stopped (`Supervisor::release_memory_after`).

use std::sync::OnceLock;

/// Actors stopped (passivated, or handed off) since the last release before the supervisor
/// releases again: a release walks each thread's heap (milliseconds for hundreds of MB), too much
/// to pay after every sweep that stops a handful.
pub const STOPS_BEFORE_MEMORY_RELEASE: u64 = 1_000;

static RELEASE: OnceLock<fn()> = OnceLock::new();

/// Sets how this process gives the memory a thread has freed back to the system. Set once, by the
/// binary that chose the allocator; later calls are ignored. Unset (tests, other allocators), a
/// release only shrinks the supervisor's own maps.
pub fn release_memory_with(release: fn()) {
    let _ = RELEASE.set(release);
}

/// Releases what the calling thread's allocator keeps, if the process said how.
pub(crate) fn release_on_this_thread() {
    if let Some(release) = RELEASE.get() {
        release();
    }
}

//! The journal's log (docs/journal-log.md): each batch as one record, appended and committed
//! before any reply in it is released; the tables are projected from it.
//!
//! - `wire`: the record's primitives, checked as they are read.
//! - `record`: a batch's entries as one versioned binary record, and back.
//! - `limits`: how far the tables may fall behind, and when the projector writes them.
//! - `projection`: how far the tables are behind the log; the fresh-read barrier and the
//!   journal's backpressure.
//! - `projector`: writing the acknowledged batches to the tables in log order, and what a crash
//!   left in the log at start, on either backend.
//! - `postgres`, `sqlite`: each backend's append, writer lock and projection transaction.
//! - `cluster`: several nodes on one log (Postgres): the records of nodes fenced out, hand-offs,
//!   and the reads that wait for other nodes' records.

pub mod cluster;
pub mod limits;
pub(crate) mod postgres;
pub mod projection;
pub(crate) mod projector;
pub mod record;
pub(crate) mod sqlite;
pub mod wire;

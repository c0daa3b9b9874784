//! The journal's log (docs/journal-log.md): each batch as one record, appended and committed
//! before any reply in it is released; the tables are projected from it.
//!
//! - `wire`: the record's primitives, checked as they are read.
//! - `record`: a batch's entries as one versioned binary record, and back.
//! - `projection`: how far the tables are behind the log; the fresh-read barrier and the
//!   journal's backpressure.
//! - `postgres`: appending a record, the projector, and projecting what a crash left.

pub(crate) mod postgres;
pub mod projection;
pub mod record;
pub mod wire;

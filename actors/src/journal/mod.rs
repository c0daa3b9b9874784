//! The journal: every change of stock and money passes through it on its way to the store.
//! `event` defines the rows the actors write; `entry` what a batch carries (those events, and
//! records of the caller's own stored with them, which the journal never looks inside);
//! `group_commit` batches them across actors and tells each submitter when its rows are durable
//! (or that they never will be).

mod entry;
mod event;
mod group_commit;

pub use entry::{Entry, Record};
pub use event::*;
pub use group_commit::{
    after, ActorKey, Awaited, Earlier, Entries, Incarnation, Journal, JournalError, JournalSettings, JournalStats,
    Origin, Sink, SinkError, SubmitSlot, Ticket, JOURNAL_QUEUE_SUBMISSIONS_MAX, PIPELINE_BATCHES_MAX,
};

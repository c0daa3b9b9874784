//! The journal: every change of stock and money passes through it on its way to the store.
//! `event` defines the rows it persists; `group_commit` batches them across actors and tells each
//! submitter when its rows are durable (or that they never will be).

mod event;
mod group_commit;

pub use event::*;
pub use group_commit::{
    after, ActorKey, Earlier, Incarnation, Journal, JournalError, JournalSettings, JournalStats, Origin, Sink,
    SinkError, SubmitSlot, Ticket, JOURNAL_QUEUE_SUBMISSIONS_MAX, PIPELINE_BATCHES_MAX,
};

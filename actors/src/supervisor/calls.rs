//! What any actor call can fail with, apart from the actor's own rejections, and the lifecycle
//! messages every actor understands.

use actix::Message;
use serde::Serialize;

use crate::journal::JournalError;

/// A call that did not get an answer from the actor's rules. Every variant means "nothing was
/// promised": the caller may retry with the same id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum CallError {
    #[error("busy, try again")]
    Busy,
    #[error("not found")]
    NotFound,
    #[error("the change was not stored, try again: {reason}")]
    NotStored { reason: String },
    #[error("the store is unavailable, try again: {reason}")]
    StoreUnavailable { reason: String },
    #[error("this actor keeps crashing and is paused until {until_ms}")]
    Quarantined { until_ms: i64 },
    #[error("the actor stopped before answering, try again")]
    Stopped,
    #[error("the stored state is inconsistent: {reason}")]
    Corrupt { reason: String },
}

impl From<JournalError> for CallError {
    fn from(error: JournalError) -> CallError {
        match error {
            JournalError::Busy => CallError::Busy,
            JournalError::CommitFailed(reason) => CallError::NotStored { reason },
            JournalError::Fenced => CallError::NotStored { reason: "an earlier change failed; reloading".into() },
            JournalError::Closed => CallError::Stopped,
        }
    }
}

/// The answer to a command: the actor's outcome or rejection, once durable.
pub type Reply<O, R> = Result<Result<O, R>, CallError>;

/// Stop if idle, with nothing in flight. Answers whether it stopped.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct Passivate;

/// Stop now: the actor's memory is no longer trusted (a commit of its changes failed).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Stop;

/// Panics inside the actor, so tests can exercise the supervisor's restart path.
#[derive(Message)]
#[rtype(result = "()")]
pub struct CrashForTest;

//! How an actor answers: what any call can fail with apart from the actor's own rejections, when
//! the answer is given, and the rule that holds it until the changes it reports are stored.

use serde::Serialize;

use crate::journal::{Awaited, JournalError, Ticket};

/// A call that did not get an answer from the actor's rules. Every variant means "nothing was
/// promised": the caller may retry with the same id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, serde::Deserialize)]
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
    /// In a cluster: this node does not own the actor's shard (it is moving), try again.
    #[error("this actor is served by another node, try again")]
    NotOwner,
    /// In a cluster: the node that runs the customer's flow took it but did not answer in time.
    /// It may have finished: look the order or balance up before trying again.
    #[error("the answer was lost, the outcome is unknown: {reason}")]
    OutcomeUnknown { reason: String },
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
pub type Reply<Outcome, Rejection> = Result<Result<Outcome, Rejection>, CallError>;

/// When an actor answers a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ReplyWhen {
    /// Once its changes (and everything the actor changed before) are stored. The default, and
    /// the only choice for an answer that reaches a person.
    Durable,
    /// As soon as it is applied. Only for an intermediate step of a flow whose last step is
    /// `Durable` on the same actor: the journal stores an actor's changes in order and fences it
    /// if any fail, so the last step's success proves this one stored too.
    Applied,
}

impl From<ReplyWhen> for Awaited {
    fn from(when: ReplyWhen) -> Awaited {
        match when {
            ReplyWhen::Durable => Awaited::Yes,
            ReplyWhen::Applied => Awaited::No,
        }
    }
}

/// The durability rule: an answer is given only once the changes it reports are stored.
///
/// The actor hands its answer back at once, held with the ticket of the changes it reports (and
/// of everything the actor changed before); the only way to take it out is `durable`, which
/// waits for that ticket. Waiting on the caller's side, not the actor's: an actix answer that is
/// a future makes actix spawn a task for it, one more task a sale.
#[must_use = "the answer is given only once `durable` says its changes are stored"]
pub struct Held<T> {
    result: Result<T, CallError>,
    ticket: Option<Ticket>,
}

impl<T> Held<T> {
    /// `result`, to be given once `ticket` (if any) resolves.
    pub(crate) fn until(result: Result<T, CallError>, ticket: Option<Ticket>) -> Held<T> {
        Held { result, ticket }
    }

    /// The answer of a command given as soon as it is applied (`ReplyWhen::Applied`): there is
    /// no ticket to wait for.
    pub(crate) fn applied(self) -> Result<T, CallError> {
        debug_assert!(self.ticket.is_none(), "an answer given when applied holds no ticket");
        self.result
    }

    /// The answer, once the changes it reports are stored; if they never will be, why.
    pub async fn durable(self) -> Result<T, CallError> {
        if let Some(ticket) = self.ticket {
            ticket.await.map_err(CallError::from)?;
        }
        self.result
    }
}

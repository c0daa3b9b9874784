//! The gateway's durable queues, written once for both backends: the webhook inbox (every
//! provider event once; inbound messages until they are answered) and the outbox (every message
//! to send, until it is sent or given up). This file has the types and the decoding of rows;
//! `queries` the statements.

use async_trait::async_trait;

use super::StoreError;

mod queries;

/// Unsent entries one destination may hold: a customer whose replies cannot be delivered (a
/// number that left WhatsApp, one backing off for hours) stops collecting more past this, and a
/// reply beyond it is dropped and logged. No other customer waits on them either way.
pub const OUTBOX_DESTINATION_UNSENT_MAX: i64 = 100;

/// What an outbox entry is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Due at `next_attempt_at`.
    Pending,
    /// Claimed by a sender until `next_attempt_at`; a sender that died holding it lets the claim
    /// lapse, and the entry is sent again (the one case where a reply may arrive twice).
    Sending,
    Sent,
    /// Given up: the provider refused it for good, or it ran out of attempts.
    Failed,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Result<OutboxStatus, StoreError> {
        Ok(match text {
            "pending" => OutboxStatus::Pending,
            "sending" => OutboxStatus::Sending,
            "sent" => OutboxStatus::Sent,
            "failed" => OutboxStatus::Failed,
            other => return Err(StoreError::Corrupt(format!("outbox status {other:?}"))),
        })
    }
}

/// A provider event to record.
#[derive(Clone, Debug)]
pub struct InboxEntry<'a> {
    pub provider: &'a str,
    pub event_id: &'a str,
    pub received_at: i64,
    /// Whose queue it joins; `None` for events nobody answers (statuses, errors).
    pub customer: Option<&'a str>,
    pub payload: &'a str,
    /// `false` for an event still to be acted on (an inbound message).
    pub handled: bool,
}

/// A recorded event not yet handled.
#[derive(Clone, Debug, PartialEq)]
pub struct InboxRow {
    pub event_id: String,
    pub received_at: i64,
    pub customer: Option<String>,
    pub payload: String,
}

/// A message to send. `dedup_key` names what it answers: writing the same key twice keeps the
/// first entry, so an answer computed twice (after a restart) is sent once.
#[derive(Clone, Debug, PartialEq)]
pub struct NewOutbox {
    pub dedup_key: String,
    pub kind: String,
    pub destination: String,
    pub payload: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OutboxRow {
    pub id: i64,
    pub dedup_key: Option<String>,
    pub kind: String,
    pub destination: String,
    pub payload: String,
    pub status: OutboxStatus,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
}

#[async_trait]
pub trait Mailbox: Send + Sync {
    /// Records a provider's event once, durably; `false` when it was already recorded (a
    /// duplicate delivery).
    async fn record_webhook(&self, entry: &InboxEntry<'_>) -> Result<bool, StoreError>;
    /// A provider's events not yet handled, oldest first.
    async fn unhandled_webhooks(&self, provider: &str, limit: i64) -> Result<Vec<InboxRow>, StoreError>;
    /// Marks an event handled and queues its replies, in one transaction: a crash leaves either
    /// both or neither.
    async fn finish_webhook(
        &self,
        provider: &str,
        event_id: &str,
        at: i64,
        replies: &[NewOutbox],
    ) -> Result<(), StoreError>;
    /// Queues messages not tied to an inbound event (a payment confirmed, an order expired).
    async fn enqueue(&self, at: i64, messages: &[NewOutbox]) -> Result<(), StoreError>;
    /// Each destination's oldest unsent entry, if it is due at `now` (pending, or a lapsed claim),
    /// soonest first: one destination's entries wait behind its first, nobody else's do.
    async fn due_outbox(&self, now: i64, limit: i64) -> Result<Vec<OutboxRow>, StoreError>;
    /// Entries a sender holds now (claimed, its send under way).
    async fn outbox_in_flight(&self, now: i64) -> Result<i64, StoreError>;
    /// When the next unsent entry is due, if any: the soonest of each destination's first one.
    async fn next_outbox_due(&self) -> Result<Option<i64>, StoreError>;
    /// Claims an entry until `until`; `false` when another sender has it.
    async fn claim_outbox(&self, row: &OutboxRow, until: i64) -> Result<bool, StoreError>;
    async fn outbox_sent(&self, id: i64, at: i64, provider_id: &str) -> Result<(), StoreError>;
    /// Puts an entry back until `next_attempt_at`, and its destination's later entries with it
    /// (they go after it, so none of them is due before it).
    async fn outbox_retry(&self, id: i64, next_attempt_at: i64, error: &str) -> Result<(), StoreError>;
    async fn outbox_failed(&self, id: i64, error: &str) -> Result<(), StoreError>;
    /// Every entry for one destination, oldest first (tests, support).
    async fn outbox_of(&self, destination: &str) -> Result<Vec<OutboxRow>, StoreError>;
}

/// id, dedup_key, kind, destination, payload, status, attempts, next_attempt_at, provider_id, last_error
pub(crate) type OutboxTuple =
    (i64, Option<String>, String, String, String, String, i64, i64, Option<String>, Option<String>);

pub(crate) const OUTBOX_COLUMNS: &str =
    "id, dedup_key, kind, destination, payload, status, attempts, next_attempt_at, provider_id, last_error";

pub(crate) fn outbox_row(t: OutboxTuple) -> Result<OutboxRow, StoreError> {
    Ok(OutboxRow {
        id: t.0,
        dedup_key: t.1,
        kind: t.2,
        destination: t.3,
        payload: t.4,
        status: OutboxStatus::parse(&t.5)?,
        attempts: t.6,
        next_attempt_at: t.7,
        provider_id: t.8,
        last_error: t.9,
    })
}

//! The gateway's durable queues, written once for both backends: the webhook inbox (every
//! provider event once; inbound messages until they are answered) and the outbox (every message
//! to send, until it is sent or given up).

use async_trait::async_trait;

use super::StoreError;

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
pub trait Mailbox {
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

/// Implements `Mailbox` for a backend type with a `pool` field.
macro_rules! impl_mailbox {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl crate::store::mailbox::Mailbox for $store {
            async fn record_webhook(
                &self,
                e: &crate::store::mailbox::InboxEntry<'_>,
            ) -> Result<bool, crate::store::StoreError> {
                let done = sqlx::query(
                    "INSERT INTO webhook_inbox (provider, event_id, received_at, payload, customer, handled_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (provider, event_id) DO NOTHING",
                )
                .bind(e.provider)
                .bind(e.event_id)
                .bind(e.received_at)
                .bind(e.payload)
                .bind(e.customer)
                .bind(e.handled.then_some(e.received_at))
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn unhandled_webhooks(
                &self,
                provider: &str,
                limit: i64,
            ) -> Result<Vec<crate::store::mailbox::InboxRow>, crate::store::StoreError> {
                let rows: Vec<(String, i64, Option<String>, String)> = sqlx::query_as(
                    "SELECT event_id, received_at, customer, payload FROM webhook_inbox \
                     WHERE handled_at IS NULL AND provider = $1 ORDER BY received_at, event_id LIMIT $2",
                )
                .bind(provider)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(event_id, received_at, customer, payload)| crate::store::mailbox::InboxRow {
                        event_id,
                        received_at,
                        customer,
                        payload,
                    })
                    .collect())
            }

            async fn finish_webhook(
                &self,
                provider: &str,
                event_id: &str,
                at: i64,
                replies: &[crate::store::mailbox::NewOutbox],
            ) -> Result<(), crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
                for m in replies {
                    insert_outbox(&mut tx, at, m).await?;
                }
                sqlx::query("UPDATE webhook_inbox SET handled_at = $1 WHERE provider = $2 AND event_id = $3")
                    .bind(at)
                    .bind(provider)
                    .bind(event_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn enqueue(
                &self,
                at: i64,
                messages: &[crate::store::mailbox::NewOutbox],
            ) -> Result<(), crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
                for m in messages {
                    insert_outbox(&mut tx, at, m).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn due_outbox(
                &self,
                now: i64,
                limit: i64,
            ) -> Result<Vec<crate::store::mailbox::OutboxRow>, crate::store::StoreError> {
                // Due entries by due time (index `outbox_due`), each kept only if no older unsent
                // entry of its destination exists (index `outbox_unsent_by_destination`).
                let sql = format!(
                    "SELECT {} FROM outbox o WHERE o.status IN ('pending', 'sending') AND o.next_attempt_at <= $1 \
                     AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.destination = o.destination \
                       AND e.status IN ('pending', 'sending') AND e.id < o.id) \
                     ORDER BY o.next_attempt_at, o.id LIMIT $2",
                    crate::store::mailbox::OUTBOX_COLUMNS
                );
                let rows: Vec<crate::store::mailbox::OutboxTuple> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(limit).fetch_all(&self.pool).await?;
                rows.into_iter().map(crate::store::mailbox::outbox_row).collect()
            }

            async fn outbox_in_flight(&self, now: i64) -> Result<i64, crate::store::StoreError> {
                let held: (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE status = 'sending' AND next_attempt_at > $1")
                        .bind(now)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(held.0)
            }

            async fn next_outbox_due(&self) -> Result<Option<i64>, crate::store::StoreError> {
                // Over each destination's first entry only: an entry behind another is not due
                // before it, whatever its own time says.
                let next: (Option<i64>,) = sqlx::query_as(
                    "SELECT MIN(o.next_attempt_at) FROM outbox o WHERE o.status IN ('pending', 'sending') \
                     AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.destination = o.destination \
                       AND e.status IN ('pending', 'sending') AND e.id < o.id)",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok(next.0)
            }

            async fn claim_outbox(
                &self,
                row: &crate::store::mailbox::OutboxRow,
                until: i64,
            ) -> Result<bool, crate::store::StoreError> {
                let done = sqlx::query(
                    "UPDATE outbox SET status = 'sending', next_attempt_at = $1 \
                     WHERE id = $2 AND status = $3 AND next_attempt_at = $4",
                )
                .bind(until)
                .bind(row.id)
                .bind(row.status.as_str())
                .bind(row.next_attempt_at)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn outbox_sent(&self, id: i64, at: i64, provider_id: &str) -> Result<(), crate::store::StoreError> {
                sqlx::query(
                    "UPDATE outbox SET status = 'sent', sent_at = $1, provider_id = $2, attempts = attempts + 1 WHERE id = $3",
                )
                .bind(at)
                .bind(provider_id)
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn outbox_retry(
                &self,
                id: i64,
                next_attempt_at: i64,
                error: &str,
            ) -> Result<(), crate::store::StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "UPDATE outbox SET status = 'pending', next_attempt_at = $1, last_error = $2, attempts = attempts + 1 \
                     WHERE id = $3",
                )
                .bind(next_attempt_at)
                .bind(error)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE outbox SET next_attempt_at = $1 WHERE status = 'pending' AND id > $2 AND next_attempt_at < $1 \
                     AND destination = (SELECT destination FROM outbox WHERE id = $2)",
                )
                .bind(next_attempt_at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn outbox_failed(&self, id: i64, error: &str) -> Result<(), crate::store::StoreError> {
                sqlx::query("UPDATE outbox SET status = 'failed', last_error = $1, attempts = attempts + 1 WHERE id = $2")
                    .bind(error)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn outbox_of(
                &self,
                destination: &str,
            ) -> Result<Vec<crate::store::mailbox::OutboxRow>, crate::store::StoreError> {
                let sql = format!(
                    "SELECT {} FROM outbox WHERE destination = $1 ORDER BY id",
                    crate::store::mailbox::OUTBOX_COLUMNS
                );
                let rows: Vec<crate::store::mailbox::OutboxTuple> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(destination).fetch_all(&self.pool).await?;
                rows.into_iter().map(crate::store::mailbox::outbox_row).collect()
            }
        }

        async fn insert_outbox(
            tx: &mut sqlx::Transaction<'_, $db>,
            at: i64,
            m: &crate::store::mailbox::NewOutbox,
        ) -> Result<(), sqlx::Error> {
            // Queued behind the destination's entries backing off (due no earlier than they are; a
            // claim's time is not a backoff), and only while the destination holds fewer than
            // OUTBOX_DESTINATION_UNSENT_MAX.
            let done = sqlx::query(
                "INSERT INTO outbox (dedup_key, kind, destination, payload, status, attempts, next_attempt_at, created_at) \
                 SELECT $1, $2, $3, $4, 'pending', 0, \
                   CASE WHEN later.due > $5 THEN later.due ELSE $5 END, $5 \
                 FROM (SELECT MAX(CASE WHEN status = 'pending' THEN next_attempt_at END) AS due, COUNT(*) AS unsent \
                       FROM outbox WHERE destination = $3 AND status IN ('pending', 'sending')) AS later \
                 WHERE later.unsent < $6 ON CONFLICT (dedup_key) DO NOTHING",
            )
            .bind(&m.dedup_key)
            .bind(&m.kind)
            .bind(&m.destination)
            .bind(&m.payload)
            .bind(at)
            .bind(crate::store::mailbox::OUTBOX_DESTINATION_UNSENT_MAX)
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() == 0 {
                let known: Option<(i64,)> = sqlx::query_as("SELECT id FROM outbox WHERE dedup_key = $1")
                    .bind(&m.dedup_key)
                    .fetch_optional(&mut **tx)
                    .await?;
                if known.is_none() {
                    tracing::warn!(
                        destination = %warung_actors::domain::masked(&m.destination),
                        "a destination's outbox backlog is full; a reply was dropped"
                    );
                }
            }
            Ok(())
        }
    };
}
pub(crate) use impl_mailbox;

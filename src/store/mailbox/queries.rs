//! The mailbox's statements (see `Mailbox`).

use async_trait::async_trait;
use warung_actors::domain::masked;

use super::{outbox_row, InboxEntry, InboxRow, Mailbox, NewOutbox, OutboxRow, OutboxTuple, OUTBOX_COLUMNS};
use super::{StoreError, OUTBOX_DESTINATION_UNSENT_MAX};
use crate::store::backend::SqlStore;
use crate::store::sql::{Query, Tx};

#[async_trait]
impl Mailbox for SqlStore {
    async fn record_webhook(&self, e: &InboxEntry<'_>) -> Result<bool, StoreError> {
        let done = Query::new(
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
        Ok(done == 1)
    }

    async fn unhandled_webhooks(&self, provider: &str, limit: i64) -> Result<Vec<InboxRow>, StoreError> {
        let rows: Vec<(String, i64, Option<String>, String)> = Query::new(
            "SELECT event_id, received_at, customer, payload FROM webhook_inbox \
             WHERE handled_at IS NULL AND provider = $1 ORDER BY received_at, event_id LIMIT $2",
        )
        .bind(provider)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(event_id, received_at, customer, payload)| InboxRow { event_id, received_at, customer, payload })
            .collect())
    }

    async fn finish_webhook(
        &self,
        provider: &str,
        event_id: &str,
        at: i64,
        replies: &[NewOutbox],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_fenced().await?;
        for m in replies {
            insert_outbox(&mut tx, at, m).await?;
        }
        Query::new("UPDATE webhook_inbox SET handled_at = $1 WHERE provider = $2 AND event_id = $3")
            .bind(at)
            .bind(provider)
            .bind(event_id)
            .execute_in(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn enqueue(&self, at: i64, messages: &[NewOutbox]) -> Result<(), StoreError> {
        let mut tx = self.begin_fenced().await?;
        for m in messages {
            insert_outbox(&mut tx, at, m).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn due_outbox(&self, now: i64, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        // Due entries by due time (index `outbox_due`), each kept only if no older unsent entry
        // of its destination exists (index `outbox_unsent_by_destination`).
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox o WHERE o.status IN ('pending', 'sending') AND o.next_attempt_at <= $1 \
             AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.destination = o.destination \
               AND e.status IN ('pending', 'sending') AND e.id < o.id) \
             ORDER BY o.next_attempt_at, o.id LIMIT $2"
        );
        let rows: Vec<OutboxTuple> = Query::assembled(sql).bind(now).bind(limit).fetch_all(&self.pool).await?;
        rows.into_iter().map(outbox_row).collect()
    }

    async fn outbox_in_flight(&self, now: i64) -> Result<i64, StoreError> {
        let held: (i64,) = Query::new("SELECT COUNT(*) FROM outbox WHERE status = 'sending' AND next_attempt_at > $1")
            .bind(now)
            .fetch_one(&self.pool)
            .await?;
        Ok(held.0)
    }

    async fn next_outbox_due(&self) -> Result<Option<i64>, StoreError> {
        // Over each destination's first entry only: an entry behind another is not due before
        // it, whatever its own time says.
        let next: (Option<i64>,) = Query::new(
            "SELECT MIN(o.next_attempt_at) FROM outbox o WHERE o.status IN ('pending', 'sending') \
             AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.destination = o.destination \
               AND e.status IN ('pending', 'sending') AND e.id < o.id)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(next.0)
    }

    async fn claim_outbox(&self, row: &OutboxRow, until: i64) -> Result<bool, StoreError> {
        let done = Query::new(
            "UPDATE outbox SET status = 'sending', next_attempt_at = $1 \
             WHERE id = $2 AND status = $3 AND next_attempt_at = $4",
        )
        .bind(until)
        .bind(row.id)
        .bind(row.status.as_str())
        .bind(row.next_attempt_at)
        .execute(&self.pool)
        .await?;
        Ok(done == 1)
    }

    async fn outbox_sent(&self, id: i64, at: i64, provider_id: &str) -> Result<(), StoreError> {
        Query::new(
            "UPDATE outbox SET status = 'sent', sent_at = $1, provider_id = $2, attempts = attempts + 1 WHERE id = $3",
        )
        .bind(at)
        .bind(provider_id)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn outbox_retry(&self, id: i64, next_attempt_at: i64, error: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        Query::new(
            "UPDATE outbox SET status = 'pending', next_attempt_at = $1, last_error = $2, attempts = attempts + 1 \
             WHERE id = $3",
        )
        .bind(next_attempt_at)
        .bind(error)
        .bind(id)
        .execute_in(&mut tx)
        .await?;
        Query::new(
            "UPDATE outbox SET next_attempt_at = $1 WHERE status = 'pending' AND id > $2 AND next_attempt_at < $1 \
             AND destination = (SELECT destination FROM outbox WHERE id = $2)",
        )
        .bind(next_attempt_at)
        .bind(id)
        .execute_in(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn outbox_failed(&self, id: i64, error: &str) -> Result<(), StoreError> {
        Query::new("UPDATE outbox SET status = 'failed', last_error = $1, attempts = attempts + 1 WHERE id = $2")
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn outbox_of(&self, destination: &str) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE destination = $1 ORDER BY id");
        let rows: Vec<OutboxTuple> = Query::assembled(sql).bind(destination).fetch_all(&self.pool).await?;
        rows.into_iter().map(outbox_row).collect()
    }
}

/// Queues a message behind its destination's entries backing off (due no earlier than they
/// are; a claim's time is not a backoff), and only while the destination holds fewer than
/// OUTBOX_DESTINATION_UNSENT_MAX.
async fn insert_outbox(tx: &mut Tx, at: i64, m: &NewOutbox) -> Result<(), sqlx::Error> {
    let done = Query::new(
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
    .bind(OUTBOX_DESTINATION_UNSENT_MAX)
    .execute_in(tx)
    .await?;
    if done == 0 {
        let known: Option<(i64,)> =
            Query::new("SELECT id FROM outbox WHERE dedup_key = $1").bind(&m.dedup_key).fetch_optional_in(tx).await?;
        if known.is_none() {
            tracing::warn!(
                destination = %masked(&m.destination),
                "a destination's outbox backlog is full; a reply was dropped"
            );
        }
    }
    Ok(())
}

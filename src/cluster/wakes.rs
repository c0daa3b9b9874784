//! Telling other nodes of a change: an admin's (every node reloads its caches), and work
//! recorded by one node for a shard another node owns: a customer's WhatsApp message. Any
//! node records a webhook (the inbox row carries the customer's shard) and publishes a wake on
//! `<cluster>.wake.inbox.<shard>`; the owner reads the shard's unanswered messages from the table
//! and answers them in order. A wake is only a hint: lost, the owner's periodic scan finds the
//! message anyway; repeated, the message is already queued.

use futures::StreamExt;
use sqlx::PgPool;
use warung_actors::domain::CustomerId;

use super::shard::Shard;
use crate::store::InboxRow;

#[derive(Clone)]
pub struct Wakes {
    client: async_nats::Client,
    cluster: String,
}

impl Wakes {
    pub fn new(client: async_nats::Client, cluster: String) -> Wakes {
        Wakes { client, cluster }
    }

    /// Tells the owner of `shard` that a message waits for it. Fire and forget: see the module.
    pub async fn inbox(&self, shard: Shard) {
        let subject = format!("{}.wake.inbox.{shard}", self.cluster);
        if let Err(error) = self.client.publish(subject, Vec::<u8>::new().into()).await {
            tracing::warn!(%error, %shard, "could not wake a shard's owner; its scan will find the message");
        }
    }

    /// Tells every node that an admin changed the catalogue, the shop's settings or the roles:
    /// each reloads its caches of them.
    pub async fn caches_changed(&self) {
        if let Err(error) = self.client.publish(format!("{}.caches", self.cluster), Vec::<u8>::new().into()).await {
            tracing::warn!(%error, "could not tell the other nodes to reload their caches; they will within a minute");
        }
    }

    /// The cluster's "caches changed" announcements, one item each.
    pub async fn cache_changes(&self) -> Result<impl futures::Stream<Item = ()>, async_nats::SubscribeError> {
        Ok(self.client.subscribe(format!("{}.caches", self.cluster)).await?.map(|_| ()))
    }

    /// Every inbox wake of the cluster, as the shard it names (each node hears all of them and
    /// acts on those of its own shards).
    pub async fn inbox_wakes(&self) -> Result<impl futures::Stream<Item = Shard>, async_nats::SubscribeError> {
        let prefix = format!("{}.wake.inbox.", self.cluster);
        let subscription = self.client.subscribe(format!("{prefix}*")).await?;
        Ok(subscription.filter_map(move |message| {
            let shard = message.subject.as_str().strip_prefix(&prefix).and_then(|n| n.parse::<u8>().ok());
            futures::future::ready(shard.map(Shard::from_number))
        }))
    }
}

/// The unanswered messages of `provider` in `shards` (of one customer when given), oldest first.
pub async fn unhandled_inbox(
    pool: &PgPool,
    provider: &str,
    shards: &[Shard],
    customer: Option<&CustomerId>,
    limit: i64,
) -> Result<Vec<InboxRow>, sqlx::Error> {
    let rows: Vec<(String, i64, Option<String>, String)> = sqlx::query_as(
        "SELECT event_id, received_at, customer, payload FROM webhook_inbox \
         WHERE handled_at IS NULL AND provider = $1 AND shard = ANY($2) AND ($3::text IS NULL OR customer = $3) \
         ORDER BY received_at, event_id LIMIT $4",
    )
    .bind(provider)
    .bind(shards.iter().map(|s| i16::from(s.number())).collect::<Vec<_>>())
    .bind(customer.map(CustomerId::as_str))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(event_id, received_at, customer, payload)| InboxRow { event_id, received_at, customer, payload })
        .collect())
}

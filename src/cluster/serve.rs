//! The owner's side of routing, for actor calls and customers' flows: one plain NATS subscription
//! per owned shard (never a queue group: only the owner may answer), kept in step with the shards
//! this node owns. Each call runs
//! on a task of its own, at most `REMOTE_CALLS_IN_FLIGHT_MAX` at once; past that the call is
//! answered "busy" at once, so the subscription is always drained and a flash sale cannot make
//! the server cut this node off as a slow consumer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use futures::StreamExt;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use warung_actors::domain::{CustomerId, ProductCode};
use warung_actors::product::{self, ProductCommand, ProductRequest};
use warung_actors::wallet::{self, WalletCommand, WalletRequest};

use super::flows_seen::FlowsSeen;
use super::node::OwnedShards;
use super::shard::Shard;
use super::wire::{self, Answer, Request};
use crate::records::{Lanes, ShopRecord};

/// Calls from other nodes handled at once; more are answered "busy".
pub const REMOTE_CALLS_IN_FLIGHT_MAX: usize = 4_096;

/// How often the subscriptions are brought in step with the shards owned.
const SUBSCRIPTIONS_SYNC_EVERY_MS: u64 = 50;

/// How the owner runs a customer's flow sent by another node (set by the engine, which has the
/// checkout): the flow's JSON in, its outcome's JSON out.
pub type FlowRun = Arc<dyn Fn(serde_json::Value) -> BoxFuture<'static, Answer> + Send + Sync>;

/// Set once the engine is built; until then a flow is answered "not owner" (asked again).
pub type FlowSlot = Arc<std::sync::OnceLock<FlowRun>>;

type ProductRun = fn(Lanes, ProductCode, serde_json::Value, Vec<ShopRecord>) -> BoxFuture<'static, Answer>;
type WalletRun = fn(Lanes, CustomerId, serde_json::Value, Vec<ShopRecord>) -> BoxFuture<'static, Answer>;

/// Every product command a remote caller may send, by wire tag.
fn product_runs() -> HashMap<&'static str, ProductRun> {
    fn entry<C: ProductRequest + Sync>() -> (&'static str, ProductRun) {
        (wire::tag_of::<C>(), |s, code, command, attach| run_product::<C>(s, code, command, attach).boxed())
    }
    HashMap::from([
        entry::<product::Reserve>(),
        entry::<product::Commit>(),
        entry::<product::Release>(),
        entry::<product::AddStock>(),
        entry::<product::SetPrice>(),
        entry::<product::Rename>(),
        entry::<product::SetActive>(),
        entry::<product::ExpireDue>(),
        entry::<ProductCommand>(),
    ])
}

fn wallet_runs() -> HashMap<&'static str, WalletRun> {
    fn entry<C: WalletRequest + Sync>() -> (&'static str, WalletRun) {
        (wire::tag_of::<C>(), |s, customer, command, attach| run_wallet::<C>(s, customer, command, attach).boxed())
    }
    HashMap::from([
        entry::<wallet::Credit>(),
        entry::<wallet::Debit>(),
        entry::<wallet::Refund>(),
        entry::<wallet::Adjust>(),
        entry::<WalletCommand>(),
    ])
}

async fn run_product<C: ProductRequest + Sync>(
    lanes: Lanes,
    code: ProductCode,
    command: serde_json::Value,
    attach: Vec<ShopRecord>,
) -> Answer {
    match serde_json::from_value::<C>(command) {
        Ok(command) => done(&lanes.product_with(&code, command, attach).await),
        Err(error) => Answer::Malformed(error.to_string()),
    }
}

async fn run_wallet<C: WalletRequest + Sync>(
    lanes: Lanes,
    customer: CustomerId,
    command: serde_json::Value,
    attach: Vec<ShopRecord>,
) -> Answer {
    match serde_json::from_value::<C>(command) {
        Ok(command) => done(&lanes.wallet_with(&customer, command, attach).await),
        Err(error) => Answer::Malformed(error.to_string()),
    }
}

fn done<T: serde::Serialize>(reply: &T) -> Answer {
    match serde_json::to_value(reply) {
        Ok(value) => Answer::Done(value),
        Err(error) => Answer::Malformed(error.to_string()),
    }
}

/// Serves the calls other nodes send to this node's shards.
pub struct Intake {
    client: async_nats::Client,
    cluster: String,
    lanes: Lanes,
    owned: Arc<OwnedShards>,
    permits: Arc<Semaphore>,
    products: HashMap<&'static str, ProductRun>,
    wallets: HashMap<&'static str, WalletRun>,
    flows: FlowSlot,
    flows_seen: FlowsSeen,
}

impl Intake {
    pub fn new(
        client: async_nats::Client,
        cluster: String,
        lanes: Lanes,
        owned: Arc<OwnedShards>,
        flows: FlowSlot,
    ) -> Intake {
        Intake {
            client,
            cluster,
            lanes,
            owned,
            permits: Arc::new(Semaphore::new(REMOTE_CALLS_IN_FLIGHT_MAX)),
            products: product_runs(),
            wallets: wallet_runs(),
            flows,
            flows_seen: FlowsSeen::default(),
        }
    }

    /// Keeps one subscription per owned shard, until the task is dropped.
    pub async fn run(self) {
        let intake = Arc::new(self);
        let mut subscribed: HashMap<Shard, JoinHandle<()>> = HashMap::new();
        let mut every = tokio::time::interval(Duration::from_millis(SUBSCRIPTIONS_SYNC_EVERY_MS));
        loop {
            every.tick().await;
            for shard in Shard::all() {
                let owned = intake.owned.owns(shard);
                match (owned, subscribed.contains_key(&shard)) {
                    (true, false) => match intake.subscribe(shard).await {
                        Ok(task) => {
                            subscribed.insert(shard, task);
                        }
                        Err(error) => tracing::warn!(%error, %shard, "could not subscribe to a shard"),
                    },
                    (false, true) => subscribed.remove(&shard).expect("present").abort(),
                    _ => {}
                }
            }
        }
    }

    async fn subscribe(self: &Arc<Self>, shard: Shard) -> Result<JoinHandle<()>, async_nats::SubscribeError> {
        let mut subscription = self.client.subscribe(wire::subject(&self.cluster, shard)).await?;
        let intake = self.clone();
        Ok(tokio::spawn(async move {
            while let Some(message) = subscription.next().await {
                let Some(reply_to) = message.reply.clone() else { continue };
                let answer = match intake.permits.clone().try_acquire_owned() {
                    Ok(permit) => {
                        let intake = intake.clone();
                        tokio::spawn(async move {
                            let answer = intake.answer(&message.payload).await;
                            intake.respond(reply_to, &answer).await;
                            drop(permit);
                        });
                        continue;
                    }
                    Err(_) => Answer::Busy,
                };
                intake.respond(reply_to, &answer).await;
            }
        }))
    }

    async fn answer(&self, payload: &[u8]) -> Answer {
        let request: Request = match serde_json::from_slice(payload) {
            Ok(request) => request,
            Err(error) => return Answer::Malformed(error.to_string()),
        };
        let shard = request.shard();
        let here = match request.opens_reservation() {
            true => self.owned.takes_new_reservations(shard),
            false => self.owned.owns(shard),
        };
        if !here {
            return Answer::NotOwner;
        }
        let lanes = self.lanes.clone();
        match request {
            Request::Product { code, tag, command, attach } => match self.products.get(tag.as_str()) {
                Some(run) => run(lanes, code, command, attach).await,
                None => Answer::Malformed(format!("unknown product command {tag}")),
            },
            Request::Wallet { customer, tag, command, attach } => match self.wallets.get(tag.as_str()) {
                Some(run) => run(lanes, customer, command, attach).await,
                None => Answer::Malformed(format!("unknown wallet command {tag}")),
            },
            Request::ProductSnapshot { code } => done(&lanes.product_snapshot(&code).await),
            Request::WalletBalance { customer } => done(&lanes.wallet_balance(&customer).await),
            Request::Flow { id, flow, .. } => match self.flows.get() {
                Some(run) => self.flows_seen.once(id, || run(flow)).await,
                None => Answer::NotOwner,
            },
        }
    }

    async fn respond(&self, reply_to: async_nats::Subject, answer: &Answer) {
        let payload = serde_json::to_vec(answer).expect("an answer serializes");
        if let Err(error) = self.client.publish(reply_to, payload.into()).await {
            tracing::warn!(%error, "could not answer a remote call");
        }
    }
}

//! A customer's flows run on the node that owns the customer's shard, where the customer's claim
//! (one open order) and turn (one payment or order transition at a time) are kept. A flow that
//! starts on another node (an admin API call, a Midtrans notification, a reservation's expiry
//! on the product's node) is sent to the owner whole and answered with the owner's outcome.
//! With one node, every flow runs where it starts.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use warung_actors::domain::{ActorName, CustomerId, OrderId, ProductCode, Quantity};
use warung_actors::runtime::CallError;

use super::{Checkout, CheckoutError, IncomingPayment};
use crate::cluster::{FlowPlace, Shard, SHARDS_COUNT};

/// A flow as it is sent to the customer's owner. Every one carries the ids it acts under, so the
/// owner runs exactly what the caller asked for.
#[derive(Debug, Serialize, Deserialize)]
pub enum CustomerFlow {
    BuyWithSaldo(Buy),
    BuyWithExternal(Buy),
    BuyWithTransfer(Buy),
    ApplyPayment(IncomingPayment),
    Cancel {
        order: OrderId,
        actor: Option<String>,
    },
    Refund {
        order: OrderId,
        reason: String,
        actor: ActorName,
    },
    /// The order's reservation expired on the product's node.
    Expire {
        order: OrderId,
    },
}

/// A flow placed: running here (counted until dropped), or run on the customer's owner.
pub(super) enum Placed<T> {
    Here(FlowHere),
    There(Result<T, CheckoutError>),
}

/// The customers' flows running on this node, per shard: a node handing shards off waits for
/// theirs to finish before it lets their customers' claims and turns go (`flows_finished`).
pub(super) struct FlowsHere {
    running: Vec<AtomicU32>,
}

impl Default for FlowsHere {
    fn default() -> Self {
        FlowsHere { running: (0..SHARDS_COUNT).map(|_| AtomicU32::new(0)).collect() }
    }
}

/// One flow running here, counted while it lives (in a cluster; one node counts nothing).
pub(super) struct FlowHere {
    counted: Option<(Arc<FlowsHere>, Shard)>,
}

impl Drop for FlowHere {
    fn drop(&mut self) {
        if let Some((flows, shard)) = &self.counted {
            flows.running[usize::from(shard.number())].fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// How often a hand-off looks whether its shards' flows have finished.
const FLOWS_FINISHED_POLL_MS: u64 = 10;

/// A purchase, with the order id its caller chose.
#[derive(Debug, Serialize, Deserialize)]
pub struct Buy {
    order: OrderId,
    customer: CustomerId,
    product: ProductCode,
    quantity: Quantity,
}

impl Buy {
    pub(super) fn of(order: &OrderId, customer: &CustomerId, product: &ProductCode, quantity: Quantity) -> Buy {
        Buy { order: order.clone(), customer: customer.clone(), product: product.clone(), quantity }
    }
}

impl Checkout {
    /// Where `flow` runs: here, or on the customer's owner with its outcome there.
    pub(super) async fn on_owner<T: DeserializeOwned>(
        &self,
        customer: &CustomerId,
        flow: impl FnOnce() -> CustomerFlow,
    ) -> Placed<T> {
        let sent = || serde_json::to_value(flow()).expect("a flow serializes");
        match self.inner.actors.customer_flow(customer, sent).await {
            FlowPlace::Here(shard) => {
                let counted = shard.map(|shard| {
                    self.inner.flows_here.running[usize::from(shard.number())].fetch_add(1, Ordering::AcqRel);
                    (self.inner.flows_here.clone(), shard)
                });
                Placed::Here(FlowHere { counted })
            }
            // The flow ran: an outcome that cannot be read is not "nothing was done".
            FlowPlace::There(Ok(outcome)) => {
                Placed::There(serde_json::from_value::<Result<T, CheckoutError>>(outcome).unwrap_or_else(|error| {
                    let reason = format!("the customer's node answered unreadably: {error}");
                    Err(CheckoutError::Unavailable(CallError::OutcomeUnknown { reason }))
                }))
            }
            FlowPlace::There(Err(error)) => Placed::There(Err(CheckoutError::Unavailable(error))),
        }
    }

    /// Waits until no flow of `shards`' customers runs here, for up to `within` (no new one
    /// starts here once they are being handed off); returns how many still run.
    pub async fn flows_finished(&self, shards: &[Shard], within: Duration) -> u32 {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let running: u32 = shards
                .iter()
                .map(|shard| self.inner.flows_here.running[usize::from(shard.number())].load(Ordering::Acquire))
                .sum();
            if running == 0 || tokio::time::Instant::now() >= deadline {
                return running;
            }
            // Flows end on other tasks, with nothing to wait on but their count: polled.
            tokio::time::sleep(Duration::from_millis(FLOWS_FINISHED_POLL_MS)).await;
        }
    }

    /// Runs a flow another node sent to this one as the customer's owner, and answers with its
    /// outcome (`Result<_, CheckoutError>` as JSON). A flow that cannot be read is refused.
    pub async fn run_flow(&self, flow: serde_json::Value) -> Result<serde_json::Value, String> {
        let flow: CustomerFlow = serde_json::from_value(flow).map_err(|error| format!("a customer's flow: {error}"))?;
        let outcome = match flow {
            CustomerFlow::BuyWithSaldo(Buy { order, customer, product, quantity }) => {
                to_json(self.buy_with_saldo_as(order, &customer, &product, quantity).await)
            }
            CustomerFlow::BuyWithExternal(Buy { order, customer, product, quantity }) => {
                to_json(self.buy_with_external_as(order, &customer, &product, quantity).await)
            }
            CustomerFlow::BuyWithTransfer(Buy { order, customer, product, quantity }) => {
                to_json(self.buy_with_transfer_as(order, &customer, &product, quantity).await)
            }
            CustomerFlow::ApplyPayment(incoming) => to_json(self.apply_payment(incoming).await),
            CustomerFlow::Cancel { order, actor } => to_json(self.cancel_as(&order, actor.as_deref()).await),
            CustomerFlow::Refund { order, reason, actor } => to_json(self.refund(&order, &reason, &actor).await),
            CustomerFlow::Expire { order } => {
                self.on_reservation_expired(&order).await;
                to_json(Ok::<(), CheckoutError>(()))
            }
        };
        Ok(outcome)
    }
}

fn to_json<T: Serialize>(outcome: Result<T, CheckoutError>) -> serde_json::Value {
    serde_json::to_value(outcome).expect("a flow's outcome serializes")
}

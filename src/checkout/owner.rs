//! A customer's flows run on the node that owns the customer's shard, where the customer's claim
//! (one open order) and turn (one payment or order transition at a time) are kept. A flow that
//! starts on another node (an admin API call, a Midtrans notification, a reservation's expiry
//! on the product's node) is sent to the owner whole and answered with the owner's outcome.
//! With one node, every flow runs where it starts.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use warung_actors::domain::{CustomerId, OrderId, ProductCode, Quantity};
use warung_actors::runtime::CallError;

use super::{Checkout, CheckoutError, IncomingPayment};

/// A flow as it is sent to the customer's owner. Every one carries the ids it acts under, so the
/// owner runs exactly what the caller asked for.
#[derive(Debug, Serialize, Deserialize)]
pub enum CustomerFlow {
    BuyWithSaldo {
        order: OrderId,
        customer: CustomerId,
        product: ProductCode,
        quantity: Quantity,
    },
    BuyWithExternal {
        order: OrderId,
        customer: CustomerId,
        product: ProductCode,
        quantity: Quantity,
    },
    ApplyPayment(IncomingPayment),
    Cancel {
        order: OrderId,
        actor: Option<String>,
    },
    Refund {
        order: OrderId,
        reason: String,
        actor: String,
    },
    /// The order's reservation expired on the product's node.
    Expire {
        order: OrderId,
    },
}

impl Checkout {
    /// `None` when the customer's flows run on this node; else the outcome of `flow` on the
    /// customer's owner.
    pub(super) async fn on_owner<T: DeserializeOwned>(
        &self,
        customer: &CustomerId,
        flow: impl FnOnce() -> CustomerFlow,
    ) -> Option<Result<T, CheckoutError>> {
        let sent = || serde_json::to_value(flow()).expect("a flow serializes");
        Some(match self.inner.actors.customer_flow(customer, sent).await? {
            Ok(outcome) => serde_json::from_value::<Result<T, CheckoutError>>(outcome).unwrap_or_else(|error| {
                Err(CheckoutError::Unavailable(CallError::Corrupt { reason: format!("a flow's outcome: {error}") }))
            }),
            Err(error) => Err(CheckoutError::Unavailable(error)),
        })
    }

    /// Runs a flow another node sent to this one as the customer's owner, and answers with its
    /// outcome (`Result<_, CheckoutError>` as JSON). A flow that cannot be read is refused.
    pub async fn run_flow(&self, flow: serde_json::Value) -> Result<serde_json::Value, String> {
        let flow: CustomerFlow = serde_json::from_value(flow).map_err(|error| format!("a customer's flow: {error}"))?;
        let outcome = match flow {
            CustomerFlow::BuyWithSaldo { order, customer, product, quantity } => {
                to_json(self.buy_with_saldo_as(order, &customer, &product, quantity).await)
            }
            CustomerFlow::BuyWithExternal { order, customer, product, quantity } => {
                to_json(self.buy_with_external_as(order, &customer, &product, quantity).await)
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

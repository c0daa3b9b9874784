//! The checkout coordinator: drives flows that touch several actors, in a fixed order, with
//! compensation. Actors never wait on one another; this does, between their durable answers.
//!
//! - `saldo`: buy with the wallet: reserve -> debit (+ pending order) -> commit (+ paid order).
//! - `external`: buy for an external payment: reserve with a time to live, then confirm, cancel
//!   or expire.
//! - `payment`: payments as exactly-once records, bound to one customer, purpose and amount.
//! - `order`: the order's state machine, the one place every order transition is decided.
//! - `wallet`: refund, admin adjustment, balance.
//! - `roles`: customer roles; a reseller pays reseller prices.
//! - `recovery`: finish or compensate orders caught between steps (after a crash or a failure).
//!
//! One customer's payments and order transitions take turns (`customer_turn`): a decision is made
//! on the order as stored and stored before the next one is made.

mod errors;
mod external;
pub mod order;
mod owner;
pub mod payment;
mod recovery;
mod roles;
mod saldo;
mod wallet;

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::broadcast;
use warung_actors::domain::{ActorName, Clock, CustomerId, ItemSecret, Money, OrderId, ProductCode, Quantity};
use warung_actors::product::{ProductRejection, Release, ReleaseReason, Reserve, Reserved, StoreWhen};
use warung_actors::runtime::CallError;
use warung_actors::supervisor::ProductHandle;
use warung_actors::wallet::WalletBalance;

use order::{Order, OrderCommand, OrderOutcome};

pub use crate::records::{AuditRow, Lanes, ShopRecord};
pub use errors::CheckoutError;
pub use external::PendingOrder;
pub use order::{OrderRow, OrderState, PaymentMethod};
pub use owner::CustomerFlow;
pub use payment::{Applied, IncomingPayment, PaymentApplied, PaymentOutcome, PaymentRow, Purpose};
pub use roles::Role;

use crate::cluster::Actors;
use crate::shares::Shares;
use crate::store::Store;

use crate::settings::{
    EngineSettings, PAYMENT_TTL_SECS_DEFAULT, SALDO_RESERVATION_TTL_SECS_DEFAULT, TRANSFER_TTL_SECS_DEFAULT,
};

/// Events the outside world (the chat gateway) is told about.
#[derive(Clone, Debug, PartialEq)]
pub enum OrderNotice {
    Expired { order: OrderId, customer: CustomerId },
}

/// Customers' turns are striped: two customers may share a stripe and wait for each other (a
/// payment or an order transition is a few milliseconds), never one customer's two flows run at once.
const CUSTOMER_TURN_STRIPES: usize = 256;

/// How many order notices wait for a slow listener before the oldest are dropped (the store has
/// every order's state; notices are a convenience for the gateway).
const ORDER_NOTICES_BUFFERED_MAX: usize = 4_096;

/// With shares: how long a reservation refused for stock keeps refilling its seller and trying
/// again while stock is left anywhere. Other buyers may take what a refill brought before this
/// one reserves, and the last units may move between sellers; past this, the buyer is told what
/// the seller has.
const RESERVE_REFILLS_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// With shares: how long a buyer who found nothing waits for a move under way to land.
const IN_TRANSIT_WAIT: std::time::Duration = std::time::Duration::from_millis(2);

#[derive(Clone, Copy, Debug)]
pub struct CheckoutSettings {
    pub payment_ttl: Duration,
    /// How long a transfer order waits for the owner's confirmation.
    pub transfer_ttl: Duration,
    pub saldo_ttl: Duration,
}

impl Default for CheckoutSettings {
    fn default() -> Self {
        CheckoutSettings {
            payment_ttl: Duration::from_secs(PAYMENT_TTL_SECS_DEFAULT),
            transfer_ttl: Duration::from_secs(TRANSFER_TTL_SECS_DEFAULT),
            saldo_ttl: Duration::from_secs(SALDO_RESERVATION_TTL_SECS_DEFAULT),
        }
    }
}

impl CheckoutSettings {
    pub fn from_settings(engine: &EngineSettings) -> CheckoutSettings {
        CheckoutSettings {
            payment_ttl: Duration::from_secs(engine.payment_ttl_secs),
            transfer_ttl: Duration::from_secs(engine.transfer_ttl_secs),
            saldo_ttl: Duration::from_secs(engine.saldo_reservation_ttl_secs),
        }
    }
}

/// A completed saldo purchase: durable when returned.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Purchase {
    pub order: OrderId,
    pub product: ProductCode,
    pub quantity: Quantity,
    pub total: Money,
    pub items: Vec<ItemSecret>,
    pub balance: WalletBalance,
}

#[derive(Clone)]
pub struct Checkout {
    inner: Arc<Inner>,
}

struct Inner {
    /// The product and wallet actors, here or on the nodes that own them.
    actors: Actors,
    store: Arc<dyn Store>,
    clock: Clock,
    settings: CheckoutSettings,
    /// The products' shares a saldo purchase sells from, with several lanes.
    shares: Shares,
    /// Per customer, the order in progress or awaiting payment: one at a time.
    open: DashMap<CustomerId, OrderId>,
    /// Per customer, saldo orders left pending because settling them failed (the store was
    /// down). Each one's debit holds the customer's money until it is settled: the customer's
    /// next purchase settles them first, rather than leaving them to the sweep.
    unsettled: DashMap<CustomerId, Vec<OrderRow>>,
    /// Customers with a role set by an admin.
    roles: DashMap<CustomerId, Role>,
    /// Whether a role was ever set in this process: until then every buyer is a member.
    any_role: std::sync::atomic::AtomicBool,
    notices: broadcast::Sender<OrderNotice>,
    /// One customer's payments and order transitions, one at a time (see `customer_turn`).
    turns: Vec<tokio::sync::Mutex<()>>,
    /// The customers' flows running here, per shard (`owner.rs`).
    flows_here: Arc<owner::FlowsHere>,
    /// Delivered payments whose surplus could not be credited yet (the store was down): tried
    /// again by the periodic sweep, and at every start from the store.
    owed_surpluses: DashMap<warung_actors::domain::Reference, PaymentRow>,
}

/// A customer's claim on their one open order; released on drop unless kept.
struct Claim<'a> {
    open: &'a DashMap<CustomerId, OrderId>,
    customer: CustomerId,
    order: OrderId,
    keep: bool,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if !self.keep {
            self.open.remove_if(&self.customer, |_, order| *order == self.order);
        }
    }
}

impl Checkout {
    pub fn new(actors: Actors, store: Arc<dyn Store>, settings: CheckoutSettings, shares: Shares) -> Checkout {
        let clock = actors.lanes().clock();
        let (notices, _) = broadcast::channel(ORDER_NOTICES_BUFFERED_MAX);
        Checkout {
            inner: Arc::new(Inner {
                actors,
                store,
                clock,
                settings,
                shares,
                open: DashMap::new(),
                unsettled: DashMap::new(),
                roles: DashMap::new(),
                any_role: std::sync::atomic::AtomicBool::new(false),
                notices,
                turns: (0..CUSTOMER_TURN_STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
                flows_here: Arc::default(),
                owed_surpluses: DashMap::new(),
            }),
        }
    }

    /// Waits for the customer's turn: their payments and order transitions are decided one at a
    /// time, each on the order as stored by the one before. Held across the actors' durable
    /// answers; never taken twice by one flow.
    async fn customer_turn(&self, customer: &CustomerId) -> tokio::sync::MutexGuard<'_, ()> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        customer.hash(&mut hasher);
        self.inner.turns[hasher.finish() as usize % CUSTOMER_TURN_STRIPES].lock().await
    }

    /// Applies `command` to the order as stored, under the customer's turn, storing its new row.
    /// For transitions that move no actor (expiry, a settled saldo order's final state).
    async fn transition_stored(&self, row: &OrderRow, command: OrderCommand) -> Result<OrderOutcome, CheckoutError> {
        let mut order = Order::new(row.clone());
        let outcome = order.apply(command, self.inner.clock.now())?;
        if matches!(outcome, OrderOutcome::Moved { .. }) {
            self.store_records(&row.customer, vec![order.record()]).await?;
        }
        Ok(outcome)
    }

    /// This process's supervisors, one per lane.
    pub fn lanes(&self) -> &Lanes {
        self.inner.actors.lanes()
    }

    /// The actors, here or on the nodes that own them.
    pub fn actors(&self) -> &Actors {
        &self.inner.actors
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub fn subscribe(&self) -> broadcast::Receiver<OrderNotice> {
        self.inner.notices.subscribe()
    }

    /// The customer's open order, if any.
    pub fn open_order(&self, customer: &CustomerId) -> Option<OrderId> {
        self.inner.open.get(customer).map(|order| order.clone())
    }

    fn claim(&self, customer: &CustomerId, order: &OrderId) -> Result<Claim<'_>, CheckoutError> {
        match self.inner.open.entry(customer.clone()) {
            dashmap::Entry::Occupied(open) => Err(CheckoutError::OpenOrderExists { order: open.get().clone() }),
            dashmap::Entry::Vacant(slot) => {
                slot.insert(order.clone());
                Ok(Claim { open: &self.inner.open, customer: customer.clone(), order: order.clone(), keep: false })
            }
        }
    }

    /// Forgets the claims and unsettled orders of the customers of `shards`, handed off to
    /// another node: the new owner rebuilds them from the store, and a claim kept here would
    /// refuse this customer's purchases for good should the shards come back.
    pub fn forget_customers_of(&self, shards: &[crate::cluster::Shard]) {
        let handed_off = |customer: &CustomerId| shards.contains(&crate::cluster::Shard::of_customer(customer));
        self.inner.open.retain(|customer, _| !handed_off(customer));
        self.inner.unsettled.retain(|customer, _| !handed_off(customer));
    }

    /// A new order's row, made from its reservation.
    fn order_row(
        &self,
        customer: &CustomerId,
        product: &ProductCode,
        reserved: &Reserved,
        method: PaymentMethod,
        state: OrderState,
    ) -> OrderRow {
        OrderRow::of_reservation(customer, product, reserved, method, state, self.inner.clock.now())
    }

    /// Reserves stock for an order. The command's `tier` is the customer's (`role_of`), looked up
    /// once per purchase by the caller; `known`, the product's handle if the caller kept it. With
    /// shares, a seller short of stock first takes it from where it is left, then reserves again.
    async fn reserve(
        &self,
        product: &ProductCode,
        known: Option<ProductHandle<ShopRecord>>,
        command: Reserve,
    ) -> Result<Reserved, CheckoutError> {
        let mut reserved = self.reserve_once(product, known, command.clone()).await;
        if !self.inner.shares.enabled() {
            return reserved;
        }
        let shares = &self.inner.shares;
        let deadline = tokio::time::Instant::now() + RESERVE_REFILLS_WITHIN;
        while let Err(CheckoutError::Product(ProductRejection::ExceedsAvailable { .. })) = reserved {
            if tokio::time::Instant::now() >= deadline {
                break;
            }
            let came = Box::pin(shares.refill(product, command.quantity)).await?;
            if came == 0 {
                // Nothing left where it can be taken from, unless a move is carrying some
                // between two sellers: it lands within two commits.
                if shares.in_transit(&product.home()) == 0 {
                    break;
                }
                tokio::time::sleep(IN_TRANSIT_WAIT).await;
            }
            reserved = self.reserve_once(product, None, command.clone()).await;
        }
        reserved
    }

    async fn reserve_once(
        &self,
        product: &ProductCode,
        known: Option<ProductHandle<ShopRecord>>,
        command: Reserve,
    ) -> Result<Reserved, CheckoutError> {
        // A reservation stored at once is answered once stored; one stored with its commit has
        // nothing to wait for.
        let answer = match command.store {
            StoreWhen::Reserved => self.inner.actors.product(product, command).await,
            StoreWhen::Committed => self.inner.actors.product_applied(product, known, command).await,
        };
        match answer {
            Ok(Ok(reserved)) => Ok(reserved),
            Ok(Err(rejection)) => Err(CheckoutError::Product(rejection)),
            Err(CallError::NotFound) => Err(CheckoutError::ProductNotFound),
            Err(error) => Err(CheckoutError::Unavailable(error)),
        }
    }

    async fn release(&self, order: &OrderId, product: &ProductCode, reason: ReleaseReason) -> Result<(), CallError> {
        let command = Release { order: order.clone(), reason, actor: "checkout".into() };
        match self.inner.actors.product(product, command).await? {
            Ok(_) => Ok(()),
            Err(rejection) => {
                tracing::debug!(%order, ?rejection, "release found nothing to release");
                Ok(())
            }
        }
    }

    /// Stores records of `customer`'s that go with no actor's change and waits until they are
    /// durable. They go through the journal of the customer's lane, which writes the customer's
    /// rows in the order they were made.
    async fn store_records(&self, customer: &CustomerId, records: Vec<ShopRecord>) -> Result<(), CheckoutError> {
        let lane = self.inner.actors.lanes().of_customer(customer);
        let ticket = lane.journal().submit_records(records).await;
        ticket.await.map_err(|e| CheckoutError::Unavailable(e.into()))
    }

    /// Counts a refused purchase by its reason, for `/metrics`.
    fn count_refusal<T>(&self, outcome: &Result<T, CheckoutError>) {
        if let Some(reason) = outcome.as_ref().err().and_then(CheckoutError::refusal_reason) {
            self.inner.store.counters().refused(reason);
        }
    }

    fn notify(&self, notice: OrderNotice) {
        let _ = self.inner.notices.send(notice);
    }
}

/// Who did it, for the inventory movements and the ledger.
fn actor_of(customer: &CustomerId) -> ActorName {
    ActorName::of("customer", customer.as_str())
}

/// `prefix` then `text`, in one allocation of the right size: `format!` guesses twice the
/// literal's length, and an id longer than that is copied again into a larger one. Made for
/// every sale.
fn joined(prefix: &str, text: &str) -> String {
    let mut joined = String::with_capacity(prefix.len() + text.len());
    joined.push_str(prefix);
    joined.push_str(text);
    joined
}

//! The actors as the flows call them: on this node when it owns the actor's shard (or when there
//! is no cluster), else on the owner, over NATS. A caller-chosen id in every command makes a
//! retry after a timeout safe: it runs once, or returns the stored first outcome.
//!
//! The paths through another node are boxed (`Box::pin`). An async fn's future is as large as its
//! largest path, and the whole of it is copied where the future is made and again into the future
//! that awaits it; a call over NATS made each of these futures about 1.5 KB larger, and a saldo
//! purchase copied such futures a dozen times on the local path alone. Boxed, the local path
//! pays for its own size only; the other pays an allocation, nothing beside a network round trip.

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::time::Instant;
use warung_actors::domain::{CustomerId, ProductCode};
use warung_actors::product::{ProductRejection, ProductRequest, ProductSnapshot};
use warung_actors::runtime::{CallError, Reply};
use warung_actors::supervisor::{Chained, Known, ProductHandle};
use warung_actors::wallet::{WalletBalance, WalletGauges, WalletRejection, WalletRequest};

use super::remote::Remote;
use super::scope::Scope;
use super::shard::Shard;
use super::wire::{self, Request};
use crate::records::{Lanes, ShopRecord};

/// The first pause before asking again when a shard is between owners; doubled up to
/// `ROUTE_BACKOFF_MAX_MS`.
const ROUTE_BACKOFF_FIRST_MS: u64 = 5;
const ROUTE_BACKOFF_MAX_MS: u64 = 200;
#[derive(Clone)]
pub struct Actors {
    /// This process's actors, in their lanes.
    local: Lanes,
    remote: Option<Arc<Remote>>,
}

/// Where an actor's command runs; elsewhere, with the actor's shard.
enum Place<'a> {
    Here,
    There(&'a Remote, Shard),
}

impl Actors {
    /// Every actor on this node: one node, no cluster.
    pub fn local(lanes: Lanes) -> Actors {
        Actors { local: lanes, remote: None }
    }

    pub fn clustered(lanes: Lanes, remote: Arc<Remote>) -> Actors {
        Actors { local: lanes, remote: Some(remote) }
    }

    /// This node's own actors, in their lanes.
    pub fn lanes(&self) -> &Lanes {
        &self.local
    }

    /// The customers and products this node answers for in recovery and the sweeps.
    pub fn scope(&self) -> Scope {
        match &self.remote {
            Some(remote) => Scope::Owned(remote.owned.clone()),
            None => Scope::Everything,
        }
    }

    /// The shard is worked out only in a cluster: it is a SHA-256 of the id, and one node has no
    /// use for it (it was a few percent of a sale's CPU).
    fn place(&self, shard: impl Fn() -> Shard) -> Place<'_> {
        match &self.remote {
            Some(remote) => {
                let shard = shard();
                match remote.owned.owns(shard) {
                    true => Place::Here,
                    false => Place::There(remote, shard),
                }
            }
            None => Place::Here,
        }
    }

    /// As `place`, for a product command: a new reservation is never made on a shard being
    /// handed off (its purchase could not finish there).
    fn place_product<C: ProductRequest>(&self, shard: impl Fn() -> Shard, command: &C) -> Place<'_> {
        match &self.remote {
            Some(remote) if opens_reservation(command.kind()) => {
                let shard = shard();
                match remote.owned.takes_new_reservations(shard) {
                    true => self.place(|| shard),
                    false => Place::There(remote, shard),
                }
            }
            _ => self.place(shard),
        }
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.remote.as_ref().map_or(Duration::ZERO, |r| r.deadline)
    }

    pub async fn product<C: ProductRequest>(
        &self,
        code: &ProductCode,
        command: C,
    ) -> Reply<C::Reply, ProductRejection> {
        self.product_with(code, command, Vec::new()).await
    }

    /// A product command stored with `attach`.
    pub async fn product_with<C: ProductRequest>(
        &self,
        code: &ProductCode,
        command: C,
        attach: Vec<ShopRecord>,
    ) -> Reply<C::Reply, ProductRejection> {
        if self.remote.is_none() {
            // One node: nothing to place, and nothing is ever tried again here, so the command
            // and its records are handed over, not copied for another attempt.
            return self.local.product_with(code, command, attach).await;
        }
        let shard = || Shard::of_product(code);
        let (command, attach) = (&command, &attach);
        Box::pin(self.until_placed(|| async move {
            match self.place_product(shard, command) {
                Place::Here => self.local.product_with(code, command.clone(), attach.clone()).await,
                Place::There(remote, shard) => {
                    let request = Request::Product {
                        code: code.clone(),
                        tag: wire::tag_of::<C>().to_string(),
                        command: to_value(command)?,
                        attach: attach.clone(),
                    };
                    remote.call(shard, &request).await.and_then(from_value::<Reply<C::Reply, ProductRejection>>)?
                }
            }
        }))
        .await
    }

    /// Answered once applied on this node (see `ReplyWhen::Applied`), once stored on another.
    /// `known`: the product's handle, when the caller kept it (`Actors::known`).
    pub async fn product_applied<C: ProductRequest>(
        &self,
        code: &ProductCode,
        known: Option<ProductHandle<ShopRecord>>,
        command: C,
    ) -> Reply<C::Reply, ProductRejection> {
        match self.place_product(|| Shard::of_product(code), &command) {
            Place::Here => self.local.product_applied_at(code, known, command).await,
            Place::There(..) => Box::pin(self.product(code, command)).await,
        }
    }

    pub async fn wallet<C: WalletRequest>(
        &self,
        customer: &CustomerId,
        command: C,
    ) -> Reply<C::Reply, WalletRejection> {
        self.wallet_with(customer, command, Vec::new()).await
    }

    pub async fn wallet_with<C: WalletRequest>(
        &self,
        customer: &CustomerId,
        command: C,
        attach: Vec<ShopRecord>,
    ) -> Reply<C::Reply, WalletRejection> {
        if self.remote.is_none() {
            return self.local.wallet_with(customer, command, attach).await;
        }
        let shard = || Shard::of_customer(customer);
        let (command, attach) = (&command, &attach);
        Box::pin(self.until_placed(|| async move {
            match self.place(shard) {
                Place::Here => self.local.wallet_with(customer, command.clone(), attach.clone()).await,
                Place::There(remote, shard) => {
                    let request = Request::Wallet {
                        customer: customer.clone(),
                        tag: wire::tag_of::<C>().to_string(),
                        command: to_value(command)?,
                        attach: attach.clone(),
                    };
                    remote.call(shard, &request).await.and_then(from_value::<Reply<C::Reply, WalletRejection>>)?
                }
            }
        }))
        .await
    }

    /// A wallet command and, once it is applied, a product command that needs it stored (a
    /// purchase's debit, then its commit). With both actors here, the wallet's actor hands the
    /// product command straight to the product's (`Supervisor::wallet_then_product`); else the
    /// wallet's change is stored first, so the product's node never stores a sale whose payment
    /// was lost. An error means the wallet's command was not applied, or that its outcome is
    /// unknown (`CallError::OutcomeUnknown`). `known`: the handles the caller kept.
    #[allow(clippy::too_many_arguments)]
    pub async fn wallet_then_product<CW: WalletRequest, CP: ProductRequest>(
        &self,
        customer: &CustomerId,
        command: CW,
        attach: Vec<ShopRecord>,
        product: &ProductCode,
        then: CP,
        then_attach: Vec<ShopRecord>,
        known: Known<ShopRecord>,
    ) -> Result<Chained<CW::Reply, CP::Reply>, CallError> {
        match (self.place(|| Shard::of_product(product)), self.place(|| Shard::of_customer(customer))) {
            (Place::Here, Place::Here) => {
                self.local.wallet_then_product(customer, command, attach, product, then, then_attach, known).await
            }
            _ => {
                let debited = self.wallet_with(customer, command, attach);
                Box::pin(Chained::stored_then(debited, || self.product_with(product, then, then_attach))).await
            }
        }
    }

    pub async fn product_snapshot(&self, code: &ProductCode) -> Result<ProductSnapshot, CallError> {
        let shard = || Shard::of_product(code);
        self.query(shard, || self.local.product_snapshot(code), || Request::ProductSnapshot { code: code.clone() })
            .await
    }

    pub async fn wallet_balance(&self, customer: &CustomerId) -> Result<WalletBalance, CallError> {
        let shard = || Shard::of_customer(customer);
        self.query(
            shard,
            || self.local.wallet_balance(customer),
            || Request::WalletBalance { customer: customer.clone() },
        )
        .await
    }

    async fn query<T: DeserializeOwned, F: std::future::Future<Output = Result<T, CallError>>>(
        &self,
        shard: impl Fn() -> Shard,
        here: impl Fn() -> F,
        request: impl Fn() -> Request,
    ) -> Result<T, CallError> {
        let (here, request, shard) = (&here, &request, &shard);
        self.until_placed(|| async move {
            match self.place(shard) {
                Place::Here => here().await,
                Place::There(remote, shard) => {
                    Box::pin(remote.call(shard, &request())).await.and_then(from_value::<Result<T, CallError>>)?
                }
            }
        })
        .await
    }

    /// Runs a customer's flow on the customer's owner when that is another node, answering with
    /// the flow's outcome as the owner serialized it; else says it runs here (no cluster, or this
    /// node owns the customer and is not handing them off), with the shard in a cluster.
    pub async fn customer_flow(&self, customer: &CustomerId, flow: impl FnOnce() -> serde_json::Value) -> FlowPlace {
        let Some(remote) = &self.remote else { return FlowPlace::Here(None) };
        let shard = Shard::of_customer(customer);
        if remote.owned.takes_new_reservations(shard) {
            return FlowPlace::Here(Some(shard));
        }
        let request = Request::Flow { customer: customer.clone(), id: rand::random(), flow: flow() };
        // Asked again only while no owner took it (no responders, or "not owner").
        FlowPlace::There(Box::pin(self.until_placed(|| remote.run_flow(shard, &request))).await)
    }

    /// Runs `attempt` again, with a growing pause, while it finds the shard between owners (not
    /// owned here, no owner answering) and the call's deadline has not passed.
    async fn until_placed<T, F: std::future::Future<Output = Result<T, CallError>>>(
        &self,
        attempt: impl Fn() -> F,
    ) -> Result<T, CallError> {
        let deadline = self.deadline();
        let mut backoff = Backoff::default();
        loop {
            match attempt().await {
                Err(CallError::NotOwner) if Instant::now() < deadline => backoff.pause().await,
                other => return other,
            }
        }
    }

    /// The handles of the product's and the customer's actors that are active on this node, for
    /// a flow's later calls to them (`Known`).
    pub fn known(&self, customer: &CustomerId, product: &ProductCode) -> Known<ShopRecord> {
        self.local.known(customer, product)
    }

    pub fn wallet_gauges(&self, customer: &CustomerId) -> Option<Arc<WalletGauges>> {
        self.local.wallet_gauges(customer)
    }
}

/// Where a customer's flow runs (`Actors::customer_flow`).
pub enum FlowPlace {
    /// On this node: in a cluster, for a customer of this shard.
    Here(Option<Shard>),
    /// On the customer's owner, with its outcome.
    There(Result<serde_json::Value, CallError>),
}

/// Whether a product command of this kind opens a reservation (`ProductRequest::kind`).
pub(super) fn opens_reservation(kind: &str) -> bool {
    kind == "reserve"
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, CallError> {
    serde_json::to_value(value).map_err(|e| CallError::Corrupt { reason: e.to_string() })
}

fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, CallError> {
    serde_json::from_value(value).map_err(|e| CallError::Corrupt { reason: e.to_string() })
}

#[derive(Default)]
struct Backoff(u64);

impl Backoff {
    async fn pause(&mut self) {
        self.0 = if self.0 == 0 { ROUTE_BACKOFF_FIRST_MS } else { (self.0 * 2).min(ROUTE_BACKOFF_MAX_MS) };
        tokio::time::sleep(Duration::from_millis(self.0)).await;
    }
}

//! A product's shares: products of their own (`ProductCode::share`) that each sell part of a
//! product's stock in one lane of the engine, so a saldo purchase in that lane never leaves it.
//! Hidden from owners and buyers: the catalogue lists no share, and what a customer or an owner
//! reads names the product (`ProductCode::home`).
//!
//! A share's stock comes from its product in blocks (`refill`), moved by `Lanes::move_stock`; a
//! seller that runs short first takes back what the other shares hold, so no buyer is refused
//! while stock is left anywhere. A change of price, name or sale goes to the product, then every
//! share is brought to it (`sync`), and the change is answered once all have it.
//!
//! Shares are used with several lanes in one process. A cluster's node places a product's
//! shares in the product's shard, but its purchases cross nodes anyway, so it sells from the
//! product as with one lane; shares an earlier run made give their stock back to their product
//! when the node acquires its shard (`recover_in`), and their sales stay counted.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use dashmap::{DashMap, DashSet};
use warung_actors::domain::{ActorName, CustomerId, ProductCode, Quantity, Reference};
use warung_actors::journal::ProductRow;
use warung_actors::product::{PriceTier, ProductRejection, ProductSnapshot, Rename, SetActive, SetPrice};
use warung_actors::runtime::CallError;

mod recovery;
mod stock;

use crate::records::Lanes;
use crate::store::{Store, StoreError};

/// Most units one refill moves to a share (a restock splits its stock evenly instead): a share
/// that ran short takes no more than a block at a time while the product still has stock.
pub const SHARE_BLOCK_MAX: Quantity = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("the product refused: {0}")]
    Refused(#[from] ProductRejection),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Cheap to clone; every clone shares the same state.
#[derive(Clone)]
pub struct Shares {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    lanes: Lanes,
    /// Whether purchases sell from shares (several lanes, no cluster).
    enabled: bool,
    /// Each product's shares whose rows exist, by product.
    made: DashMap<ProductCode, Vec<ProductCode>>,
    /// Per product, the units moves have asked for and not yet brought in: out of one gauge
    /// and not yet in another, so the gauges alone would show them nowhere.
    in_transit: DashMap<ProductCode, i64>,
    /// One refill (or making) of a seller at a time: buyers who find it short together wait
    /// for one move.
    refilling: DashMap<ProductCode, Arc<Refill>>,
    /// One bringing of a product's shares to its terms at a time (`sync`), by product: two at
    /// once could each write terms the other had read before a newer change.
    syncing: DashMap<ProductCode, Arc<tokio::sync::Mutex<()>>>,
    /// Shares whose terms may be behind their product's: a sync began and has not reached them
    /// (it failed, or is under way). No purchase sells from one before it is brought up to date.
    behind: DashSet<ProductCode>,
}

/// A seller's refills, one at a time.
#[derive(Default)]
struct Refill {
    lock: tokio::sync::Mutex<()>,
    /// Refills that brought stock: a buyer who waited for the lock through one of them reserves
    /// again first (the seller's gauges do not show a reservation held until its commit).
    brought: AtomicU64,
}

impl Shares {
    /// The shares the store holds; purchases sell from them when `enabled`.
    pub async fn load(store: Arc<dyn Store>, lanes: Lanes, enabled: bool) -> Result<Shares, StoreError> {
        let made: DashMap<ProductCode, Vec<ProductCode>> = DashMap::new();
        for share in store.share_codes().await? {
            made.entry(share.home()).or_default().push(share);
        }
        let inner = Inner {
            store,
            lanes,
            enabled,
            made,
            in_transit: DashMap::new(),
            refilling: DashMap::new(),
            syncing: DashMap::new(),
            behind: DashSet::new(),
        };
        Ok(Shares { inner: Arc::new(inner) })
    }

    pub fn enabled(&self) -> bool {
        self.inner.enabled
    }

    /// The product actor a saldo purchase of `product` by `customer` reserves from: the share in
    /// the customer's lane, made if it was not, or the product itself in its own lane.
    pub async fn seller_for(&self, customer: &CustomerId, product: &ProductCode) -> Result<ProductCode, ShareError> {
        let lanes = &self.inner.lanes;
        if !self.inner.enabled {
            return Ok(product.clone());
        }
        let lane = lanes.lane_of_customer(customer);
        if lane == lanes.lane_of_product(product) {
            return Ok(product.clone());
        }
        let share = product.share(lane as u16);
        if self.is_made(&share) {
            if self.inner.behind.contains(&share) {
                // A sync that did not reach it (a failed call): brought up now, or no sale.
                self.sync_share(product, &share).await?;
            }
            return Ok(share);
        }
        // A code no product has is refused before anything is kept for it: buyers may ask for
        // any code, and the locks below are kept per seller.
        lanes.product_snapshot(product).await?;
        // The first buyers of a product in a lane come together: one of them makes the share.
        let refill = self.refill_of(&share);
        let _one_at_a_time = refill.lock.lock().await;
        if self.is_made(&share) {
            return Ok(share);
        }
        self.ensure(product, lane as u16).await
    }

    fn is_made(&self, share: &ProductCode) -> bool {
        self.inner.made.get(&share.home()).is_some_and(|made| made.contains(share))
    }

    /// How many sellers (products and shares) the shares keep a lock for: at most every
    /// product's, once per lane.
    pub fn sellers_tracked(&self) -> usize {
        self.inner.refilling.len()
    }

    /// The lock under which a seller is made or refilled, one at a time.
    fn refill_of(&self, seller: &ProductCode) -> Arc<Refill> {
        self.inner.refilling.entry(seller.clone()).or_default().clone()
    }

    /// The share of `home` in `lane`; its row is made from the home as it is now (name, prices,
    /// kind, on sale) if it has none yet, with no stock.
    pub async fn ensure(&self, home: &ProductCode, lane: u16) -> Result<ProductCode, ShareError> {
        let share = home.share(lane);
        let lanes = &self.inner.lanes;
        match lanes.product_snapshot(&share).await {
            Ok(_) => {}
            Err(CallError::NotFound) => self.make(home, &share).await?,
            Err(error) => return Err(error.into()),
        }
        {
            let mut made = self.inner.made.entry(home.clone()).or_default();
            if !made.contains(&share) {
                // Behind until brought up below: should that fail, no purchase sells from it
                // before a later one has.
                self.inner.behind.insert(share.clone());
                made.push(share.clone());
            }
        }
        // A change of the product made while this share was being made did not reach it (it
        // was not listed yet): it is brought up to the product as it is now.
        self.sync_share(home, &share).await?;
        Ok(share)
    }

    /// Brings one share of `home` to the product's terms as they are now, under the product's
    /// sync lock.
    async fn sync_share(&self, home: &ProductCode, share: &ProductCode) -> Result<(), ShareError> {
        let lock = self.inner.syncing.entry(home.clone()).or_default().clone();
        let _one_at_a_time = lock.lock().await;
        let terms = self.inner.lanes.product_snapshot(home).await?;
        self.sync_one(share, &terms).await?;
        self.inner.behind.remove(share);
        Ok(())
    }

    async fn make(&self, home: &ProductCode, share: &ProductCode) -> Result<(), ShareError> {
        let of_home = self.inner.lanes.product_snapshot(home).await?;
        let now = self.inner.lanes.clock().now();
        let row = ProductRow {
            active: of_home.active,
            ..ProductRow::first(share.clone(), of_home.name, of_home.price, of_home.kind, now)
        };
        // A second make of the same share (a race, a retry) changes nothing.
        self.inner.store.create_product(&row).await?;
        Ok(())
    }

    /// Brings every share of `home` to the product's name, prices and sale as they are now, and
    /// answers once all have them: after an owner's change (so no purchase begun after the
    /// owner saw "changed" buys on the old terms), and at start.
    ///
    /// Every share counts as behind until it is brought up, so a share a failure left behind
    /// sells nothing until a purchase there (`seller_for`) or a later sync has brought it up.
    pub async fn sync(&self, home: &ProductCode) -> Result<(), ShareError> {
        let shares = self.of(home);
        if !self.inner.enabled || shares.is_empty() {
            return Ok(());
        }
        let lock = self.inner.syncing.entry(home.clone()).or_default().clone();
        let _one_at_a_time = lock.lock().await;
        for share in &shares {
            self.inner.behind.insert(share.clone());
        }
        let terms = self.inner.lanes.product_snapshot(home).await?;
        for share in shares {
            self.sync_one(&share, &terms).await?;
            self.inner.behind.remove(&share);
        }
        Ok(())
    }

    /// Sends `share` what differs from its product's `terms`, each price under a reference of
    /// its own: a product's references are its own, and the owner's reference sent again later
    /// to a share that forgot it would apply an old price.
    async fn sync_one(&self, share: &ProductCode, terms: &ProductSnapshot) -> Result<(), ShareError> {
        let lanes = &self.inner.lanes;
        let mine = lanes.product_snapshot(share).await?;
        let by = || ActorName::from("shares");
        if mine.name != terms.name {
            lanes.product(share, Rename { name: terms.name.clone(), actor: by() }).await??;
        }
        if mine.active != terms.active {
            lanes.product(share, SetActive { active: terms.active, actor: by() }).await??;
        }
        let prices = [
            (PriceTier::Member, Some(terms.price), Some(mine.price)),
            (PriceTier::Reseller, terms.reseller_price, mine.reseller_price),
        ];
        for (tier, wanted, has) in prices {
            let Some(price) = wanted.filter(|price| has != Some(*price)) else { continue };
            let random: u64 = rand::random();
            let reference =
                Reference::parse(&format!("share-sync:{}:{random:016x}", tier.as_str())).expect("a short reference");
            lanes.product(share, SetPrice { reference, tier, price, actor: by() }).await??;
        }
        Ok(())
    }

    /// The shares of `home` whose rows exist.
    pub fn of(&self, home: &ProductCode) -> Vec<ProductCode> {
        self.inner.made.get(home).map(|made| made.clone()).unwrap_or_default()
    }

    /// The units available for sale in `home` and all its shares, as their gauges show them,
    /// and those a move is carrying between them; `None` when one of them is not active (its
    /// gauges are not known without loading it).
    pub fn available_anywhere(&self, home: &ProductCode) -> Option<i64> {
        let lanes = &self.inner.lanes;
        let gauge = |code: &ProductCode| {
            lanes.product_gauges(code).map(|g| g.available.load(std::sync::atomic::Ordering::Relaxed))
        };
        let mut total = gauge(home)? + self.in_transit(home);
        for share in self.of(home) {
            total += gauge(&share)?;
        }
        Some(total)
    }

    /// `home` as owners and buyers see it: the product (`whole`) and its shares (`parts`) as
    /// one. Stock moved to a share is counted where it is (available, reserved or sold there,
    /// or available while a move carries it) and not as removed: `removed` counts what left the
    /// shop, and a move leaves nothing.
    pub fn as_one(&self, mut whole: ProductSnapshot, parts: &[ProductSnapshot]) -> ProductSnapshot {
        if parts.is_empty() {
            return whole;
        }
        // No command removes stock from a product today: its removed counts only what it moved
        // to its shares, which is counted below where it is now.
        whole.removed = 0;
        for part in parts {
            whole.available += part.available;
            whole.reserved += part.reserved;
            whole.sold += part.sold;
            whole.open_reservations += part.open_reservations;
            whole.next_expiry = match (whole.next_expiry, part.next_expiry) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        // Units a move is carrying are for sale, in the seller they are moving to.
        whole.available += self.in_transit(&whole.code);
        whole.received = whole.available + whole.reserved + whole.sold + whole.removed;
        whole
    }
}

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
//! product as with one lane.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dashmap::DashMap;
use warung_actors::domain::{ActorName, CustomerId, ProductCode, Quantity, Reference};
use warung_actors::journal::ProductRow;
use warung_actors::product::{PriceTier, ProductRejection, ProductSnapshot, Rename, SetActive, SetPrice};
use warung_actors::runtime::CallError;

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
        let in_transit = DashMap::new();
        Ok(Shares { inner: Arc::new(Inner { store, lanes, enabled, made, in_transit, refilling: DashMap::new() }) })
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
            return Ok(share);
        }
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
                made.push(share.clone());
            }
        }
        // A change of the product made while this share was being made did not reach it (it
        // was not listed yet): it is brought up to the product as it is now.
        let terms = lanes.product_snapshot(home).await?;
        self.sync_one(&share, &terms).await?;
        Ok(share)
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
    pub async fn sync(&self, home: &ProductCode) -> Result<(), ShareError> {
        let shares = self.of(home);
        if !self.inner.enabled || shares.is_empty() {
            return Ok(());
        }
        let terms = self.inner.lanes.product_snapshot(home).await?;
        for share in shares {
            self.sync_one(&share, &terms).await?;
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

    /// Moves up to `quantity` units from `from` to `to` (a product and its share, either way);
    /// what moved.
    pub async fn shift(
        &self,
        from: &ProductCode,
        to: &ProductCode,
        quantity: Quantity,
    ) -> Result<Quantity, ShareError> {
        let (shares, from, to) = (self.clone(), from.clone(), to.clone());
        // A move runs to its end as a task of its own: a caller that stops waiting (a request
        // whose client went away) must not leave its units out of one seller and in no other.
        let task = tokio::task::spawn_local(async move {
            let home = from.home();
            *shares.inner.in_transit.entry(home.clone()).or_default() += i64::from(quantity);
            let moved = shares.inner.lanes.move_stock(&from, &to, quantity).await;
            *shares.inner.in_transit.entry(home).or_default() -= i64::from(quantity);
            moved
        });
        let moved = task.await.map_err(|error| CallError::OutcomeUnknown { reason: error.to_string() })?;
        Ok(moved??)
    }

    /// The units of `home` a move is taking from one of its sellers to another right now.
    pub fn in_transit(&self, home: &ProductCode) -> i64 {
        self.inner.in_transit.get(home).map_or(0, |units| *units)
    }

    /// Brings at least `wanted` units to `seller` (a product or its share) if there are that
    /// many anywhere: to a share, a block from its product; then, if that was short, the other
    /// shares give back half of what they hold, through the product. Answers how many came (as
    /// many as wanted when another buyer's refill brought them already); none: none were left.
    pub async fn refill(&self, seller: &ProductCode, wanted: Quantity) -> Result<Quantity, ShareError> {
        let refill = self.refill_of(seller);
        let seen = refill.brought.load(Ordering::Acquire);
        let _one_at_a_time = refill.lock.lock().await;
        // Another buyer's refill brought stock while this one waited: reserve again first.
        if refill.brought.load(Ordering::Acquire) != seen {
            return Ok(wanted);
        }
        let came = self.bring(seller, wanted).await?;
        if came > 0 {
            refill.brought.fetch_add(1, Ordering::AcqRel);
        }
        Ok(came)
    }

    async fn bring(&self, seller: &ProductCode, wanted: Quantity) -> Result<Quantity, ShareError> {
        let lanes = &self.inner.lanes;
        let home = seller.home();
        let mut came = 0;
        if seller.is_share() {
            came += self.shift(&home, seller, self.block(&home, wanted).await?).await?;
        }
        if came >= wanted {
            return Ok(came);
        }
        // Short everywhere but in the other shares: each gives back half of what it holds (what
        // this buyer still needs, if more), so the two split what is left and the last units
        // move a few times, not once a sale. One seller takes back at a time (under the
        // product's lock, which a product's own refill holds already): two buyers in two lanes
        // would otherwise take each other's last units in turn.
        let home_refill = self.refill_of(&home);
        let _taking_back = match seller.is_share() {
            true => Some(home_refill.lock.lock().await),
            false => None,
        };
        for other in self.of(&home).iter().filter(|other| *other != seller) {
            let needed = wanted.saturating_sub(came);
            if needed == 0 {
                break;
            }
            let available = lanes.product_snapshot(other).await?.available.max(0);
            let available = u32::try_from(available).unwrap_or(u32::MAX);
            let take = needed.max(available / 2).min(available);
            if take == 0 {
                continue;
            }
            let back = self.shift(other, &home, take).await?;
            came += match seller.is_share() {
                true => self.shift(&home, seller, back).await?,
                false => back,
            };
        }
        Ok(came)
    }

    /// What one refill of a share moves: what the buyer wants, or a lane's part of what the
    /// product has left, at most a block.
    async fn block(&self, home: &ProductCode, wanted: Quantity) -> Result<Quantity, ShareError> {
        Ok(wanted.max(self.lanes_part(home).await?))
    }

    /// A lane's part of what `home` has left, at most a block. Read from its gauges when it is
    /// active: a hot product's mailbox is long, and a refill should not wait behind it to learn
    /// how much to ask for (the move itself does).
    async fn lanes_part(&self, home: &ProductCode) -> Result<Quantity, ShareError> {
        let lanes = &self.inner.lanes;
        let available = match lanes.product_gauges(home) {
            Some(gauges) => gauges.available.load(std::sync::atomic::Ordering::Relaxed),
            None => lanes.product_snapshot(home).await?.available,
        };
        let part = available.max(0) as u64 / lanes.count() as u64;
        Ok(part.min(u64::from(SHARE_BLOCK_MAX)) as Quantity)
    }

    /// After a restock of `home`: every lane's share is made if it was not, and the product's
    /// available stock is split evenly over the lanes (buyers are spread over the lanes by the
    /// hash of their id), so buyers in every lane find stock where they are and a refill is rare.
    pub async fn spread(&self, home: &ProductCode) -> Result<(), ShareError> {
        let lanes = &self.inner.lanes;
        if !self.inner.enabled {
            return Ok(());
        }
        let home_lane = lanes.lane_of_product(home);
        let mut shares = Vec::new();
        for lane in (0..lanes.count()).filter(|lane| *lane != home_lane) {
            let refill = self.refill_of(&home.share(lane as u16));
            let _one_at_a_time = refill.lock.lock().await;
            shares.push(self.ensure(home, lane as u16).await?);
        }
        // Each lane's part of what is available in all of them; a share is topped up to it.
        let mut held = Vec::with_capacity(shares.len());
        let mut total = lanes.product_snapshot(home).await?.available.max(0);
        for share in &shares {
            let available = lanes.product_snapshot(share).await?.available.max(0);
            total += available;
            held.push(available);
        }
        let per_lane = total / lanes.count() as i64;
        for (share, held) in shares.iter().zip(held) {
            let short = u32::try_from(per_lane - held).unwrap_or(0);
            if short > 0 {
                self.shift(home, share, short).await?;
            }
        }
        Ok(())
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

    /// `home` as owners and buyers see it: the product and its shares as one. Stock moved to a
    /// share is counted where it is (available, reserved or sold there, or available while a
    /// move carries it) and not as removed: `removed` counts what left the shop, and a move
    /// leaves nothing.
    pub async fn snapshot(&self, home: &ProductCode) -> Result<ProductSnapshot, CallError> {
        let lanes = &self.inner.lanes;
        let mut whole = lanes.product_snapshot(home).await?;
        let shares = self.of(home);
        if shares.is_empty() {
            return Ok(whole);
        }
        // No command removes stock from a product today: its removed counts only what it moved
        // to its shares, which is counted below where it is now.
        whole.removed = 0;
        for share in shares {
            let part = lanes.product_snapshot(&share).await?;
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
        whole.available += self.in_transit(home);
        whole.received = whole.available + whole.reserved + whole.sold + whole.removed;
        Ok(whole)
    }

    /// Finishes every move found out of one product and not in the other (a stop between the
    /// two steps), then brings back to its product what a share that no longer sells holds (the
    /// process runs fewer lanes than when it was made, or none of them sells from shares); how
    /// many moves it made. Runs before the shop takes purchases, as the other recoveries do.
    pub async fn recover(&self) -> Result<usize, ShareError> {
        let mut moves = self.finish_moves().await?;
        let lanes = self.inner.lanes.count();
        let idle: Vec<ProductCode> = self
            .inner
            .made
            .iter()
            .flat_map(|made| made.value().clone())
            .filter(|share| !self.inner.enabled || share.share_of().is_none_or(|(_, lane)| usize::from(lane) >= lanes))
            .collect();
        for share in idle {
            let available = self.inner.lanes.product_snapshot(&share).await?.available;
            if available > 0 {
                self.shift(&share, &share.home(), available as Quantity).await?;
                moves += 1;
            }
        }
        let homes: Vec<ProductCode> = self.inner.made.iter().map(|made| made.key().clone()).collect();
        for home in homes {
            self.sync(&home).await?;
        }
        Ok(moves)
    }

    async fn finish_moves(&self) -> Result<usize, ShareError> {
        let mut finished = 0;
        for (from, reference, quantity) in self.inner.store.unfinished_moves().await? {
            let units = u32::try_from(quantity).unwrap_or(u32::MAX);
            match self.inner.lanes.finish_move(&from, reference.clone(), units).await? {
                Ok(_) => finished += 1,
                Err(rejection) => {
                    tracing::error!(product = %from, %reference, %rejection, "could not finish a stock move")
                }
            }
        }
        Ok(finished)
    }
}

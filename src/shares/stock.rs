//! How a product's stock reaches its sellers: a restock split over the lanes (`spread`), a
//! seller short of stock refilled (`refill`), and each move between two of them (`shift`).

use std::sync::atomic::Ordering;

use warung_actors::domain::{ProductCode, Quantity};
use warung_actors::runtime::CallError;
use warung_actors::supervisor::move_reference;

use super::{ShareError, Shares, SHARE_BLOCK_MAX};

impl Shares {
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
            let reference = move_reference(&to);
            *shares.inner.in_transit.entry(home.clone()).or_default() += i64::from(quantity);
            let moved = shares.inner.lanes.move_stock(&from, &to, reference.clone(), quantity).await;
            *shares.inner.in_transit.entry(home).or_default() -= i64::from(quantity);
            if moved.is_err() {
                // Its units may be out of `from` and in no seller: finished in the background.
                shares.finish_later(from, reference, quantity);
            }
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
}

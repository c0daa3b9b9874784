//! Prices with guard rails. A price below the shop's minimum is refused. A change larger than
//! the confirm threshold (percent of the price in force) is only requested: it applies when a
//! second call confirms it within the window, and the audit row records who asked and who
//! confirmed. Smaller changes apply at once. Every change goes through the product actor, with
//! its audit row in the same commit.

use std::sync::Arc;

use rust_decimal::Decimal;
use warung_actors::domain::{Clock, Money, ProductCode, Reference};
use warung_actors::product::{PriceTier, ProductCommand};
use warung_actors::runtime::CallError;

use super::Admin;
use crate::checkout::{AuditRow, CheckoutError, ShopRecord};
use crate::cluster::Actors;
use crate::shares::Shares;
use crate::shop::Shop;
use crate::store::admin::{PriceRequest, PriceRequestStatus};
use crate::store::{AdminStore, StoreError};

/// What the price rules read and act through.
#[derive(Clone)]
pub struct Prices {
    /// Price requests: opened, read, closed.
    pub store: Arc<dyn AdminStore>,
    /// The product and wallet actors, here or on the nodes that own them.
    pub actors: Actors,
    /// A price change goes to the product's shares too.
    pub shares: Shares,
    pub shop: Arc<Shop>,
    pub clock: Clock,
}

/// What asking for a price came to.
#[derive(Debug)]
pub enum PriceChange {
    Unchanged {
        tier: PriceTier,
        price: Money,
    },
    Applied {
        tier: PriceTier,
        price: Money,
    },
    /// Too large a change to apply at once: it waits for a confirmation.
    Pending {
        request: PriceRequest,
        confirm_percent: u32,
    },
}

/// Why a price was not set, in the order the rules are checked.
#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    #[error("a price must be at least {minimum}")]
    BelowMinimum { minimum: Money },
    #[error("no price request {id}")]
    RequestNotFound { id: String },
    #[error("the request is {}", status.as_str())]
    RequestClosed { status: PriceRequestStatus },
    #[error("the confirmation window has passed; ask again")]
    RequestExpired,
    #[error("the price changed since this was asked; ask again")]
    PriceChangedSinceRequest,
    #[error("{0}")]
    RequestIdNotAReference(String),
    #[error("store unavailable: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Call(#[from] CallError),
    #[error(transparent)]
    Checkout(#[from] CheckoutError),
}

/// A price change as it is asked for.
pub struct NewPrice<'a> {
    pub code: &'a ProductCode,
    pub tier: PriceTier,
    pub price: Money,
    pub reason: &'a str,
}

impl Prices {
    /// Refuses a price under the shop's minimum.
    pub fn check_minimum(&self, price: Money) -> Result<(), PriceError> {
        let minimum = self.shop.values().price_minimum;
        if price < minimum {
            return Err(PriceError::BelowMinimum { minimum });
        }
        Ok(())
    }

    /// Sets a price, or opens a request to confirm when the change is large.
    pub async fn set(&self, new: NewPrice<'_>, admin: &Admin) -> Result<PriceChange, PriceError> {
        let NewPrice { code, tier, price, reason } = new;
        self.check_minimum(price)?;
        let current = self.price_in_force(code, tier).await?;
        if current == Some(price) {
            return Ok(PriceChange::Unchanged { tier, price });
        }
        let shop = self.shop.values();
        let now = self.clock.now();
        let confirm_percent = shop.price_change_confirm_percent;
        if let Some(from) = current.filter(|from| changes_more_than(*from, price, confirm_percent)) {
            let request = PriceRequest {
                id: format!("PR-{:012x}", rand::random::<u64>() >> 16),
                product: code.clone(),
                tier,
                from_price: Some(from),
                to_price: price,
                reason: reason.trim().to_string(),
                requested_by: admin.0.clone(),
                requested_at: now,
                expires_at: now + (shop.price_confirm_window_secs * 1_000) as i64,
                status: PriceRequestStatus::Pending,
                confirmed_by: None,
                confirmed_at: None,
            };
            self.store.open_price_request(&request).await?;
            return Ok(PriceChange::Pending { request, confirm_percent });
        }
        let reference = generated_reference();
        let change = Change { code, tier, from: current, to: price, requested_by: &admin.0, confirmed_by: None };
        self.apply(&change, reference, change.audit(reason.trim(), now), admin).await?;
        Ok(PriceChange::Applied { tier, price })
    }

    pub async fn request(&self, id: &str) -> Result<PriceRequest, PriceError> {
        self.store.price_request(id).await?.ok_or_else(|| PriceError::RequestNotFound { id: id.to_string() })
    }

    /// Applies a pending request. Refused once it is closed, expired, or the price it would
    /// change has changed since it was asked.
    pub async fn confirm(&self, id: &str, admin: &Admin) -> Result<PriceRequest, PriceError> {
        let request = self.request(id).await?;
        let now = self.clock.now();
        if request.status != PriceRequestStatus::Pending {
            return Err(PriceError::RequestClosed { status: request.status });
        }
        if now > request.expires_at {
            self.store.close_price_request(&request.id, PriceRequestStatus::Expired, None, now).await?;
            return Err(PriceError::RequestExpired);
        }
        let current = self.price_in_force(&request.product, request.tier).await?;
        if current != request.from_price {
            self.store.close_price_request(&request.id, PriceRequestStatus::Superseded, None, now).await?;
            return Err(PriceError::PriceChangedSinceRequest);
        }
        // The request id is the actor's idempotency reference: two confirmations apply it once.
        let reference = Reference::parse(&request.id).map_err(|e| PriceError::RequestIdNotAReference(e.to_string()))?;
        let change = Change {
            code: &request.product,
            tier: request.tier,
            from: request.from_price,
            to: request.to_price,
            requested_by: &request.requested_by,
            confirmed_by: Some(&admin.0),
        };
        self.apply(&change, reference, change.audit(&request.reason, now), admin).await?;
        self.store.close_price_request(&request.id, PriceRequestStatus::Confirmed, Some(&admin.0), now).await?;
        self.request(&request.id).await
    }

    /// The price a buyer of `tier` pays now; `None` for a reseller price never set.
    async fn price_in_force(&self, code: &ProductCode, tier: PriceTier) -> Result<Option<Money>, PriceError> {
        let snapshot = self.actors.product_snapshot(code).await?;
        Ok(match tier {
            PriceTier::Member => Some(snapshot.price),
            PriceTier::Reseller => snapshot.reseller_price,
        })
    }

    async fn apply(
        &self,
        change: &Change<'_>,
        reference: Reference,
        audit: AuditRow,
        admin: &Admin,
    ) -> Result<(), PriceError> {
        let command = ProductCommand::SetPrice { reference, tier: change.tier, price: change.to, actor: admin.actor() };
        self.actors
            .product_with(change.code, command, vec![ShopRecord::Audit(audit)])
            .await?
            .map_err(CheckoutError::Product)?;
        // Answered once every share has the price: no purchase begun after "changed" pays the old.
        self.shares.sync(change.code).await.map_err(CheckoutError::from)?;
        Ok(())
    }
}

/// One price change as the audit trail records it.
struct Change<'a> {
    code: &'a ProductCode,
    tier: PriceTier,
    from: Option<Money>,
    to: Money,
    requested_by: &'a str,
    confirmed_by: Option<&'a str>,
}

impl Change<'_> {
    fn audit(&self, reason: &str, at: i64) -> AuditRow {
        let requested_by = self.requested_by;
        let who = match self.confirmed_by {
            Some(confirmer) => format!("requested by {requested_by}, confirmed by {confirmer}"),
            None => format!("by {requested_by}"),
        };
        AuditRow {
            admin: self.confirmed_by.unwrap_or(requested_by).to_string(),
            action: format!("set_price:{}", self.tier.as_str()),
            subject: self.code.to_string(),
            before: self.from.map(|m| m.amount().to_string()).unwrap_or_default(),
            after: self.to.amount().to_string(),
            reason: if reason.is_empty() { who } else { format!("{reason} ({who})") },
            at,
        }
    }
}

fn generated_reference() -> Reference {
    let random: u64 = rand::random();
    Reference::parse(&format!("price-{random:016x}")).expect("a generated reference parses")
}

/// Whether going from `from` to `to` changes the price by more than `percent` of `from`.
fn changes_more_than(from: Money, to: Money, percent: u32) -> bool {
    let change = (to.amount() - from.amount()).abs();
    change * Decimal::from(100) > from.amount() * Decimal::from(percent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_beyond_the_threshold_needs_confirming_and_one_at_it_does_not() {
        let rp = Money::rupiah;
        assert!(!changes_more_than(rp(10_000), rp(15_000), 50), "exactly 50% up applies");
        assert!(changes_more_than(rp(10_000), rp(15_001), 50));
        assert!(!changes_more_than(rp(10_000), rp(5_000), 50), "exactly 50% down applies");
        assert!(changes_more_than(rp(10_000), rp(4_999), 50));
    }
}

//! Restock and price flows of the product state machine, idempotent by reference.

use std::collections::HashSet;

use super::{Fingerprint, ProductState};
use crate::domain::{Item, Money, Quantity, Reference, StockState, UnixMs};
use crate::journal::{Event, MovementRow, StockKind};
use crate::product::messages::{PriceTier, ProductOutcome, ProductRejection, Restock};

impl ProductState {
    pub(super) fn restock(
        &mut self,
        reference: Reference,
        stock: Restock,
        actor: &str,
        now: UnixMs,
        events: &mut Vec<Event>,
    ) -> Result<ProductOutcome, ProductRejection> {
        let fingerprint = Fingerprint::Restock(stock.fingerprint());
        if let Some(outcome) = self.remembered(&reference, &fingerprint)? {
            return Ok(outcome);
        }
        let added = match (&stock, self.kind) {
            (Restock::Items(items), StockKind::Items) => {
                if items.is_empty() {
                    return Err(ProductRejection::RestockMustNotBeEmpty);
                }
                let mut seen = HashSet::with_capacity(items.len());
                for (index, secret) in items.iter().enumerate() {
                    if self.secrets.contains(secret) || !seen.insert(secret) {
                        return Err(ProductRejection::DuplicateItem { index });
                    }
                }
                let mut rows = Vec::with_capacity(items.len());
                for secret in items {
                    let item = Item { no: self.next_item_no, secret: secret.clone() };
                    self.next_item_no += 1;
                    self.secrets.insert(secret.clone());
                    rows.push((item.no, item.secret.clone()));
                    self.queue.push_back(item);
                }
                events.push(Event::ItemsAdded { product: self.code.clone(), items: rows, at: now });
                items.len() as Quantity
            }
            (Restock::Count(count), StockKind::Counted) => {
                if *count == 0 {
                    return Err(ProductRejection::RestockMustNotBeEmpty);
                }
                self.available_count += i64::from(*count);
                *count
            }
            _ => return Err(ProductRejection::RestockKindMismatch { kind: self.kind }),
        };
        self.received += i64::from(added);
        events.push(Event::Movement(MovementRow {
            product: self.code.clone(),
            quantity: i64::from(added),
            from: StockState::Supplier,
            to: StockState::Available,
            reason: "restock".to_string(),
            reference: reference.to_string(),
            actor: actor.to_string(),
            at: now,
            content_hash: Some(stock.fingerprint()),
        }));
        events.push(Event::Product(self.row(now)));
        let outcome = ProductOutcome::Restocked { added, available: self.available() };
        self.references.insert(reference, (fingerprint, outcome.clone()));
        Ok(outcome)
    }

    pub(super) fn set_price(
        &mut self,
        reference: Reference,
        tier: PriceTier,
        price: Money,
        now: UnixMs,
        events: &mut Vec<Event>,
    ) -> Result<ProductOutcome, ProductRejection> {
        let fingerprint = Fingerprint::Price(tier, price);
        if let Some(outcome) = self.remembered(&reference, &fingerprint)? {
            return Ok(outcome);
        }
        if price.is_zero() {
            return Err(ProductRejection::PriceMustNotBeZero);
        }
        match tier {
            PriceTier::Member => self.price = price,
            PriceTier::Reseller => self.reseller_price = Some(price),
        }
        events.push(Event::Product(self.row(now)));
        let outcome = ProductOutcome::PriceSet { tier, price };
        self.references.insert(reference, (fingerprint, outcome.clone()));
        Ok(outcome)
    }

    fn remembered(
        &self,
        reference: &Reference,
        fingerprint: &Fingerprint,
    ) -> Result<Option<ProductOutcome>, ProductRejection> {
        match self.references.get(reference) {
            Some((seen, outcome)) if seen == fingerprint => Ok(Some(outcome.clone())),
            // Stored before fingerprints were kept: any content matches.
            Some((Fingerprint::RestockRestored(None), outcome)) if matches!(fingerprint, Fingerprint::Restock(_)) => {
                Ok(Some(outcome.clone()))
            }
            Some((Fingerprint::RestockRestored(Some(stored)), outcome))
                if *fingerprint == Fingerprint::Restock(*stored) =>
            {
                Ok(Some(outcome.clone()))
            }
            Some(_) => Err(ProductRejection::ExistsWithDifferentContent),
            None => Ok(None),
        }
    }
}

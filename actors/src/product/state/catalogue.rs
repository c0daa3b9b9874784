//! What the product sells and how: restock and price (idempotent by reference), name, and
//! whether it is on sale.

use std::collections::HashSet;

use super::{ProductState, Remembered, PRODUCT_NAME_CHARS_MAX};
use crate::domain::{Item, Quantity, StockState, UnixMs};
use crate::journal::{Event, MovementRow, StockKind};
use crate::product::commands::{ActiveSet, AddStock, PriceSet, Rename, Renamed, Restocked, SetActive, SetPrice};
use crate::product::terms::{PriceTier, ProductRejection, Restock};
use crate::runtime::Transition;

impl ProductState {
    pub fn restock(&mut self, command: AddStock, now: UnixMs) -> Result<Transition<Restocked>, ProductRejection> {
        let AddStock { reference, stock, actor } = command;
        let fingerprint = stock.fingerprint();
        match self.references.get(&reference) {
            // A restock restored without a fingerprint (stored before they were kept) matches any content.
            Some(Remembered::Restock { fingerprint: seen, restocked })
                if seen.is_none_or(|seen| seen == fingerprint) =>
            {
                return Ok(self.transition(restocked.clone(), Vec::new()));
            }
            Some(_) => return Err(ProductRejection::ExistsWithDifferentContent),
            None => {}
        }
        let mut events = Vec::new();
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
            reason: "restock".into(),
            reference: reference.shared(),
            actor,
            at: now,
            content_hash: Some(fingerprint),
        }));
        events.push(Event::Product(self.row(now)));
        let restocked = Restocked { added, available: self.available() };
        let remembered = Remembered::Restock { fingerprint: Some(fingerprint), restocked: restocked.clone() };
        self.references.insert(reference, remembered);
        Ok(self.transition(restocked, events))
    }

    pub fn set_price(&mut self, command: SetPrice, now: UnixMs) -> Result<Transition<PriceSet>, ProductRejection> {
        let SetPrice { reference, tier, price, actor: _ } = command;
        match self.references.get(&reference) {
            Some(Remembered::Price(set)) if set.tier == tier && set.price == price => {
                return Ok(self.transition(set.clone(), Vec::new()));
            }
            Some(_) => return Err(ProductRejection::ExistsWithDifferentContent),
            None => {}
        }
        if price.is_zero() {
            return Err(ProductRejection::PriceMustNotBeZero);
        }
        match tier {
            PriceTier::Member => self.price = price,
            PriceTier::Reseller => self.reseller_price = Some(price),
        }
        let set = PriceSet { tier, price };
        self.references.insert(reference, Remembered::Price(set.clone()));
        Ok(self.transition(set, vec![Event::Product(self.row(now))]))
    }

    pub fn rename(&mut self, command: Rename, now: UnixMs) -> Result<Transition<Renamed>, ProductRejection> {
        let name = command.name.trim();
        if name.is_empty() || name.chars().count() > PRODUCT_NAME_CHARS_MAX {
            return Err(ProductRejection::NameMustBeShort { limit: PRODUCT_NAME_CHARS_MAX });
        }
        let mut events = Vec::new();
        if self.name != name {
            self.name = name.to_string();
            events.push(Event::Product(self.row(now)));
        }
        Ok(self.transition(Renamed { name: self.name.clone() }, events))
    }

    pub fn set_active(&mut self, command: SetActive, now: UnixMs) -> Result<Transition<ActiveSet>, ProductRejection> {
        let mut events = Vec::new();
        if self.active != command.active {
            self.active = command.active;
            events.push(Event::Product(self.row(now)));
        }
        Ok(self.transition(ActiveSet { active: command.active }, events))
    }
}

//! Stock moved between a product and its shares (a share is a product of its own that sells
//! part of its home's stock in another lane). A move out takes units off the queue and records
//! them as removed, held by the move; a move in, under the same reference, takes them in (an item
//! that comes back undoes its removal). Each is idempotent by its reference and conserves
//! `received = available + reserved + sold + removed` on each side, counted as the items' rows
//! are; the owner's reports count neither as received nor removed (reason `move`).

use super::{ProductState, Remembered};
use crate::domain::{ActorName, Item, ItemNo, ProductCode, Quantity, Reference, StockState, UnixMs};
use crate::journal::{Event, MovementRow, StockKind};
use crate::product::commands::{MoveIn, MoveOut, Moved, MovedIn, MovedOut};
use crate::product::terms::ProductRejection;
use crate::runtime::Transition;

/// The movement reason both sides of a move record.
pub const MOVE_REASON: &str = "move";

impl ProductState {
    pub fn move_out(&mut self, command: MoveOut, now: UnixMs) -> Result<Transition<MovedOut>, ProductRejection> {
        let MoveOut { reference, quantity, to, actor } = command;
        match self.references.get(&reference) {
            Some(Remembered::MoveOut { asked, reply })
                if asked.as_ref().is_none_or(|a| *a == (to.clone(), quantity)) =>
            {
                return Ok(self.transition(reply.clone(), Vec::new()));
            }
            Some(_) => return Err(ProductRejection::ExistsWithDifferentContent),
            None => {}
        }
        if quantity == 0 {
            return Err(ProductRejection::MoveMustNotBeEmpty);
        }
        if !self.moves_with(&to) {
            return Err(ProductRejection::MoveBetweenUnrelatedProducts);
        }
        let taken = i64::from(quantity).min(self.available()) as Quantity;
        if taken == 0 {
            // Nothing moved, nothing remembered: the same reference may move units restocked later.
            return Ok(self.transition(MovedOut { moved: self.empty_move(), available: 0 }, Vec::new()));
        }
        let mut events = Vec::new();
        let moved = match self.kind {
            StockKind::Items => {
                let items: Vec<Item> = self.queue.drain(..taken as usize).collect();
                let numbers: Vec<ItemNo> = items.iter().map(|item| item.no).collect();
                self.away.extend(numbers.iter().copied());
                events.push(Event::ItemsMovedOut {
                    product: self.code.clone(),
                    items: numbers,
                    by: reference.clone(),
                    at: now,
                });
                Moved::Items(items)
            }
            StockKind::Counted => {
                self.available_count -= i64::from(taken);
                Moved::Count(taken)
            }
        };
        self.removed += i64::from(taken);
        events.push(self.move_movement(&reference, taken, StockState::Available, StockState::Removed, actor, now));
        events.push(Event::Product(self.row(now)));
        let reply = MovedOut { moved, available: self.available() };
        self.references.insert(reference, Remembered::MoveOut { asked: Some((to, quantity)), reply: reply.clone() });
        Ok(self.transition(reply, events))
    }

    pub fn move_in(&mut self, command: MoveIn, now: UnixMs) -> Result<Transition<MovedIn>, ProductRejection> {
        let MoveIn { reference, moved, from, actor } = command;
        let quantity = moved.quantity();
        match self.references.get(&reference) {
            Some(Remembered::MoveIn { added, reply }) if *added == quantity => {
                return Ok(self.transition(reply.clone(), Vec::new()));
            }
            Some(_) => return Err(ProductRejection::ExistsWithDifferentContent),
            None => {}
        }
        if quantity == 0 {
            return Err(ProductRejection::MoveMustNotBeEmpty);
        }
        if !self.moves_with(&from) {
            return Err(ProductRejection::MoveBetweenUnrelatedProducts);
        }
        let mut events = Vec::new();
        let returned = match (moved, self.kind) {
            (Moved::Items(items), StockKind::Items) => self.take_items_in(items, now, &mut events)?,
            (Moved::Count(count), StockKind::Counted) => {
                self.available_count += i64::from(count);
                0
            }
            _ => return Err(ProductRejection::MoveKindMismatch { kind: self.kind }),
        };
        // An item that comes back undoes its removal (its one row is available again, as the
        // audit counts rows); one new here is received.
        self.removed -= i64::from(returned);
        self.received += i64::from(quantity - returned);
        events.push(self.move_movement(&reference, quantity, StockState::Removed, StockState::Available, actor, now));
        events.push(Event::Product(self.row(now)));
        let reply = MovedIn { added: quantity, available: self.available() };
        self.references.insert(reference, Remembered::MoveIn { added: quantity, reply: reply.clone() });
        Ok(self.transition(reply, events))
    }

    /// An item that was here before (moved out and now back) finds its row and its number; one
    /// new here is inserted with the number its home gave it. Answers how many came back.
    fn take_items_in(
        &mut self,
        items: Vec<Item>,
        now: UnixMs,
        events: &mut Vec<Event>,
    ) -> Result<Quantity, ProductRejection> {
        for (index, item) in items.iter().enumerate() {
            let returning = self.away.contains(&item.no);
            let repeated = items[..index].iter().any(|earlier| earlier.no == item.no);
            if repeated || (!returning && self.secrets.contains(&item.secret)) {
                return Err(ProductRejection::DuplicateItem { index });
            }
        }
        let (back, new): (Vec<Item>, Vec<Item>) = items.into_iter().partition(|item| self.away.contains(&item.no));
        let returned = back.len() as Quantity;
        if !back.is_empty() {
            let numbers: Vec<ItemNo> = back.iter().map(|item| item.no).collect();
            numbers.iter().for_each(|no| {
                self.away.remove(no);
            });
            events.push(Event::ItemsMoved {
                product: self.code.clone(),
                items: numbers,
                to: StockState::Available,
                order: None,
                at: now,
            });
        }
        if !new.is_empty() {
            let rows = new.iter().map(|item| (item.no, item.secret.clone())).collect();
            events.push(Event::ItemsAdded { product: self.code.clone(), items: rows, at: now });
        }
        for item in back.into_iter().chain(new) {
            // Numbers are the home's: a share's next number stays past every item it holds.
            self.next_item_no = self.next_item_no.max(item.no + 1);
            self.secrets.insert(item.secret.clone());
            self.queue.push_back(item);
        }
        Ok(returned)
    }

    /// Stock moves only between a home and its own shares.
    fn moves_with(&self, other: &ProductCode) -> bool {
        let share_of_this = other.share_of().is_some_and(|(home, _)| home == self.code);
        let home_of_this = self.code.share_of().is_some_and(|(home, _)| home == *other);
        share_of_this || home_of_this
    }

    fn empty_move(&self) -> Moved {
        match self.kind {
            StockKind::Items => Moved::Items(Vec::new()),
            StockKind::Counted => Moved::Count(0),
        }
    }

    fn move_movement(
        &self,
        reference: &Reference,
        quantity: Quantity,
        from: StockState,
        to: StockState,
        actor: ActorName,
        now: UnixMs,
    ) -> Event {
        Event::Movement(MovementRow {
            product: self.code.clone(),
            quantity: i64::from(quantity),
            from,
            to,
            reason: MOVE_REASON.into(),
            reference: reference.shared(),
            actor,
            at: now,
            content_hash: None,
        })
    }
}

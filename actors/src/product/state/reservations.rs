//! Reservation flows of the product state machine: reserve, commit, release, expire.

use super::{total, ProductState, Reservation, Settled, Settlement};
use crate::domain::{ActorName, Item, ItemNo, ItemSecret, OrderId, Quantity, StockState, UnixMs, ORDER_QUANTITY_MAX};
use crate::journal::{Event, MovementRow, ReservationRow, ReservationStatus, StockKind};
use crate::product::commands::{Commit, Committed, Expired, Release, Released, Reserve, Reserved};
use crate::product::terms::{ProductRejection, ReleaseReason, StoreWhen};
use crate::runtime::Transition;

/// How a reservation's units move, as the store records it.
struct Move<'a> {
    from: StockState,
    to: StockState,
    /// The stock movement's reason.
    why: &'static str,
    status: ReservationStatus,
    /// Why the reservation was released; empty otherwise.
    release_reason: &'a str,
}

impl ProductState {
    pub fn reserve(&mut self, command: Reserve, now: UnixMs) -> Result<Transition<Reserved>, ProductRejection> {
        let Reserve { order, quantity, ttl_ms, store, tier, actor } = command;
        if quantity == 0 {
            return Err(ProductRejection::QuantityMustNotBeZero);
        }
        if quantity > ORDER_QUANTITY_MAX {
            return Err(ProductRejection::QuantityExceedsOrderLimit { limit: ORDER_QUANTITY_MAX });
        }
        if ttl_ms <= 0 {
            return Err(ProductRejection::TimeToLiveMustBePositive);
        }
        let earlier = self
            .reservations
            .get(&order)
            .map(|r| (r.quantity, r.unit_price, r.expires_at))
            .or_else(|| self.settled.get(&order).map(|s| (s.quantity, s.unit_price, s.expires_at)));
        if let Some((reserved, unit_price, expires_at)) = earlier {
            if reserved != quantity {
                return Err(ProductRejection::ExistsWithDifferentQuantity { reserved, requested: quantity });
            }
            return Ok(self.transition(reserved_reply(order, quantity, unit_price, expires_at), Vec::new()));
        }
        if !self.active {
            return Err(ProductRejection::ProductInactive);
        }
        let unit_price = self.price_for(tier);
        if unit_price.checked_mul(quantity).is_none() {
            return Err(ProductRejection::TotalExceedsMoneyLimit);
        }
        let available = self.available();
        if i64::from(quantity) > available {
            return Err(ProductRejection::ExceedsAvailable { available, requested: quantity });
        }
        let items: Vec<Item> = match self.kind {
            StockKind::Items => self.queue.drain(..quantity as usize).collect(),
            StockKind::Counted => {
                self.available_count -= i64::from(quantity);
                Vec::new()
            }
        };
        let expires_at = now.saturating_add(ttl_ms);
        let stored = store == StoreWhen::Reserved;
        let reservation = Reservation { quantity, unit_price, items, expires_at, stored };
        self.reserved_units += i64::from(quantity);
        let mut events = Vec::new();
        if stored {
            let reserve = Move {
                from: StockState::Available,
                to: StockState::Reserved,
                why: "reserve",
                status: ReservationStatus::Reserved,
                release_reason: "",
            };
            self.push_stock_events(&order, &reservation, reserve, actor, now, &mut events);
        } else {
            self.unstored_units += i64::from(quantity);
        }
        let reply = reserved_reply(order.clone(), quantity, unit_price, expires_at);
        self.expiries.insert((expires_at, order.clone()));
        self.reservations.insert(order, reservation);
        if stored {
            events.push(Event::Product(self.row(now)));
        }
        Ok(self.transition(reply, events))
    }

    pub fn commit(&mut self, command: Commit, now: UnixMs) -> Result<Transition<Committed>, ProductRejection> {
        let Commit { order, actor } = command;
        if let Some(settled) = self.settled.get(&order) {
            let committed = match &settled.settlement {
                Settlement::Committed { items } => Committed {
                    order,
                    quantity: settled.quantity,
                    total: total(settled.unit_price, settled.quantity),
                    items: items.clone(),
                },
                Settlement::Released { reason } => {
                    return Err(ProductRejection::ReservationReleased { reason: *reason })
                }
            };
            return Ok(self.transition(committed, Vec::new()));
        }
        let reservation = self.reservations.get(&order).ok_or(ProductRejection::ReservationNotFound)?;
        if reservation.expires_at <= now {
            return Err(ProductRejection::ReservationExpired);
        }
        let reservation = self.reservations.remove(&order).expect("checked above");
        self.expiries.remove(&(reservation.expires_at, order.clone()));
        self.reserved_units -= i64::from(reservation.quantity);
        self.sold += i64::from(reservation.quantity);
        let from = if reservation.stored {
            StockState::Reserved
        } else {
            self.unstored_units -= i64::from(reservation.quantity);
            StockState::Available
        };
        let mut events = Vec::new();
        let sale = Move {
            from,
            to: StockState::Sold,
            why: "commit",
            status: ReservationStatus::Committed,
            release_reason: "",
        };
        self.push_stock_events(&order, &reservation, sale, actor, now, &mut events);
        events.push(Event::Product(self.row(now)));
        let items: Vec<ItemSecret> = reservation.items.into_iter().map(|item| item.secret).collect();
        let committed = Committed {
            order: order.clone(),
            quantity: reservation.quantity,
            total: total(reservation.unit_price, reservation.quantity),
            items: items.clone(),
        };
        self.settled.insert(
            order,
            Settled {
                quantity: reservation.quantity,
                unit_price: reservation.unit_price,
                expires_at: reservation.expires_at,
                settlement: Settlement::Committed { items },
            },
        );
        Ok(self.transition(committed, events))
    }

    pub fn release(&mut self, command: Release, now: UnixMs) -> Result<Transition<Released>, ProductRejection> {
        let Release { order, reason, actor } = command;
        if let Some(settled) = self.settled.get(&order) {
            let released = match settled.settlement {
                Settlement::Released { .. } => Released { order, quantity: settled.quantity },
                Settlement::Committed { .. } => return Err(ProductRejection::AlreadyCommitted),
            };
            return Ok(self.transition(released, Vec::new()));
        }
        let reservation = self.reservations.remove(&order).ok_or(ProductRejection::ReservationNotFound)?;
        let mut events = Vec::new();
        if self.put_back(&order, reservation, reason, &actor, now, &mut events) {
            events.push(Event::Product(self.row(now)));
        }
        let quantity = self.settled.get(&order).map(|s| s.quantity).unwrap_or_default();
        Ok(self.transition(Released { order, quantity }, events))
    }

    /// Releases every reservation whose time has come (`ExpireDue`); nothing to refuse.
    pub fn expire_due(&mut self, now: UnixMs) -> Transition<Expired> {
        let due: Vec<OrderId> =
            self.expiries.iter().take_while(|(at, _)| *at <= now).map(|(_, order)| order.clone()).collect();
        let mut events = Vec::new();
        let mut stored = false;
        let system = ActorName::from("system");
        for order in &due {
            let reservation = self.reservations.remove(order).expect("listed above");
            stored |= self.put_back(order, reservation, ReleaseReason::Expired, &system, now, &mut events);
        }
        if stored {
            events.push(Event::Product(self.row(now)));
        }
        self.transition(Expired { orders: due }, events)
    }

    /// Returns a removed reservation's units to the front of the queue, so they sell next.
    /// Says whether the store knew of the reservation (and so has a change to store).
    fn put_back(
        &mut self,
        order: &OrderId,
        reservation: Reservation,
        reason: ReleaseReason,
        actor: &ActorName,
        now: UnixMs,
        events: &mut Vec<Event>,
    ) -> bool {
        self.reserved_units -= i64::from(reservation.quantity);
        self.expiries.remove(&(reservation.expires_at, order.clone()));
        let stored = reservation.stored;
        if stored {
            let release = Move {
                from: StockState::Reserved,
                to: StockState::Available,
                why: reason.as_str(),
                status: ReservationStatus::Released,
                release_reason: reason.as_str(),
            };
            self.push_stock_events(order, &reservation, release, actor.clone(), now, events);
        } else {
            self.unstored_units -= i64::from(reservation.quantity);
        }
        match self.kind {
            StockKind::Items => {
                for item in reservation.items.into_iter().rev() {
                    self.queue.push_front(item);
                }
            }
            StockKind::Counted => self.available_count += i64::from(reservation.quantity),
        }
        self.settled.insert(
            order.clone(),
            Settled {
                quantity: reservation.quantity,
                unit_price: reservation.unit_price,
                expires_at: reservation.expires_at,
                settlement: Settlement::Released { reason },
            },
        );
        stored
    }

    fn push_stock_events(
        &self,
        order: &OrderId,
        reservation: &Reservation,
        movement: Move<'_>,
        actor: ActorName,
        now: UnixMs,
        events: &mut Vec<Event>,
    ) {
        let Move { from, to, why, status, release_reason } = movement;
        let item_nos: Vec<ItemNo> = reservation.items.iter().map(|item| item.no).collect();
        if !item_nos.is_empty() {
            let owner = if to == StockState::Available { None } else { Some(order.clone()) };
            events.push(Event::ItemsMoved {
                product: self.code.clone(),
                items: item_nos.clone(),
                to,
                order: owner,
                at: now,
            });
        }
        events.push(Event::Reservation(ReservationRow {
            order: order.clone(),
            product: self.code.clone(),
            quantity: reservation.quantity,
            unit_price: reservation.unit_price,
            items: item_nos,
            expires_at: reservation.expires_at,
            status,
            release_reason: release_reason.to_string(),
            updated_at: now,
            creates: status == ReservationStatus::Reserved || from == StockState::Available,
        }));
        events.push(Event::Movement(MovementRow {
            product: self.code.clone(),
            quantity: i64::from(reservation.quantity),
            from,
            to,
            reason: why.into(),
            reference: order.shared(),
            actor,
            at: now,
            content_hash: None,
        }));
    }
}

fn reserved_reply(
    order: OrderId,
    quantity: Quantity,
    unit_price: crate::domain::Money,
    expires_at: UnixMs,
) -> Reserved {
    Reserved { order, quantity, unit_price, total: total(unit_price, quantity), expires_at }
}

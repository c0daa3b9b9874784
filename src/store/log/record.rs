//! One journal batch as one log record: a format version, the number of entries, then each entry
//! as a tag and its fields in order. Enumerations travel as their stored names (`"reserved"`,
//! `"top_up"`), so a record means the same to a later build that reorders a Rust enum. Decoding
//! re-parses every id and amount through the domain's own constructors: a record that decodes is
//! made of values the engine could have made.

use rust_decimal::Decimal;
use warung_actors::domain::{CustomerId, ItemSecret, Money, OrderId, ProductCode, Reference, StockState};
use warung_actors::journal::{
    Entry, Event, LedgerKind, LedgerRow, MovementRow, ProductRow, ReservationRow, ReservationStatus, StockKind,
    WalletRow,
};

use super::wire::{Reader, WireError, Writer};
use crate::records::{
    AuditRow, ChargePurpose, OrderRow, OrderState, PaymentApplied, PaymentMethod, PaymentRow, ShopRecord,
};

/// The format this build writes. A reader refuses any other rather than guess at it.
pub const LOG_RECORD_VERSION: u8 = 1;

mod tag {
    pub const PRODUCT: u8 = 1;
    pub const ITEMS_ADDED: u8 = 2;
    pub const ITEMS_MOVED: u8 = 3;
    pub const RESERVATION: u8 = 4;
    pub const MOVEMENT: u8 = 5;
    pub const WALLET: u8 = 6;
    pub const LEDGER: u8 = 7;
    pub const ITEMS_MOVED_OUT: u8 = 8;
    pub const ORDER: u8 = 16;
    pub const PAYMENT: u8 = 17;
    pub const AUDIT: u8 = 18;
}

/// Room reserved for a record, per entry: a sale's entries average about 80 bytes, so a batch's
/// record (tens of KB in a flash sale) is written without growing its buffer again and again.
pub const RECORD_BYTES_PER_ENTRY_GUESS: usize = 128;

pub fn encode(entries: &[Entry<ShopRecord>]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(room_for(entries));
    encode_into(entries, &mut bytes);
    bytes
}

/// The room to reserve for `entries`' record (`RECORD_BYTES_PER_ENTRY_GUESS`).
pub fn room_for(entries: &[Entry<ShopRecord>]) -> usize {
    entries.len().saturating_mul(RECORD_BYTES_PER_ENTRY_GUESS)
}

/// Appends `entries`' record to `bytes`.
pub fn encode_into(entries: &[Entry<ShopRecord>], bytes: &mut Vec<u8>) {
    let mut w = Writer { bytes: std::mem::take(bytes) };
    w.u8(LOG_RECORD_VERSION);
    w.u64(entries.len() as u64);
    for entry in entries {
        match entry {
            Entry::Event(event) => put_event(&mut w, event),
            Entry::Attached(record) => put_record(&mut w, record),
        }
    }
    *bytes = w.bytes;
}

pub fn decode(bytes: &[u8]) -> Result<Vec<Entry<ShopRecord>>, WireError> {
    let mut r = Reader::new(bytes);
    let version = r.u8()?;
    if version != LOG_RECORD_VERSION {
        return Err(WireError::UnknownVersion(version));
    }
    // Every entry takes at least a byte, so the count is bounded by what is left.
    let count = r.length()?;
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        entries.push(get_entry(&mut r)?);
    }
    match r.remaining() {
        0 => Ok(entries),
        n => Err(WireError::TrailingBytes(n)),
    }
}

fn put_event(w: &mut Writer, event: &Event) {
    match event {
        Event::Product(p) => {
            w.u8(tag::PRODUCT);
            w.str(p.code.as_str());
            w.str(&p.name);
            w.decimal(p.price.amount());
            w.option(p.reseller_price, |w, m| w.decimal(m.amount()));
            w.str(p.kind.as_str());
            w.bool(p.active);
            for count in [p.received, p.available, p.reserved, p.sold, p.removed, p.next_item_no, p.updated_at] {
                w.i64(count);
            }
        }
        Event::ItemsAdded { product, items, at } => {
            w.u8(tag::ITEMS_ADDED);
            w.str(product.as_str());
            w.u64(items.len() as u64);
            for (no, secret) in items {
                w.i64(*no);
                w.str(secret.expose());
            }
            w.i64(*at);
        }
        Event::ItemsMoved { product, items, to, order, at } => {
            w.u8(tag::ITEMS_MOVED);
            w.str(product.as_str());
            w.u64(items.len() as u64);
            items.iter().for_each(|no| w.i64(*no));
            w.str(to.as_str());
            w.option(order.as_ref(), |w, o| w.str(o.as_str()));
            w.i64(*at);
        }
        Event::ItemsMovedOut { product, items, by, at } => {
            w.u8(tag::ITEMS_MOVED_OUT);
            w.str(product.as_str());
            w.u64(items.len() as u64);
            items.iter().for_each(|no| w.i64(*no));
            w.str(by.as_str());
            w.i64(*at);
        }
        Event::Reservation(r) => {
            w.u8(tag::RESERVATION);
            w.str(r.order.as_str());
            w.str(r.product.as_str());
            w.u64(u64::from(r.quantity));
            w.decimal(r.unit_price.amount());
            w.u64(r.items.len() as u64);
            r.items.iter().for_each(|no| w.i64(*no));
            w.i64(r.expires_at);
            w.str(r.status.as_str());
            w.str(&r.release_reason);
            w.i64(r.updated_at);
            w.bool(r.creates);
        }
        Event::Movement(m) => {
            w.u8(tag::MOVEMENT);
            w.str(m.product.as_str());
            w.i64(m.quantity);
            w.str(m.from.as_str());
            w.str(m.to.as_str());
            w.str(&m.reason);
            w.str(&m.reference);
            w.str(&m.actor);
            w.i64(m.at);
            w.option(m.content_hash, |w, h| w.u64(h));
        }
        Event::Wallet(wallet) => {
            w.u8(tag::WALLET);
            w.str(wallet.customer.as_str());
            w.decimal(wallet.balance.amount());
            w.i64(wallet.updated_at);
        }
        Event::Ledger(l) => {
            w.u8(tag::LEDGER);
            w.str(l.customer.as_str());
            w.str(l.reference.as_str());
            w.str(l.kind.as_str());
            w.decimal(l.amount);
            w.decimal(l.balance_after.amount());
            w.str(&l.reason);
            w.str(&l.actor);
            w.i64(l.at);
        }
    }
}

fn put_record(w: &mut Writer, record: &ShopRecord) {
    match record {
        ShopRecord::Order(o) => {
            w.u8(tag::ORDER);
            w.str(o.id.as_str());
            w.str(o.customer.as_str());
            w.str(o.product.as_str());
            w.u64(u64::from(o.quantity));
            w.decimal(o.unit_price.amount());
            w.decimal(o.total.amount());
            w.str(o.method.as_str());
            w.str(o.state.as_str());
            w.i64(o.expires_at);
            w.str(&o.note);
            w.i64(o.created_at);
            w.i64(o.updated_at);
            w.bool(o.creates);
            w.option(o.moved_from, |w, s| w.str(s.as_str()));
        }
        ShopRecord::Payment(p) => {
            w.u8(tag::PAYMENT);
            w.str(p.id.as_str());
            w.str(p.customer.as_str());
            w.option(p.order.as_ref(), |w, o| w.str(o.as_str()));
            w.str(p.purpose.as_str());
            w.decimal(p.amount.amount());
            w.str(p.applied.as_str());
            w.decimal(p.surplus.amount());
            w.i64(p.at);
        }
        ShopRecord::Audit(a) => {
            w.u8(tag::AUDIT);
            for text in [&a.admin, &a.action, &a.subject, &a.before, &a.after, &a.reason] {
                w.str(text);
            }
            w.i64(a.at);
        }
    }
}

fn get_entry(r: &mut Reader<'_>) -> Result<Entry<ShopRecord>, WireError> {
    let entry = match r.u8()? {
        tag::PRODUCT => Entry::Event(Event::Product(ProductRow {
            code: product(r)?,
            name: r.string()?,
            price: money(r)?,
            reseller_price: r.option(money)?,
            kind: r.parsed("stock kind", |s| StockKind::parse(s).ok_or(()))?,
            active: r.bool()?,
            received: r.i64()?,
            available: r.i64()?,
            reserved: r.i64()?,
            sold: r.i64()?,
            removed: r.i64()?,
            next_item_no: r.i64()?,
            updated_at: r.i64()?,
        })),
        tag::ITEMS_ADDED => {
            let product = product(r)?;
            let count = r.length()?;
            let mut items = Vec::with_capacity(count);
            for _ in 0..count {
                items.push((r.i64()?, r.parsed("item", ItemSecret::parse)?));
            }
            Entry::Event(Event::ItemsAdded { product, items, at: r.i64()? })
        }
        tag::ITEMS_MOVED => Entry::Event(Event::ItemsMoved {
            product: product(r)?,
            items: item_numbers(r)?,
            to: stock_state(r)?,
            order: r.option(order_id)?,
            at: r.i64()?,
        }),
        tag::ITEMS_MOVED_OUT => Entry::Event(Event::ItemsMovedOut {
            product: product(r)?,
            items: item_numbers(r)?,
            by: r.parsed("move reference", Reference::parse)?,
            at: r.i64()?,
        }),
        tag::RESERVATION => Entry::Event(Event::Reservation(ReservationRow {
            order: order_id(r)?,
            product: product(r)?,
            quantity: quantity(r)?,
            unit_price: money(r)?,
            items: item_numbers(r)?,
            expires_at: r.i64()?,
            status: r.parsed("reservation status", |s| ReservationStatus::parse(s).ok_or(()))?,
            release_reason: r.string()?,
            updated_at: r.i64()?,
            creates: r.bool()?,
        })),
        tag::MOVEMENT => Entry::Event(Event::Movement(MovementRow {
            product: product(r)?,
            quantity: r.i64()?,
            from: stock_state(r)?,
            to: stock_state(r)?,
            reason: r.string()?.into(),
            reference: r.string()?.into(),
            actor: r.string()?.into(),
            at: r.i64()?,
            content_hash: r.option(|r| r.u64())?,
        })),
        tag::WALLET => {
            Entry::Event(Event::Wallet(WalletRow { customer: customer(r)?, balance: money(r)?, updated_at: r.i64()? }))
        }
        tag::LEDGER => Entry::Event(Event::Ledger(LedgerRow {
            customer: customer(r)?,
            reference: r.parsed("reference", Reference::parse)?,
            kind: r.parsed("ledger kind", |s| LedgerKind::parse(s).ok_or(()))?,
            amount: r.decimal()?,
            balance_after: money(r)?,
            reason: r.string()?,
            actor: r.string()?.into(),
            at: r.i64()?,
        })),
        tag::ORDER => Entry::Attached(ShopRecord::Order(OrderRow {
            id: order_id(r)?,
            customer: customer(r)?,
            product: product(r)?,
            quantity: quantity(r)?,
            unit_price: money(r)?,
            total: money(r)?,
            method: r.parsed("payment method", |s| PaymentMethod::parse(s).ok_or(()))?,
            state: order_state(r)?,
            expires_at: r.i64()?,
            note: r.string()?,
            created_at: r.i64()?,
            updated_at: r.i64()?,
            creates: r.bool()?,
            moved_from: r.option(order_state)?,
        })),
        tag::PAYMENT => Entry::Attached(ShopRecord::Payment(PaymentRow {
            id: r.parsed("payment id", Reference::parse)?,
            customer: customer(r)?,
            order: r.option(order_id)?,
            purpose: r.parsed("charge purpose", |s| ChargePurpose::parse(s).ok_or(()))?,
            amount: money(r)?,
            applied: r.parsed("payment applied", |s| PaymentApplied::parse(s).ok_or(()))?,
            surplus: money(r)?,
            at: r.i64()?,
        })),
        tag::AUDIT => Entry::Attached(ShopRecord::Audit(AuditRow {
            admin: r.string()?,
            action: r.string()?,
            subject: r.string()?,
            before: r.string()?,
            after: r.string()?,
            reason: r.string()?,
            at: r.i64()?,
        })),
        tag => return Err(WireError::UnknownTag { what: "journal entry", tag }),
    };
    Ok(entry)
}

fn product(r: &mut Reader<'_>) -> Result<ProductCode, WireError> {
    r.parsed("product code", ProductCode::parse_stored)
}

fn customer(r: &mut Reader<'_>) -> Result<CustomerId, WireError> {
    r.parsed("customer id", CustomerId::parse)
}

fn order_id(r: &mut Reader<'_>) -> Result<OrderId, WireError> {
    r.parsed("order id", OrderId::parse)
}

fn stock_state(r: &mut Reader<'_>) -> Result<StockState, WireError> {
    r.parsed("stock state", |s| StockState::parse(s).ok_or(()))
}

fn order_state(r: &mut Reader<'_>) -> Result<OrderState, WireError> {
    r.parsed("order state", |s| OrderState::parse(s).ok_or(()))
}

fn money(r: &mut Reader<'_>) -> Result<Money, WireError> {
    let amount: Decimal = r.decimal()?;
    Money::new(amount).map_err(|_| WireError::Invalid { what: "amount", value: amount.to_string() })
}

fn quantity(r: &mut Reader<'_>) -> Result<u32, WireError> {
    let n = r.u64()?;
    u32::try_from(n).map_err(|_| WireError::Invalid { what: "quantity", value: n.to_string() })
}

fn item_numbers(r: &mut Reader<'_>) -> Result<Vec<i64>, WireError> {
    let count = r.length()?;
    (0..count).map(|_| r.i64()).collect()
}

#[cfg(test)]
mod tests;

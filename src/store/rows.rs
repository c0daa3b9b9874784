//! Decoding stored text into domain types. Stored data that does not parse is corruption.

use std::str::FromStr;

use rust_decimal::Decimal;
use warung_actors::domain::{CustomerId, Money, OrderId, ProductCode, Reference};
use warung_actors::journal::{LedgerKind, LedgerRow, ProductRow, StockKind};

use super::{ChargePurpose, StoreError};
use crate::records::{OrderRow, OrderState, PaymentApplied, PaymentMethod, PaymentRow};

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

pub fn money(text: &str) -> Result<Money, StoreError> {
    Money::from_str(text).map_err(|_| corrupt("money", text))
}

/// Normalised (`-15000.00` reads as `-15000`), as `Money` is: both backends read alike.
pub fn decimal(text: &str) -> Result<Decimal, StoreError> {
    Decimal::from_str(text.trim()).map(|d| d.normalize()).map_err(|_| corrupt("decimal", text))
}

/// An owner's product or one of its shares.
pub fn product_code(text: &str) -> Result<ProductCode, StoreError> {
    ProductCode::parse_stored(text).map_err(|_| corrupt("product code", text))
}

pub fn customer(text: &str) -> Result<CustomerId, StoreError> {
    CustomerId::parse(text).map_err(|_| corrupt("customer id", text))
}

pub fn order_id(text: &str) -> Result<OrderId, StoreError> {
    OrderId::parse(text).map_err(|_| corrupt("order id", text))
}

pub fn stock_state(text: &str) -> Result<warung_actors::domain::StockState, StoreError> {
    warung_actors::domain::StockState::parse(text).ok_or_else(|| corrupt("stock state", text))
}

/// A content fingerprint as stored: 16 hex digits (a u64 does not fit a signed BIGINT).
pub fn fingerprint_text(hash: u64) -> String {
    format!("{hash:016x}")
}

pub fn fingerprint(text: &str) -> Result<u64, StoreError> {
    u64::from_str_radix(text, 16).map_err(|_| corrupt("content fingerprint", text))
}

pub fn reference(text: &str) -> Result<Reference, StoreError> {
    Reference::parse(text).map_err(|_| corrupt("reference", text))
}

/// code, name, price, kind, active, received, available, reserved, sold, removed, next_item_no, updated_at,
/// reseller_price
pub type ProductTuple = (String, String, String, String, i64, i64, i64, i64, i64, i64, i64, i64, Option<String>);
pub(crate) const PRODUCT_COLUMNS: &str =
    "code, name, CAST(price AS TEXT), kind, active, received, available, reserved, sold, removed, next_item_no, updated_at, \
         CAST(reseller_price AS TEXT)";

pub fn product(t: ProductTuple) -> Result<ProductRow, StoreError> {
    Ok(ProductRow {
        code: product_code(&t.0)?,
        name: t.1,
        price: money(&t.2)?,
        reseller_price: t.12.as_deref().map(money).transpose()?,
        kind: StockKind::parse(&t.3).ok_or_else(|| corrupt("stock kind", &t.3))?,
        active: t.4 != 0,
        received: t.5,
        available: t.6,
        reserved: t.7,
        sold: t.8,
        removed: t.9,
        next_item_no: t.10,
        updated_at: t.11,
    })
}

/// id, customer, product, quantity, unit_price, total, method, state, expires_at, note, created_at, updated_at
pub type OrderTuple = (String, String, String, i64, String, String, String, String, i64, String, i64, i64);
pub(crate) const ORDER_COLUMNS: &str =
    "id, customer, product, quantity, CAST(unit_price AS TEXT), CAST(total AS TEXT), method, state, expires_at, note, created_at, updated_at";

pub fn order(t: OrderTuple) -> Result<OrderRow, StoreError> {
    Ok(OrderRow {
        id: order_id(&t.0)?,
        customer: customer(&t.1)?,
        product: product_code(&t.2)?,
        quantity: u32::try_from(t.3).map_err(|_| corrupt("quantity", &t.3.to_string()))?,
        unit_price: money(&t.4)?,
        total: money(&t.5)?,
        method: PaymentMethod::parse(&t.6).ok_or_else(|| corrupt("payment method", &t.6))?,
        state: OrderState::parse(&t.7).ok_or_else(|| corrupt("order state", &t.7))?,
        expires_at: t.8,
        note: t.9,
        created_at: t.10,
        updated_at: t.11,
        creates: false,
        moved_from: None,
    })
}

/// customer, reference, kind, amount, balance_after, reason, actor, at
pub type LedgerTuple = (String, String, String, String, String, String, String, i64);
pub(crate) const LEDGER_COLUMNS: &str =
    "customer, reference, kind, CAST(amount AS TEXT), CAST(balance_after AS TEXT), reason, actor, at";

pub fn ledger(t: LedgerTuple) -> Result<LedgerRow, StoreError> {
    Ok(LedgerRow {
        customer: customer(&t.0)?,
        reference: reference(&t.1)?,
        kind: LedgerKind::parse(&t.2).ok_or_else(|| corrupt("ledger kind", &t.2))?,
        amount: decimal(&t.3)?,
        balance_after: money(&t.4)?,
        reason: t.5,
        actor: t.6.into(),
        at: t.7,
    })
}

/// id, customer, order_id, purpose, amount, status, surplus, at
pub type PaymentTuple = (String, String, Option<String>, String, String, String, String, i64);
pub(crate) const PAYMENT_COLUMNS: &str =
    "id, customer, order_id, purpose, CAST(amount AS TEXT), status, CAST(surplus AS TEXT), at";

pub fn payment(t: PaymentTuple) -> Result<PaymentRow, StoreError> {
    Ok(PaymentRow {
        id: reference(&t.0)?,
        customer: customer(&t.1)?,
        order: t.2.as_deref().map(order_id).transpose()?,
        purpose: ChargePurpose::parse(&t.3).ok_or_else(|| corrupt("payment purpose", &t.3))?,
        amount: money(&t.4)?,
        applied: PaymentApplied::parse(&t.5).ok_or_else(|| corrupt("payment status", &t.5))?,
        surplus: money(&t.6)?,
        at: t.7,
    })
}

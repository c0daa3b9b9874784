//! What the journal persists: rows written by one transition, in the order they were made.
//!
//! Upsert rows carry the whole current value (an actor's state is the truth while it is active,
//! and the journal commits in order, so the last row of a key in a batch wins). Append rows
//! (ledger entries, inventory movements) are never updated: they are the audit trail.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{
    CustomerId, ItemNo, ItemSecret, Money, OrderId, ProductCode, Quantity, Reference, StockState, UnixMs,
};

#[derive(Clone, Debug)]
pub enum Event {
    Product(ProductRow),
    ItemsAdded {
        product: ProductCode,
        items: Vec<(ItemNo, ItemSecret)>,
        at: UnixMs,
    },
    ItemsMoved {
        product: ProductCode,
        items: Vec<ItemNo>,
        to: StockState,
        order: Option<OrderId>,
        at: UnixMs,
    },
    Reservation(ReservationRow),
    Movement(MovementRow),
    Wallet(WalletRow),
    Ledger(LedgerRow),
    Order(OrderRow),
    Payment(PaymentRow),
    /// An admin's change that is neither stock nor money (a price, a name, on sale or not),
    /// stored with the change itself.
    Audit(AuditRow),
}

/// One admin change, append-only: who, what, on what, from and to, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRow {
    pub admin: String,
    pub action: String,
    pub subject: String,
    pub before: String,
    pub after: String,
    pub reason: String,
    pub at: UnixMs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockKind {
    /// Each unit is a deliverable item (a login, a voucher code).
    Items,
    /// Plain counted units with nothing to deliver but the count.
    Counted,
}

impl StockKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StockKind::Items => "items",
            StockKind::Counted => "counted",
        }
    }

    pub fn parse(value: &str) -> Option<StockKind> {
        match value {
            "items" => Some(StockKind::Items),
            "counted" => Some(StockKind::Counted),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProductRow {
    pub code: ProductCode,
    pub name: String,
    pub price: Money,
    pub reseller_price: Option<Money>,
    pub kind: StockKind,
    pub active: bool,
    /// Units ever received; `received = available + reserved + sold + removed`.
    pub received: i64,
    pub available: i64,
    pub reserved: i64,
    pub sold: i64,
    pub removed: i64,
    pub next_item_no: ItemNo,
    pub updated_at: UnixMs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    Reserved,
    Committed,
    Released,
}

impl ReservationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Reserved => "reserved",
            ReservationStatus::Committed => "committed",
            ReservationStatus::Released => "released",
        }
    }

    pub fn parse(value: &str) -> Option<ReservationStatus> {
        match value {
            "reserved" => Some(ReservationStatus::Reserved),
            "committed" => Some(ReservationStatus::Committed),
            "released" => Some(ReservationStatus::Released),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReservationRow {
    pub order: OrderId,
    pub product: ProductCode,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub items: Vec<ItemNo>,
    pub expires_at: UnixMs,
    pub status: ReservationStatus,
    /// Why it was released (cancelled, expired, failed), empty otherwise.
    pub release_reason: String,
    pub updated_at: UnixMs,
    /// This write creates the row (the reservation reaches the store for the first time); later
    /// writes update it. Lets the store insert without first looking for a conflict.
    pub creates: bool,
}

/// One change of stock: who, when, from, to, why.
#[derive(Clone, Debug, PartialEq)]
pub struct MovementRow {
    pub product: ProductCode,
    pub quantity: i64,
    pub from: StockState,
    pub to: StockState,
    pub reason: String,
    pub reference: String,
    pub actor: String,
    pub at: UnixMs,
    /// A restock's content fingerprint (`Restock::fingerprint`), so a reference reused with other
    /// content is refused however long ago it was used; `None` for every other movement.
    pub content_hash: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WalletRow {
    pub customer: CustomerId,
    pub balance: Money,
    pub updated_at: UnixMs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    TopUp,
    Purchase,
    Refund,
    Adjustment,
}

impl LedgerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerKind::TopUp => "top_up",
            LedgerKind::Purchase => "purchase",
            LedgerKind::Refund => "refund",
            LedgerKind::Adjustment => "adjustment",
        }
    }

    pub fn parse(value: &str) -> Option<LedgerKind> {
        Some(match value {
            "top_up" => LedgerKind::TopUp,
            "purchase" => LedgerKind::Purchase,
            "refund" => LedgerKind::Refund,
            "adjustment" => LedgerKind::Adjustment,
            _ => return None,
        })
    }
}

/// One change of a balance. `amount` is signed: credits positive, debits negative.
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerRow {
    pub customer: CustomerId,
    pub reference: Reference,
    pub kind: LedgerKind,
    pub amount: Decimal,
    pub balance_after: Money,
    pub reason: String,
    pub actor: String,
    pub at: UnixMs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// A saldo purchase between its steps.
    Pending,
    /// Stock reserved, waiting for an external payment.
    AwaitingPayment,
    Paid,
    /// A saldo purchase that did not complete (insufficient balance, a failed step); nothing taken.
    Failed,
    Cancelled,
    Expired,
    /// Paid after its reservation had gone: the money went to the wallet; a person should look.
    Review,
    Refunded,
}

impl OrderState {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Pending => "pending",
            OrderState::AwaitingPayment => "awaiting_payment",
            OrderState::Paid => "paid",
            OrderState::Failed => "failed",
            OrderState::Cancelled => "cancelled",
            OrderState::Expired => "expired",
            OrderState::Review => "review",
            OrderState::Refunded => "refunded",
        }
    }

    pub fn parse(value: &str) -> Option<OrderState> {
        Some(match value {
            "pending" => OrderState::Pending,
            "awaiting_payment" => OrderState::AwaitingPayment,
            "paid" => OrderState::Paid,
            "failed" => OrderState::Failed,
            "cancelled" => OrderState::Cancelled,
            "expired" => OrderState::Expired,
            "review" => OrderState::Review,
            "refunded" => OrderState::Refunded,
            _ => return None,
        })
    }

    /// An order in an open state still holds stock or awaits a step.
    pub fn is_open(self) -> bool {
        matches!(self, OrderState::Pending | OrderState::AwaitingPayment)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Saldo,
    External,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Saldo => "saldo",
            PaymentMethod::External => "external",
        }
    }

    pub fn parse(value: &str) -> Option<PaymentMethod> {
        match value {
            "saldo" => Some(PaymentMethod::Saldo),
            "external" => Some(PaymentMethod::External),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrderRow {
    pub id: OrderId,
    pub customer: CustomerId,
    pub product: ProductCode,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub total: Money,
    pub method: PaymentMethod,
    pub state: OrderState,
    pub expires_at: UnixMs,
    pub note: String,
    pub created_at: UnixMs,
    pub updated_at: UnixMs,
    /// This write creates the row (the order's first); later writes update it. Lets the store
    /// insert without first looking for a conflict.
    pub creates: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentPurpose {
    Order,
    TopUp,
}

impl PaymentPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentPurpose::Order => "order",
            PaymentPurpose::TopUp => "top_up",
        }
    }

    pub fn parse(value: &str) -> Option<PaymentPurpose> {
        match value {
            "order" => Some(PaymentPurpose::Order),
            "top_up" => Some(PaymentPurpose::TopUp),
            _ => None,
        }
    }
}

/// What a payment did, once and for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentApplied {
    /// It bought its order: the order's stock was committed to it. What it paid beyond the
    /// order's total (a QRIS unique code) is credited to the wallet under `surplus:<id>`.
    Delivered,
    /// It went to the customer's wallet whole: a top-up (`topup:<id>`), or a payment its order
    /// could not take (`payment:<id>`: late, short, or the order already paid).
    Credited,
}

impl PaymentApplied {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentApplied::Delivered => "delivered",
            PaymentApplied::Credited => "credited",
        }
    }

    pub fn parse(value: &str) -> Option<PaymentApplied> {
        match value {
            "delivered" => Some(PaymentApplied::Delivered),
            "credited" => Some(PaymentApplied::Credited),
            _ => None,
        }
    }
}

/// A confirmed payment (a QRIS settlement, a transfer an admin records, a top-up), stored once
/// under its id, in the same transaction as what it did. The id is bound to one customer, one
/// purpose and one amount: the store refuses a second row with the same id.
#[derive(Clone, Debug, PartialEq)]
pub struct PaymentRow {
    pub id: Reference,
    pub customer: CustomerId,
    /// The order it pays for; `None` for a top-up.
    pub order: Option<OrderId>,
    pub purpose: PaymentPurpose,
    pub amount: Money,
    pub applied: PaymentApplied,
    /// A delivered payment's amount beyond its order's total (a QRIS unique code), owed to the
    /// wallet under `surplus:<id>`; zero for a credited one, whose whole amount is credited.
    pub surplus: Money,
    pub at: UnixMs,
}

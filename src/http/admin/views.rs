//! What the admin API answers with about records that several areas show: a wallet's balance, a
//! ledger entry, a stock movement, a price request, a product. Each is built from its domain
//! type by an exhaustive destructuring or match, so a new field or variant breaks the build here
//! rather than going unseen by the document.

use serde::Serialize;
use utoipa::ToSchema;
use warung_actors::journal::{LedgerKind, LedgerRow, MovementRow, StockKind};
use warung_actors::product::{PriceTier, ProductSnapshot};
use warung_actors::wallet::WalletBalance;

use super::schema;
use crate::store::admin::{PriceRequest, PriceRequestStatus};

/// A wallet's balance.
#[derive(Serialize, ToSchema)]
#[schema(as = WalletBalance)]
pub struct Balance {
    #[schema(value_type = schema::Money)]
    pub balance: warung_actors::domain::Money,
    /// What a purchase may take: the whole balance.
    #[schema(value_type = schema::Money)]
    pub available: warung_actors::domain::Money,
}

impl From<WalletBalance> for Balance {
    fn from(WalletBalance { balance, available }: WalletBalance) -> Balance {
        Balance { balance, available }
    }
}

/// Who pays which price.
#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Member,
    Reseller,
}

impl From<PriceTier> for Tier {
    fn from(tier: PriceTier) -> Tier {
        match tier {
            PriceTier::Member => Tier::Member,
            PriceTier::Reseller => Tier::Reseller,
        }
    }
}

/// What a product's stock is made of.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Each unit is a deliverable item (a login, a voucher code).
    Items,
    /// Plain counted units.
    Counted,
}

/// Where a unit of stock is.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StockState {
    Supplier,
    Available,
    Reserved,
    Sold,
    Removed,
}

impl From<warung_actors::domain::StockState> for StockState {
    fn from(state: warung_actors::domain::StockState) -> StockState {
        use warung_actors::domain::StockState as S;
        match state {
            S::Supplier => StockState::Supplier,
            S::Available => StockState::Available,
            S::Reserved => StockState::Reserved,
            S::Sold => StockState::Sold,
            S::Removed => StockState::Removed,
        }
    }
}

/// One entry of a customer's ledger.
#[derive(Serialize, ToSchema)]
pub struct LedgerEntry {
    #[schema(value_type = schema::Reference)]
    pub reference: warung_actors::domain::Reference,
    pub kind: EntryKind,
    #[schema(value_type = schema::SignedAmount)]
    pub amount: rust_decimal::Decimal,
    #[schema(value_type = schema::Money)]
    pub balance_after: warung_actors::domain::Money,
    pub reason: String,
    pub actor: String,
    pub at_ms: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    TopUp,
    Purchase,
    Refund,
    Adjustment,
}

impl From<&LedgerRow> for LedgerEntry {
    fn from(row: &LedgerRow) -> LedgerEntry {
        let LedgerRow { customer: _, reference, kind, amount, balance_after, reason, actor, at } = row;
        let kind = match kind {
            LedgerKind::TopUp => EntryKind::TopUp,
            LedgerKind::Purchase => EntryKind::Purchase,
            LedgerKind::Refund => EntryKind::Refund,
            LedgerKind::Adjustment => EntryKind::Adjustment,
        };
        LedgerEntry {
            reference: reference.clone(),
            kind,
            amount: *amount,
            balance_after: *balance_after,
            reason: reason.clone(),
            actor: actor.to_string(),
            at_ms: *at,
        }
    }
}

/// One movement of stock from one state to another.
#[derive(Serialize, ToSchema)]
pub struct Movement {
    pub quantity: i64,
    pub from: StockState,
    pub to: StockState,
    pub reason: String,
    pub reference: String,
    pub actor: String,
    pub at_ms: i64,
}

impl From<&MovementRow> for Movement {
    fn from(row: &MovementRow) -> Movement {
        let MovementRow { product: _, quantity, from, to, reason, reference, actor, at, content_hash: _ } = row;
        Movement {
            quantity: *quantity,
            from: (*from).into(),
            to: (*to).into(),
            reason: reason.to_string(),
            reference: reference.to_string(),
            actor: actor.to_string(),
            at_ms: *at,
        }
    }
}

/// A price change beyond the guard rail, waiting for a confirming call (or closed).
#[derive(Serialize, ToSchema)]
pub struct PriceRequestView {
    pub id: String,
    #[schema(value_type = schema::ProductCode)]
    pub product: warung_actors::domain::ProductCode,
    pub tier: Tier,
    /// `null`: the reseller price was not set.
    #[schema(value_type = Option<schema::Money>)]
    pub from_price: Option<warung_actors::domain::Money>,
    #[schema(value_type = schema::Money)]
    pub to_price: warung_actors::domain::Money,
    pub reason: String,
    pub requested_by: String,
    /// Unix ms.
    pub requested_at: i64,
    /// Unix ms: a confirmation after this is refused.
    pub expires_at: i64,
    pub status: PriceRequestStatus,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<i64>,
}

impl From<PriceRequest> for PriceRequestView {
    fn from(request: PriceRequest) -> PriceRequestView {
        let PriceRequest {
            id,
            product,
            tier,
            from_price,
            to_price,
            reason,
            requested_by,
            requested_at,
            expires_at,
            status,
            confirmed_by,
            confirmed_at,
        } = request;
        let tier = tier.into();
        PriceRequestView {
            id,
            product,
            tier,
            from_price,
            to_price,
            reason,
            requested_by,
            requested_at,
            expires_at,
            status,
            confirmed_by,
            confirmed_at,
        }
    }
}

/// A product's counts and prices: no item contents.
#[derive(Serialize, ToSchema)]
pub struct Product {
    #[schema(value_type = schema::ProductCode)]
    pub code: warung_actors::domain::ProductCode,
    pub name: String,
    /// What a member pays.
    #[schema(value_type = schema::Money)]
    pub price: warung_actors::domain::Money,
    /// What a reseller pays; `null`: the member price.
    #[schema(value_type = Option<schema::Money>)]
    pub reseller_price: Option<warung_actors::domain::Money>,
    pub kind: Kind,
    pub active: bool,
    pub available: i64,
    pub reserved: i64,
    pub sold: i64,
    pub removed: i64,
    pub received: i64,
    pub open_reservations: usize,
    /// Unix ms of the next reservation to expire.
    pub next_expiry: Option<i64>,
}

impl From<ProductSnapshot> for Product {
    fn from(snapshot: ProductSnapshot) -> Product {
        let ProductSnapshot {
            code,
            name,
            price,
            reseller_price,
            kind,
            active,
            available,
            reserved,
            sold,
            removed,
            received,
            open_reservations,
            next_expiry,
        } = snapshot;
        let kind = match kind {
            StockKind::Items => Kind::Items,
            StockKind::Counted => Kind::Counted,
        };
        Product {
            code,
            name,
            price,
            reseller_price,
            kind,
            active,
            available,
            reserved,
            sold,
            removed,
            received,
            open_reservations,
            next_expiry,
        }
    }
}

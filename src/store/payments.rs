//! QRIS charges awaiting payment, written once for both backends. Each open charge has a gross
//! amount no other open charge has (a partial unique index enforces it), so two customers never
//! scan codes for the same amount. This file has the types and the decoding of rows; `queries`
//! the statements.

use async_trait::async_trait;
use warung_actors::domain::{CustomerId, Money, OrderId, Reference};

pub use crate::records::ChargePurpose;

use super::{rows, StoreError};

mod queries;

/// The highest unique code added to a charge's amount (Rp1 to Rp999): at most this many open
/// charges share one base amount; one more is refused until one of them closes.
pub const UNIQUE_CODE_MAX: i64 = 999;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChargeStatus {
    /// Written before Midtrans is asked: its amount is taken. A crash here leaves a charge
    /// Midtrans may or may not know; the expiry sweep asks it and closes it.
    Charging,
    /// The QR is live.
    Pending,
    Paid,
    Expired,
    Cancelled,
    /// Midtrans refused the charge or could not be reached.
    Failed,
    /// Paid an amount it did not ask for: nothing was credited; a person decides.
    Review,
}

impl ChargeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChargeStatus::Charging => "charging",
            ChargeStatus::Pending => "pending",
            ChargeStatus::Paid => "paid",
            ChargeStatus::Expired => "expired",
            ChargeStatus::Cancelled => "cancelled",
            ChargeStatus::Failed => "failed",
            ChargeStatus::Review => "review",
        }
    }

    fn parse(text: &str) -> Result<ChargeStatus, StoreError> {
        Ok(match text {
            "charging" => ChargeStatus::Charging,
            "pending" => ChargeStatus::Pending,
            "paid" => ChargeStatus::Paid,
            "expired" => ChargeStatus::Expired,
            "cancelled" => ChargeStatus::Cancelled,
            "failed" => ChargeStatus::Failed,
            "review" => ChargeStatus::Review,
            other => return Err(StoreError::Corrupt(format!("charge status {other:?}"))),
        })
    }

    pub fn is_open(self) -> bool {
        matches!(self, ChargeStatus::Charging | ChargeStatus::Pending)
    }
}

/// How a charge is paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChargeMethod {
    /// A QR through Midtrans: Midtrans says when it is paid.
    Qris,
    /// A bank transfer: the shop owner says when it arrived (`lunas`).
    Transfer,
}

impl ChargeMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ChargeMethod::Qris => "qris",
            ChargeMethod::Transfer => "transfer",
        }
    }

    fn parse(text: &str) -> Result<ChargeMethod, StoreError> {
        match text {
            "qris" => Ok(ChargeMethod::Qris),
            "transfer" => Ok(ChargeMethod::Transfer),
            other => Err(StoreError::Corrupt(format!("charge method {other:?}"))),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewCharge {
    /// The Midtrans `order_id`: the order's id, or the top up's payment id.
    pub id: Reference,
    pub customer: CustomerId,
    pub purpose: ChargePurpose,
    pub order: Option<OrderId>,
    pub method: ChargeMethod,
    /// Whole rupiah (Midtrans takes no decimals).
    pub base_rupiah: i64,
    pub expires_at: i64,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChargeRow {
    pub id: Reference,
    pub customer: CustomerId,
    pub purpose: ChargePurpose,
    pub order: Option<OrderId>,
    pub method: ChargeMethod,
    pub base: Money,
    pub unique_code: i64,
    /// What the customer pays: base plus unique code.
    pub gross: Money,
    pub status: ChargeStatus,
    pub qr_url: Option<String>,
    pub expires_at: i64,
}

/// What opening a charge came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Opened {
    /// A new charge, or the one already stored under this id (asked again).
    Charge(ChargeRow),
    /// The customer already has this top-up open: one at a time.
    TopUpAlreadyOpen(ChargeRow),
    /// Every unique code of this amount is taken by an open charge.
    AmountsTaken,
}

/// Attempts at picking a free code when a concurrent open takes the one picked.
pub(crate) const OPEN_CHARGE_ATTEMPTS_MAX: usize = 3;

#[async_trait]
pub trait Payments {
    /// Opens a charge with the first of `codes` whose amount no open charge has, picked and
    /// inserted in one statement. Idempotent: an id already stored returns the stored charge.
    async fn open_charge(&self, new: &NewCharge, codes: &[i64]) -> Result<Opened, StoreError>;
    async fn charge(&self, id: &str) -> Result<Option<ChargeRow>, StoreError>;
    /// Moves a charge from `from` to `to` (with the QR's URL, or a note for a person); `false`
    /// when it was no longer in `from` (another decider moved it first).
    async fn move_charge(&self, id: &str, from: ChargeStatus, to: ChargeMove<'_>, at: i64) -> Result<bool, StoreError>;
    /// Charges still charging or pending, soonest expiry first.
    async fn open_charges(&self, limit: i64) -> Result<Vec<ChargeRow>, StoreError>;
}

/// Where a charge moves, and what is written with it.
#[derive(Clone, Copy, Debug)]
pub struct ChargeMove<'a> {
    pub status: ChargeStatus,
    pub qr_url: Option<&'a str>,
    pub note: Option<&'a str>,
}

impl ChargeMove<'_> {
    pub fn to(status: ChargeStatus) -> ChargeMove<'static> {
        ChargeMove { status, qr_url: None, note: None }
    }
}

/// id, customer, purpose, order_id, base_amount, unique_code, gross_amount, status, qr_url, expires_at,
/// method
pub(crate) type ChargeTuple =
    (String, String, String, Option<String>, String, i64, String, String, Option<String>, i64, String);

pub(crate) const CHARGE_COLUMNS: &str = "id, customer, purpose, order_id, CAST(base_amount AS TEXT), unique_code, \
     CAST(gross_amount AS TEXT), status, qr_url, expires_at, method";

pub(crate) fn charge_row(t: ChargeTuple) -> Result<ChargeRow, StoreError> {
    let purpose = ChargePurpose::parse(&t.2).ok_or_else(|| StoreError::Corrupt(format!("charge purpose {:?}", t.2)))?;
    Ok(ChargeRow {
        id: rows::reference(&t.0)?,
        customer: rows::customer(&t.1)?,
        purpose,
        order: t.3.as_deref().map(rows::order_id).transpose()?,
        method: ChargeMethod::parse(&t.10)?,
        base: rows::money(&t.4)?,
        unique_code: t.5,
        gross: rows::money(&t.6)?,
        status: ChargeStatus::parse(&t.7)?,
        qr_url: t.8,
        expires_at: t.9,
    })
}

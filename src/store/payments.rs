//! QRIS charges awaiting payment, written once for both backends. Each open charge has a gross
//! amount no other open charge has (a partial unique index enforces it), so two customers never
//! scan codes for the same amount.

use async_trait::async_trait;
use warung_actors::domain::{CustomerId, Money, OrderId, Reference};

use super::{rows, StoreError};

/// The highest unique code added to a charge's amount (Rp1 to Rp999): at most this many open
/// charges share one base amount; one more is refused until one of them closes.
pub const UNIQUE_CODE_MAX: i64 = 999;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChargePurpose {
    Order,
    TopUp,
}

impl ChargePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            ChargePurpose::Order => "order",
            ChargePurpose::TopUp => "top_up",
        }
    }
}

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
            other => return Err(StoreError::Corrupt(format!("charge status {other:?}"))),
        })
    }

    pub fn is_open(self) -> bool {
        matches!(self, ChargeStatus::Charging | ChargeStatus::Pending)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewCharge {
    /// The Midtrans `order_id`: the order's id, or the top up's payment id.
    pub id: Reference,
    pub customer: CustomerId,
    pub purpose: ChargePurpose,
    pub order: Option<OrderId>,
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
    pub base: Money,
    pub unique_code: i64,
    /// What the customer pays: base plus unique code.
    pub gross: Money,
    pub status: ChargeStatus,
    pub qr_url: Option<String>,
    pub expires_at: i64,
}

#[async_trait]
pub trait Payments {
    /// Opens a charge with the first of `codes` whose amount no open charge has. Idempotent: an
    /// id already stored returns the stored charge. `None` when every code is taken.
    async fn open_charge(&self, new: &NewCharge, codes: &[i64]) -> Result<Option<ChargeRow>, StoreError>;
    async fn charge(&self, id: &str) -> Result<Option<ChargeRow>, StoreError>;
    /// Moves a charge to `to` if it is in one of `from`; `false` when it was not.
    async fn set_charge_status(
        &self,
        id: &str,
        from: &[ChargeStatus],
        to: ChargeStatus,
        qr_url: Option<&str>,
        at: i64,
    ) -> Result<bool, StoreError>;
    /// Charges still charging or pending, soonest expiry first.
    async fn open_charges(&self, limit: i64) -> Result<Vec<ChargeRow>, StoreError>;
}

/// id, customer, purpose, order_id, base_amount, unique_code, gross_amount, status, qr_url, expires_at
pub(crate) type ChargeTuple =
    (String, String, String, Option<String>, String, i64, String, String, Option<String>, i64);

pub(crate) const CHARGE_COLUMNS: &str = "id, customer, purpose, order_id, CAST(base_amount AS TEXT), unique_code, \
     CAST(gross_amount AS TEXT), status, qr_url, expires_at";

pub(crate) fn charge_row(t: ChargeTuple) -> Result<ChargeRow, StoreError> {
    let purpose = match t.2.as_str() {
        "order" => ChargePurpose::Order,
        "top_up" => ChargePurpose::TopUp,
        other => return Err(StoreError::Corrupt(format!("charge purpose {other:?}"))),
    };
    Ok(ChargeRow {
        id: rows::reference(&t.0)?,
        customer: rows::customer(&t.1)?,
        purpose,
        order: t.3.as_deref().map(rows::order_id).transpose()?,
        base: rows::money(&t.4)?,
        unique_code: t.5,
        gross: rows::money(&t.6)?,
        status: ChargeStatus::parse(&t.7)?,
        qr_url: t.8,
        expires_at: t.9,
    })
}

/// Implements `Payments` for a backend type with a `pool` field; `$money` binds Money.
macro_rules! impl_payments {
    ($store:ty, $money:path) => {
        #[async_trait::async_trait]
        impl crate::store::payments::Payments for $store {
            async fn open_charge(
                &self,
                new: &crate::store::payments::NewCharge,
                codes: &[i64],
            ) -> Result<Option<crate::store::payments::ChargeRow>, crate::store::StoreError> {
                use warung_actors::domain::Money;
                if let Some(row) = self.charge(new.id.as_str()).await? {
                    return Ok(Some(row));
                }
                let base = u64::try_from(new.base_rupiah).map_err(|_| {
                    crate::store::StoreError::Corrupt(format!("charge amount {}", new.base_rupiah))
                })?;
                for &code in codes {
                    let done = sqlx::query(
                        "INSERT INTO qris_charges (id, customer, purpose, order_id, base_amount, unique_code, gross_amount, \
                         status, qr_url, expires_at, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, 'charging', NULL, $8, $9, $9) ON CONFLICT DO NOTHING",
                    )
                    .bind(new.id.as_str())
                    .bind(new.customer.as_str())
                    .bind(new.purpose.as_str())
                    .bind(new.order.as_ref().map(|o| o.as_str()))
                    .bind($money(Money::rupiah(base)))
                    .bind(code)
                    .bind($money(Money::rupiah(base + code as u64)))
                    .bind(new.expires_at)
                    .bind(new.created_at)
                    .execute(&self.pool)
                    .await?;
                    // Nothing inserted: the amount is taken, or a concurrent open with this id won.
                    if done.rows_affected() == 1 || self.charge(new.id.as_str()).await?.is_some() {
                        return self.charge(new.id.as_str()).await;
                    }
                }
                Ok(None)
            }

            async fn charge(&self, id: &str) -> Result<Option<crate::store::payments::ChargeRow>, crate::store::StoreError> {
                let sql = format!("SELECT {} FROM qris_charges WHERE id = $1", crate::store::payments::CHARGE_COLUMNS);
                let row: Option<crate::store::payments::ChargeTuple> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
                row.map(crate::store::payments::charge_row).transpose()
            }

            async fn set_charge_status(
                &self,
                id: &str,
                from: &[crate::store::payments::ChargeStatus],
                to: crate::store::payments::ChargeStatus,
                qr_url: Option<&str>,
                at: i64,
            ) -> Result<bool, crate::store::StoreError> {
                let Some(current) = self.charge(id).await? else { return Ok(false) };
                if !from.contains(&current.status) {
                    return Ok(false);
                }
                let done = sqlx::query(
                    "UPDATE qris_charges SET status = $1, qr_url = COALESCE($2, qr_url), updated_at = $3 \
                     WHERE id = $4 AND status = $5",
                )
                .bind(to.as_str())
                .bind(qr_url)
                .bind(at)
                .bind(id)
                .bind(current.status.as_str())
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn open_charges(
                &self,
                limit: i64,
            ) -> Result<Vec<crate::store::payments::ChargeRow>, crate::store::StoreError> {
                let sql = format!(
                    "SELECT {} FROM qris_charges WHERE status IN ('charging', 'pending') ORDER BY expires_at LIMIT $1",
                    crate::store::payments::CHARGE_COLUMNS
                );
                let rows: Vec<crate::store::payments::ChargeTuple> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(&self.pool).await?;
                rows.into_iter().map(crate::store::payments::charge_row).collect()
            }
        }
    };
}
pub(crate) use impl_payments;

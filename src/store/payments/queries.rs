//! The charges' statements (see `Payments`).

use async_trait::async_trait;
use warung_actors::domain::CustomerId;

use super::{
    charge_row, ChargeMethod, ChargeMove, ChargePurpose, ChargeRow, ChargeStatus, ChargeTuple, NewCharge, Opened,
    Payments,
};
use super::{CHARGE_COLUMNS, OPEN_CHARGE_ATTEMPTS_MAX};
use crate::store::backend::SqlStore;
use crate::store::sql::{Backend, Pool, Query, Value};
use crate::store::StoreError;

/// The candidate codes bound as `$8`, as a table of `code` in order `n`: the one place the two
/// dialects differ (an array on Postgres, JSON on SQLite; see `Value::Ints`).
fn candidate_codes(pool: &Pool) -> &'static str {
    match &pool.backend {
        Backend::Postgres(_) => "unnest($8::bigint[]) WITH ORDINALITY AS c(code, n)",
        Backend::Sqlite(_) => "(SELECT CAST(value AS INTEGER) AS code, key AS n FROM json_each($8)) AS c",
    }
}

impl SqlStore {
    async fn open_top_up(&self, customer: &CustomerId) -> Result<Option<ChargeRow>, StoreError> {
        let sql = format!(
            "SELECT {CHARGE_COLUMNS} FROM qris_charges WHERE customer = $1 AND purpose = 'top_up' AND status IN ('charging', 'pending')"
        );
        let row: Option<ChargeTuple> = Query::assembled(sql).bind(customer.as_str()).fetch_optional(&self.pool).await?;
        row.map(charge_row).transpose()
    }

    /// Inserts the charge with the first free code; `false` when nothing was inserted.
    async fn insert_charge(&self, new: &NewCharge, codes: &[i64]) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO qris_charges (id, customer, purpose, order_id, base_amount, unique_code, gross_amount, \
             status, qr_url, expires_at, created_at, updated_at, method) \
             SELECT $1, $2, $3, $4, $5, c.code, $5 + c.code, 'charging', NULL, $6, $7, $7, $9 FROM {} \
             WHERE NOT EXISTS (SELECT 1 FROM qris_charges q \
               WHERE q.gross_amount = $5 + c.code AND q.status IN ('charging', 'pending')) \
             ORDER BY c.n LIMIT 1 ON CONFLICT DO NOTHING",
            candidate_codes(&self.pool)
        );
        let insert = Query::assembled(sql)
            .bind(new.id.as_str())
            .bind(new.customer.as_str())
            .bind(new.purpose.as_str())
            .bind(new.order.as_ref().map(|o| o.as_str()))
            .bind(new.base_rupiah)
            .bind(new.expires_at)
            .bind(new.created_at)
            .bind(Value::Ints(codes.to_vec()))
            .bind(new.method.as_str());
        Ok(self.execute_fenced(insert).await? == 1)
    }
}

#[async_trait]
impl Payments for SqlStore {
    async fn open_charge(&self, new: &NewCharge, codes: &[i64]) -> Result<Opened, StoreError> {
        for _ in 0..OPEN_CHARGE_ATTEMPTS_MAX {
            if let Some(row) = self.charge(new.id.as_str()).await? {
                return Ok(Opened::Charge(row));
            }
            if new.purpose == ChargePurpose::TopUp {
                if let Some(open) = self.open_top_up(&new.customer).await? {
                    return Ok(Opened::TopUpAlreadyOpen(open));
                }
            }
            if self.insert_charge(new, codes).await? {
                if new.method == ChargeMethod::Qris {
                    self.counters.qris_opened.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                let row = self.charge(new.id.as_str()).await?;
                return row
                    .map(Opened::Charge)
                    .ok_or_else(|| StoreError::Corrupt(format!("charge {} vanished", new.id)));
            }
            // Nothing inserted: every code is taken, or a concurrent open took the code picked,
            // or opened this id or this customer's top-up. Look again.
        }
        Ok(Opened::AmountsTaken)
    }

    async fn charge(&self, id: &str) -> Result<Option<ChargeRow>, StoreError> {
        let sql = format!("SELECT {CHARGE_COLUMNS} FROM qris_charges WHERE id = $1");
        let row: Option<ChargeTuple> = Query::assembled(sql).bind(id).fetch_optional(&self.pool).await?;
        row.map(charge_row).transpose()
    }

    /// In a cluster, fenced in a transaction of its own; alone, one statement as before.
    async fn move_charge(&self, id: &str, from: ChargeStatus, to: ChargeMove<'_>, at: i64) -> Result<bool, StoreError> {
        let update = Query::new(
            "UPDATE qris_charges SET status = $1, qr_url = COALESCE($2, qr_url), note = COALESCE($3, note), \
             updated_at = $4 WHERE id = $5 AND status = $6",
        )
        .bind(to.status.as_str())
        .bind(to.qr_url)
        .bind(to.note)
        .bind(at)
        .bind(id)
        .bind(from.as_str());
        let moved = self.execute_fenced(update).await? == 1;
        if moved {
            let counter = match to.status {
                ChargeStatus::Paid => Some(&self.counters.qris_paid),
                ChargeStatus::Expired => Some(&self.counters.qris_expired),
                _ => None,
            };
            if let Some(counter) = counter {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        Ok(moved)
    }

    async fn open_charges(&self, limit: i64) -> Result<Vec<ChargeRow>, StoreError> {
        let sql = format!(
            "SELECT {CHARGE_COLUMNS} FROM qris_charges WHERE status IN ('charging', 'pending') ORDER BY expires_at LIMIT $1"
        );
        let rows: Vec<ChargeTuple> = Query::assembled(sql).bind(limit).fetch_all(&self.pool).await?;
        rows.into_iter().map(charge_row).collect()
    }
}

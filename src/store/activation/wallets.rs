//! Wallets' states for their activation: each balance and its latest ledger entries, for several
//! customers in one statement (the supervisor reads together the wallets waiting to activate; a
//! flash sale's buyers are mostly customers whose wallets have passivated).

use std::collections::HashMap;

use warung_actors::domain::CustomerId;
use warung_actors::wallet::WalletRecord;

use crate::store::rows;
use crate::store::sql::{Backend, Pool, Query, Value};
use crate::store::{StoreError, ACTOR_HISTORY_LOADED_MAX};

/// Each customer's balance with its latest `$2` ledger entries, newest first, for the customers
/// bound as `$1`. A customer with no ledger entry gives one row of nulls after its balance; one
/// with no row gives nothing. The ledger's columns are those `rows::ledger` reads
/// (`rows::LEDGER_COLUMNS`, named here: a derived table's columns cannot be renamed after it on
/// SQLite). The dialects differ in the list (an array, JSON) and in how each customer's latest
/// entries are picked: Postgres reads at most `$2` per customer (`LATERAL`); SQLite, which has no
/// `LATERAL`, numbers them.
fn statement(pool: &Pool) -> &'static str {
    match &pool.backend {
        Backend::Postgres(_) => {
            "SELECT c.id, CAST(c.balance AS TEXT), l.customer, l.reference, l.kind, l.amount, l.balance_after, \
                    l.reason, l.actor, l.at \
             FROM customers c LEFT JOIN LATERAL ( \
                 SELECT id, customer, reference, kind, CAST(amount AS TEXT) AS amount, \
                        CAST(balance_after AS TEXT) AS balance_after, reason, actor, at \
                 FROM ledger_entries WHERE customer = c.id ORDER BY id DESC LIMIT $2 \
             ) l ON true \
             WHERE c.id = ANY($1::text[]) ORDER BY c.id, l.id DESC"
        }
        Backend::Sqlite(_) => {
            "SELECT c.id, CAST(c.balance AS TEXT), l.customer, l.reference, l.kind, l.amount, l.balance_after, \
                    l.reason, l.actor, l.at \
             FROM customers c LEFT JOIN ( \
                 SELECT id, customer, reference, kind, CAST(amount AS TEXT) AS amount, \
                        CAST(balance_after AS TEXT) AS balance_after, reason, actor, at, \
                        ROW_NUMBER() OVER (PARTITION BY customer ORDER BY id DESC) AS recent \
                 FROM ledger_entries WHERE customer IN (SELECT value FROM json_each($1)) \
             ) l ON l.customer = c.id AND l.recent <= $2 \
             WHERE c.id IN (SELECT value FROM json_each($1)) ORDER BY c.id, l.id DESC"
        }
    }
}

/// The customer, its balance, then a ledger entry's columns (`rows::LEDGER_COLUMNS`), null
/// without one.
type WalletTuple = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

/// Each customer's wallet, in the order asked: a customer with no row reads as a new wallet. A
/// failed statement fails every one; a row that does not read back fails its own customer only.
pub(super) async fn read_wallets(
    pool: &Pool,
    customers: &[CustomerId],
) -> Result<Vec<Result<WalletRecord, StoreError>>, StoreError> {
    let ids: Vec<String> = customers.iter().map(|c| c.as_str().to_string()).collect();
    let found: Vec<WalletTuple> = Query::new(statement(pool))
        .planned_each_run()
        .bind(Value::Texts(ids))
        .bind(ACTOR_HISTORY_LOADED_MAX)
        .fetch_all(pool)
        .await?;
    let mut rows_of: HashMap<String, Vec<WalletTuple>> = HashMap::new();
    for row in found {
        rows_of.entry(row.0.clone()).or_default().push(row);
    }
    Ok(customers
        .iter()
        .map(|c| rows_of.get(c.as_str()).map_or_else(|| Ok(WalletRecord::default()), |r| wallet(r)))
        .collect())
}

/// One customer's rows, newest ledger entry first, as the wallet's record (oldest entry first).
fn wallet(found: &[WalletTuple]) -> Result<WalletRecord, StoreError> {
    let mut record = WalletRecord::default();
    let Some(first) = found.first() else { return Ok(record) };
    record.balance = rows::money(&first.1)?;
    record.ledger = found
        .iter()
        .rev()
        .cloned()
        .filter_map(|(_, _, customer, reference, kind, amount, after, reason, actor, at)| {
            Some((customer?, reference?, kind?, amount?, after?, reason?, actor?, at?))
        })
        .map(rows::ledger)
        .collect::<Result<_, _>>()?;
    Ok(record)
}

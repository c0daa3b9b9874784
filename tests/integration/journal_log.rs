//! The journal's log (`database.journal = "log"`): an acknowledged change is in the log before
//! it is in the tables, reads wait for the tables to show it, and nothing acknowledged is lost
//! between the two.

use warung::checkout::OrderState;

use crate::helpers::*;

const BUYERS: usize = 12;
const PRICE: u64 = 10_000;

/// Counts rows straight from Postgres, past the store's read barrier.
async fn count(url: &str, sql: &'static str) -> i64 {
    let raw = sqlx::PgPool::connect(url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&raw).await.unwrap();
    raw.close().await;
    n
}

#[actix_rt::test]
async fn a_crash_after_the_log_commit_and_before_the_projection_loses_nothing() {
    let first = TestEngine::start(Backend::PostgresLog).await;
    let product = product_with_items(&first, "logged", PRICE, BUYERS + 3).await;
    let buyers: Vec<String> = (0..BUYERS).map(|b| format!("logbuyer{b}")).collect();
    fund_all(&first, &buyers, PRICE).await;
    let projection = first.store.projection().expect("the engine runs on the log");
    projection.fresh().await.unwrap();
    projection.hold(true);

    let mut sold = Vec::new();
    for buyer in &buyers {
        let purchase = first.checkout.buy_with_saldo(&customer(buyer), &product, 1).await.unwrap();
        sold.push((purchase.order, purchase.items[0].expose().to_string()));
    }
    assert!(count(&first.db.url, "SELECT count(*) FROM journal_log").await > 0, "the sales are in the log");
    assert_eq!(
        count(&first.db.url, "SELECT count(*) FROM orders WHERE state = 'paid'").await,
        0,
        "and not in the tables: the process stops between the two"
    );

    // The process stops here as a crash stops it: nothing more of it is projected, and the log's
    // writer lock goes with its connections. Another starts on the same database, and is refused
    // while the first still holds the lock.
    let refused = warung::store::connect_with(&first.db.url, 2, warung::store::JournalMode::Log).await;
    assert!(
        matches!(refused, Err(warung::store::StoreError::LogHasAnotherWriter)),
        "one writer per log: {:?}",
        refused.err()
    );
    first.store.close().await;
    let second = warung::startup::start_engine(first.engine.settings.clone()).await.unwrap();
    assert_eq!(count(&first.db.url, "SELECT count(*) FROM journal_log").await, 0, "the start projected the log");
    for (order, item) in &sold {
        let stored = second.store.order(order).await.unwrap().expect("an acknowledged order is stored");
        assert_eq!(stored.state, OrderState::Paid, "{order}");
        let delivered = second.store.delivered_items(order).await.unwrap();
        assert_eq!(delivered.iter().map(|i| i.expose()).collect::<Vec<_>>(), vec![item.as_str()]);
    }
    let balance = second.checkout.balance(&customer(&buyers[0])).await.unwrap();
    assert!(balance.balance.is_zero(), "the debit is stored: {balance:?}");
    assert_audit_clean(second.store.as_ref()).await;
    second.shutdown().await.unwrap();
    first.db.remove().await;
}

#[actix_rt::test]
async fn a_read_after_an_acknowledgement_waits_for_the_tables_to_show_it() {
    let engine = TestEngine::start(Backend::PostgresLog).await;
    let product = product_with_items(&engine, "fresh", PRICE, 2).await;
    fund(&engine, "reader", PRICE).await;
    let projection = engine.store.projection().unwrap();
    projection.fresh().await.unwrap();
    projection.hold(true);
    let purchase = engine.checkout.buy_with_saldo(&customer("reader"), &product, 1).await.unwrap();

    let store = engine.store.clone();
    let order = purchase.order.clone();
    let read = actix_rt::spawn(async move { store.order(&order).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!read.is_finished(), "the read waits while the tables miss the acknowledged sale");
    assert_eq!(count(&engine.db.url, "SELECT count(*) FROM orders WHERE state = 'paid'").await, 0);

    projection.hold(false);
    let stored = read.await.unwrap().unwrap().expect("the order, once projected");
    assert_eq!(stored.state, OrderState::Paid);
    assert_eq!(projection.lag().events, 0);
    engine.finish().await;
}

/// What the projected tables hold, row by row as JSON, sorted: the append-only tables without
/// their serial ids, products without the moment their first row was made (stored outside the
/// journal when the product is created).
async fn projected_tables(url: &str) -> Vec<(String, Vec<String>)> {
    let raw = sqlx::PgPool::connect(url).await.unwrap();
    let mut tables = Vec::new();
    for (table, dropped) in [
        ("products", "'created_at'"),
        ("items", "'none'"),
        ("reservations", "'none'"),
        ("inventory_movements", "'id'"),
        ("customers", "'none'"),
        ("ledger_entries", "'id'"),
        ("orders", "'none'"),
        ("payments", "'none'"),
    ] {
        let sql = format!("SELECT (to_jsonb(t) - {dropped})::text FROM {table} t ORDER BY 1");
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&raw).await.unwrap();
        tables.push((table.to_string(), rows.into_iter().map(|r| r.0).collect()));
    }
    raw.close().await;
    tables
}

/// Random sequences of top-ups, purchases and refunds, projected as they come; every log record
/// is copied aside as it is appended (a trigger in the test's database), and the copies replayed
/// into an empty database give the same tables.
#[actix_rt::test]
async fn replaying_the_log_into_empty_tables_gives_the_tables_the_projector_built() {
    use rand::{Rng, SeedableRng};
    use warung_actors::domain::Money;

    for seed in 0..3u64 {
        let engine = TestEngine::start(Backend::PostgresLog).await;
        let raw = sqlx::PgPool::connect(&engine.db.url).await.unwrap();
        for statement in [
            "CREATE TABLE log_copy (position bigint, key bigint, record bytea, appended_at bigint)",
            "CREATE FUNCTION copy_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             INSERT INTO log_copy VALUES (NEW.position, NEW.key, NEW.record, NEW.appended_at); RETURN NEW; END $$",
            "CREATE TRIGGER copy_log AFTER INSERT ON journal_log FOR EACH ROW EXECUTE FUNCTION copy_log()",
        ] {
            sqlx::query(statement).execute(&raw).await.unwrap();
        }
        let mut products = Vec::new();
        for p in 0..3u64 {
            products.push(product_with_items(&engine, &format!("rp{seed}x{p}"), 5_000 * (p + 1), 8).await);
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut paid = Vec::new();
        for step in 0..80 {
            let who = customer(&format!("replay{}", rng.random_range(0..6)));
            match rng.random_range(0..5) {
                0 | 1 => {
                    let payment = reference(&format!("pay-{seed}-{step}"));
                    let amount = Money::rupiah(rng.random_range(1..7) * 5_000);
                    engine.checkout.top_up(&who, &payment, amount).await.unwrap();
                }
                2 | 3 => {
                    let product = &products[rng.random_range(0..products.len())];
                    if let Ok(purchase) = engine.checkout.buy_with_saldo(&who, product, rng.random_range(1..3)).await {
                        paid.push(purchase.order);
                    }
                }
                _ => {
                    if let Some(order) = paid.pop() {
                        engine.checkout.refund(&order, "replay test", "admin:test").await.unwrap();
                    }
                }
            }
        }

        engine.store.projection().unwrap().fresh().await.unwrap();
        let records: Vec<(i64, i64, Vec<u8>, i64)> =
            sqlx::query_as("SELECT position, key, record, appended_at FROM log_copy ORDER BY position")
                .fetch_all(&raw)
                .await
                .unwrap();
        raw.close().await;
        assert!(records.len() > 10, "seed {seed}: every change went through the log");
        let built = projected_tables(&engine.db.url).await;
        assert!(built.iter().all(|(_, rows)| !rows.is_empty()), "seed {seed}: every table has rows: {built:?}");

        let empty = TestDb::new(Backend::PostgresLog).await;
        let tables_store = warung::store::connect(&empty.url, 2).await.unwrap();
        tables_store.migrate().await.unwrap();
        tables_store.close().await;
        let raw = sqlx::PgPool::connect(&empty.url).await.unwrap();
        for (position, key, record, appended_at) in &records {
            sqlx::query("INSERT INTO journal_log (position, key, record, appended_at) VALUES ($1, $2, $3, $4)")
                .bind(position)
                .bind(key)
                .bind(record)
                .bind(appended_at)
                .execute(&raw)
                .await
                .unwrap();
        }
        raw.close().await;
        let replaying = warung::store::connect_with(&empty.url, 2, empty.journal).await.unwrap();
        replaying.migrate().await.expect("the start projects the log");
        let replayed = projected_tables(&empty.url).await;
        for ((table, built_rows), (_, replayed_rows)) in built.iter().zip(&replayed) {
            let missing: Vec<_> = built_rows.iter().filter(|r| !replayed_rows.contains(r)).collect();
            let extra: Vec<_> = replayed_rows.iter().filter(|r| !built_rows.contains(r)).collect();
            assert!(
                missing.is_empty() && extra.is_empty() && built_rows.len() == replayed_rows.len(),
                "seed {seed}, {table}: built only {missing:#?}\nreplayed only {extra:#?}"
            );
        }
        assert_audit_clean(replaying.as_ref()).await;
        replaying.close().await;
        empty.remove().await;
        engine.finish().await;
    }
}

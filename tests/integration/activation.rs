//! Actors' states as their activation reads them back from the store: the supervisor reads the
//! wallets waiting to activate together, and each must be what a read of it alone gives.

use warung_actors::domain::Money;

use crate::helpers::*;

const PRICE: u64 = 10_000;

on_both_backends!(wallets_read_together_are_each_what_one_read_alone_gives);

async fn wallets_read_together_are_each_what_one_read_alone_gives(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    let product = product_with_items(&engine, "together", PRICE, 4).await;
    fund(&engine, "togethera", 3 * PRICE).await;
    fund(&engine, "togetherb", PRICE).await;
    fund(&engine, "togetherb", PRICE / 2).await;
    fund(&engine, "togetherc", 1_000).await;
    engine.checkout.buy_with_saldo(&customer("togethera"), &product, 2).await.unwrap();
    engine.checkout.buy_with_saldo(&customer("togetherb"), &product, 1).await.unwrap();

    let asked = [customer("togetherb"), customer("nobodyyet"), customer("togethera"), customer("togetherc")];
    let together = engine.store.load_wallets(&asked).await;
    assert_eq!(together.len(), asked.len(), "one answer per wallet asked");
    let together: Vec<_> = together.into_iter().map(|record| record.expect("every wallet reads")).collect();
    for (who, record) in asked.iter().zip(&together) {
        let alone = engine.store.load_wallet(who).await.unwrap();
        assert_eq!(format!("{record:?}"), format!("{alone:?}"), "{who} read together and alone");
    }

    let after = |n: usize| -> Vec<Money> { together[n].ledger.iter().map(|entry| entry.balance_after).collect() };
    assert_eq!(together[0].balance, Money::rupiah(PRICE / 2));
    assert_eq!(after(0), [Money::rupiah(PRICE), Money::rupiah(PRICE * 3 / 2), Money::rupiah(PRICE / 2)]);
    assert_eq!(together[1].balance, Money::ZERO, "a customer never seen has an empty wallet");
    assert!(together[1].ledger.is_empty());
    assert_eq!(together[2].balance, Money::rupiah(PRICE));
    assert_eq!(after(2), [Money::rupiah(3 * PRICE), Money::rupiah(PRICE)], "oldest entry first");
    assert_eq!(after(3), [Money::rupiah(1_000)]);
    engine.finish().await;
}

/// The customers' table grows from a handful of rows to hundreds of thousands while the engine
/// runs, and Postgres never analyzes it (autovacuum off for it, as on this project's machines):
/// the statements that write wallets (the journal's or the projector's) and read them for
/// activation must still find rows by index. A plan cached while the table was small scanned it
/// whole at every batch (seen at a million customers: each projection and each read took a
/// fraction of a second).
#[actix_rt::test]
async fn wallets_are_written_and_read_by_index_after_the_table_grew_unanalyzed_on_postgres() {
    wallets_stay_indexed(Backend::Postgres).await;
}

#[actix_rt::test]
async fn wallets_are_written_and_read_by_index_after_the_table_grew_unanalyzed_on_postgres_log() {
    wallets_stay_indexed(Backend::PostgresLog).await;
}

async fn wallets_stay_indexed(backend: Backend) {
    use warung_actors::journal::ActorKey;

    const EARLY_CUSTOMERS: usize = 24;
    const GROWN_TO: i64 = 300_000;
    const ACTIVATION_ROUNDS: usize = 4;
    let engine = TestEngine::start(backend).await;
    let raw = sqlx::PgPool::connect(&engine.db.url).await.unwrap();
    sqlx::query("ALTER TABLE customers SET (autovacuum_enabled = false)").execute(&raw).await.unwrap();
    let early: Vec<String> = (0..EARLY_CUSTOMERS).map(|n| format!("early{n}")).collect();
    // One at a time, so each writing statement runs past the five runs after which Postgres
    // may cache a generic plan.
    for (n, name) in early.iter().enumerate() {
        fund(&engine, name, PRICE + n as u64).await;
    }
    // Activations, several times over, so the reads' connections have each read wallets often.
    for _ in 0..ACTIVATION_ROUNDS {
        engine.lanes.stop_actors(|key| matches!(key, ActorKey::Wallet(_))).await;
        for name in &early {
            engine.checkout.balance(&customer(name)).await.unwrap();
        }
    }

    sqlx::query(
        "INSERT INTO customers (id, balance, created_at, updated_at) \
         SELECT 'grown' || g, 0, 0, 0 FROM generate_series(1, $1) g",
    )
    .bind(GROWN_TO)
    .execute(&raw)
    .await
    .unwrap();
    let read_before = customers_rows_scanned(&raw).await;
    for (n, name) in early.iter().enumerate() {
        fund(&engine, name, 2 * PRICE + n as u64).await;
    }
    engine.lanes.stop_actors(|key| matches!(key, ActorKey::Wallet(_))).await;
    for name in &early {
        let balance = engine.checkout.balance(&customer(name)).await.unwrap();
        assert!(balance.balance > Money::rupiah(3 * PRICE - 1), "{name}: {balance:?}");
    }
    // A backend reports its counts when it goes idle, at most once a second, and when it ends:
    // the engine stops (its connections end) before they are read.
    let db = engine.stop().await;
    let read = customers_rows_scanned(&raw).await - read_before;
    assert!(read < GROWN_TO, "the customers' table was read whole after it grew ({read} rows by sequential scans)");
    raw.close().await;
    db.finish().await;
}

/// The customers' rows read by sequential scans so far, as Postgres has counted them.
async fn customers_rows_scanned(raw: &sqlx::PgPool) -> i64 {
    counted_so_far(raw, "SELECT seq_tup_read FROM pg_stat_user_tables WHERE relname = 'customers'").await
}

/// A count of Postgres's statistics (`statement` reads it), once every backend has reported:
/// a backend reports when it goes idle, at most once a second, and when it ends.
async fn counted_so_far(raw: &sqlx::PgPool, statement: &'static str) -> i64 {
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let mut connection = raw.acquire().await.unwrap();
    sqlx::query("SELECT pg_stat_clear_snapshot()").execute(&mut *connection).await.unwrap();
    let (count,): (i64,) = sqlx::query_as(statement).fetch_one(&mut *connection).await.unwrap();
    count
}

/// A product actor's activation reads back its newest settled reservations, a bounded number.
/// With an index on the product alone, Postgres (its tables never analyzed, as on this project's
/// machines) fetched every reservation the product ever had and sorted them: over a second for a
/// product with 835,000 sales, and longer with each sale. It must read about as many as it keeps,
/// of both kinds of settled sale: those with a reservation row, and those on their orders' rows.
#[actix_rt::test]
async fn a_product_with_a_long_history_activates_reading_only_its_newest_reservations() {
    use warung_actors::journal::ActorKey;

    const OLDER_SALES: i64 = 60_000;
    let engine = TestEngine::start(Backend::Postgres).await;
    let product = product_with_items(&engine, "longhistory", PRICE, 2).await;
    fund(&engine, "longhistorya", 2 * PRICE).await;
    let buyer = customer("longhistorya");
    engine.checkout.buy_with_saldo(&buyer, &product, 1).await.unwrap();
    let raw = sqlx::PgPool::connect(&engine.db.url).await.unwrap();
    // Older sales, written straight into the tables (quicker than selling them): with a
    // reservation row each, and on their orders' rows.
    for older in [
        "INSERT INTO reservations (order_id, product, quantity, unit_price, items, expires_at, status, release_reason, updated_at) \
         SELECT 'TRX-' || lpad(to_hex(g), 10, '0') || '-1', $1, 1, 10000, '', 0, 'committed', '', g \
         FROM generate_series(1, $2) g",
        "INSERT INTO orders (id, customer, product, quantity, unit_price, total, method, state, expires_at, note, created_at, updated_at, sold_items) \
         SELECT 'TRX-' || lpad(to_hex(g), 10, '0') || '-2', 'longhistoryb', $1, 1, 10000, 10000, 'saldo', 'paid', 0, '', g, g, '' \
         FROM generate_series(1, $2) g",
    ] {
        sqlx::query(older).bind(product.as_str()).bind(OLDER_SALES).execute(&raw).await.unwrap();
    }

    engine.lanes.stop_actors(|key| matches!(key, ActorKey::Product(_))).await;
    let read_before = index_entries_read(&raw, "reservations").await;
    let orders_read_before = index_entries_read(&raw, "orders").await;
    engine.checkout.buy_with_saldo(&buyer, &product, 1).await.expect("the product activates and sells");
    let db = engine.stop().await;
    let read = index_entries_read(&raw, "reservations").await - read_before;
    assert!(read < OLDER_SALES, "the activation read {read} reservations of the product's {OLDER_SALES} older ones");
    let read = index_entries_read(&raw, "orders").await - orders_read_before;
    assert!(read < OLDER_SALES, "the activation read {read} orders of the product's {OLDER_SALES} older sales");

    sqlx::query("DELETE FROM reservations WHERE updated_at <= $1").bind(OLDER_SALES).execute(&raw).await.unwrap();
    sqlx::query("DELETE FROM orders WHERE updated_at <= $1").bind(OLDER_SALES).execute(&raw).await.unwrap();
    raw.close().await;
    db.finish().await;
}

/// A table's index entries read so far, as Postgres has counted them.
async fn index_entries_read(raw: &sqlx::PgPool, table: &str) -> i64 {
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let mut connection = raw.acquire().await.unwrap();
    sqlx::query("SELECT pg_stat_clear_snapshot()").execute(&mut *connection).await.unwrap();
    let (count,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(idx_tup_read), 0) AS BIGINT) FROM pg_stat_user_indexes WHERE relname = $1",
    )
    .bind(table)
    .fetch_one(&mut *connection)
    .await
    .unwrap();
    count
}

on_both_backends!(a_saldo_sale_is_stored_on_its_order_and_remembered_from_it);

/// A saldo sale's reservation opens and commits in one batch: it gets no row, and its order's
/// row takes the items it sold. What read the reservation finds the sale on the order: the
/// product's activation (so a repeated command gets its first answer), the items delivered, and
/// recovery's view of its reservation.
async fn a_saldo_sale_is_stored_on_its_order_and_remembered_from_it(backend: Backend) {
    use warung_actors::journal::ReservationStatus;
    use warung_actors::product::Settlement;

    let engine = TestEngine::start(backend).await;
    let product = product_with_items(&engine, "onorder", PRICE, 3).await;
    fund(&engine, "onordera", 2 * PRICE).await;
    let bought = engine.checkout.buy_with_saldo(&customer("onordera"), &product, 2).await.unwrap();
    let db = engine.stop().await;

    const ROWS: &str = "SELECT COUNT(*) FROM reservations";
    const SOLD: &str = "SELECT sold_items FROM orders WHERE id = $1";
    let order = bought.order.as_str();
    let (reservation_rows, sold_items): (i64, Option<String>) = if db.is_postgres() {
        let raw = sqlx::PgPool::connect(&db.url).await.unwrap();
        let rows = sqlx::query_scalar(ROWS).fetch_one(&raw).await.unwrap();
        (rows, sqlx::query_scalar(SOLD).bind(order).fetch_one(&raw).await.unwrap())
    } else {
        let raw = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let rows = sqlx::query_scalar(ROWS).fetch_one(&raw).await.unwrap();
        (rows, sqlx::query_scalar(SOLD).bind(order).fetch_one(&raw).await.unwrap())
    };
    assert_eq!(reservation_rows, 0, "the sale wrote no reservation row");
    assert_eq!(sold_items.map(|list| list.split(',').count()), Some(2), "the order's row has the two items sold");

    let store = db.store().await;
    let record = store.load_product(&product).await.unwrap().expect("the product");
    let (_, settled) = record.settled.iter().find(|(order, _)| *order == bought.order).expect("remembered");
    assert_eq!(settled.quantity, 2);
    assert_eq!(settled.settlement, Settlement::Committed { items: bought.items.clone() });
    assert_eq!(store.delivered_items(&bought.order).await.unwrap(), bought.items);
    assert_eq!(store.reservation_status(&bought.order).await.unwrap(), Some(ReservationStatus::Committed));
    store.close().await;

    let again = TestEngine::on(db, |_| {}).await;
    let balance = again.checkout.balance(&customer("onordera")).await.unwrap();
    assert_eq!(balance.balance, Money::ZERO);
    again.finish().await;
}

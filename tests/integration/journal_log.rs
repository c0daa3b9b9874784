//! The journal's log (`database.journal = "log"`): an acknowledged change is in the log before
//! it is in the tables, reads wait for the tables to show it, and nothing acknowledged is lost
//! between the two.

use warung::checkout::OrderState;
use warung::store::{JournalMode, Writers};

use crate::helpers::*;

const BUYERS: usize = 12;
const PRICE: u64 = 10_000;

/// Counts rows straight from the database, past the store's read barrier.
async fn count(url: &str, sql: &'static str) -> i64 {
    if url.starts_with("postgres") {
        let raw = sqlx::PgPool::connect(url).await.unwrap();
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&raw).await.unwrap();
        raw.close().await;
        n
    } else {
        let raw = sqlx::SqlitePool::connect(url).await.unwrap();
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&raw).await.unwrap();
        raw.close().await;
        n
    }
}

/// Declares one test per backend on the log from one async body taking a `Backend`.
macro_rules! on_both_logs {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[actix_rt::test]
            async fn on_postgres_log() {
                super::$name(crate::helpers::Backend::PostgresLog).await
            }

            #[actix_rt::test]
            async fn on_sqlite_log() {
                super::$name(crate::helpers::Backend::SqliteLog).await
            }
        }
    )*};
}

on_both_logs!(
    a_crash_after_the_log_commit_and_before_the_projection_loses_nothing,
    a_crash_after_two_lanes_log_commits_and_before_the_projection_loses_nothing,
    a_read_after_an_acknowledgement_waits_for_the_tables_to_show_it,
    an_activation_waits_for_its_own_actors_changes_and_no_others,
    many_sales_projected_at_once_are_stored_as_they_were_acknowledged,
    two_journals_on_one_store_are_projected_and_replayed_with_nothing_lost,
);

async fn a_crash_after_the_log_commit_and_before_the_projection_loses_nothing(backend: Backend) {
    crash_after_the_log_commit(TestEngine::start(backend).await).await;
}

/// As above with two lanes, each with its own journal appending to the one log: the buyers'
/// wallets are in both, so some purchases cross lanes, and the next start (with two lanes too)
/// replays both journals' records.
async fn a_crash_after_two_lanes_log_commits_and_before_the_projection_loses_nothing(backend: Backend) {
    let first = TestEngine::start_with(backend, |s| s.engine.lanes = 2).await;
    let lanes: std::collections::HashSet<usize> =
        (0..BUYERS).map(|b| first.lanes.lane_of_customer(&customer(&format!("logbuyer{b}")))).collect();
    assert_eq!(lanes.len(), 2, "the buyers are in both lanes");
    crash_after_the_log_commit(first).await;
}

async fn crash_after_the_log_commit(first: TestEngine) {
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
        // (An order's first row is stored with the record on Postgres, as its guard: the items
        // and the debit are what the projection writes.)
        count(&first.db.url, "SELECT count(*) FROM items WHERE status = 'sold'").await,
        0,
        "and not in the tables: the process stops between the two"
    );

    // The process stops here as a crash stops it: nothing more of it is projected, and the log's
    // writer lock goes with its connections. Another starts on the same database, and is refused
    // while the first still holds the lock.
    let refused = warung::store::connect_with(&first.db.url, 2, JournalMode::Log, Writers::ThisProcess).await;
    assert!(
        matches!(refused, Err(warung::store::StoreError::JournalHasAnotherWriter)),
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

/// With the projector held while customers buy, its next transaction holds every sale: on
/// Postgres enough new orders, reservations, ledger entries and movements for each table to go
/// by `COPY`. Each row is stored as the engine acknowledged it, column by column.
async fn many_sales_projected_at_once_are_stored_as_they_were_acknowledged(backend: Backend) {
    use warung::checkout::PaymentMethod;

    let buyers_count = warung::store::PROJECTION_COPY_ROWS_MIN + 6;
    let engine = TestEngine::start(backend).await;
    let product = product_with_items(&engine, "bulk", PRICE, buyers_count).await;
    let buyers: Vec<String> = (0..buyers_count).map(|b| format!("bulkbuyer{b}")).collect();
    fund_all(&engine, &buyers, PRICE * 2).await;
    let projection = engine.store.projection().expect("the engine runs on the log");
    projection.fresh().await.unwrap();
    projection.hold(true);
    let mut sold = Vec::new();
    for buyer in &buyers {
        sold.push((buyer, engine.checkout.buy_with_saldo(&customer(buyer), &product, 1).await.unwrap()));
    }
    projection.hold(false);
    projection.fresh().await.unwrap();

    for (buyer, purchase) in &sold {
        let stored = engine.store.order(&purchase.order).await.unwrap().expect("an acknowledged order is stored");
        assert_eq!(
            (stored.customer.as_str(), &stored.product, stored.quantity, stored.total, stored.unit_price),
            (buyer.as_str(), &product, purchase.quantity, purchase.total, purchase.total),
            "{}",
            purchase.order
        );
        assert_eq!((stored.state, stored.method), (OrderState::Paid, PaymentMethod::Saldo));
        assert!(stored.created_at <= stored.updated_at, "{stored:?}");
        let delivered = engine.store.delivered_items(&purchase.order).await.unwrap();
        assert_eq!(delivered, purchase.items, "the reservation's items are the ones delivered");
        let ledger = engine.store.ledger_of(&customer(buyer), 10).await.unwrap();
        let debit = ledger.iter().find(|l| l.reference == purchase.order.debit_reference()).expect("the debit");
        assert_eq!((debit.amount, debit.balance_after), (-purchase.total.amount(), purchase.balance.balance));
    }
    let movements = format!(
        "SELECT count(*) FROM inventory_movements WHERE product = '{}' AND to_state = 'sold'",
        product.as_str()
    );
    assert_eq!(count(&engine.db.url, Box::leak(movements.into_boxed_str())).await, buyers_count as i64);
    assert_audit_clean(engine.store.as_ref()).await;
    engine.finish().await;
}

async fn a_read_after_an_acknowledgement_waits_for_the_tables_to_show_it(backend: Backend) {
    let engine = TestEngine::start(backend).await;
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
    assert_eq!(count(&engine.db.url, "SELECT count(*) FROM items WHERE status = 'sold'").await, 0);

    projection.hold(false);
    let stored = read.await.unwrap().unwrap().expect("the order, once projected");
    assert_eq!(stored.state, OrderState::Paid);
    assert_eq!(projection.lag().events, 0);
    engine.finish().await;
}

async fn an_activation_waits_for_its_own_actors_changes_and_no_others(backend: Backend) {
    use std::time::Duration;
    use warung_actors::journal::ActorKey;

    let engine = TestEngine::start(backend).await;
    let product = product_with_items(&engine, "keyed", PRICE, 3).await;
    fund(&engine, "keyedold", PRICE).await;
    let projection = engine.store.projection().unwrap();
    projection.fresh().await.unwrap();
    projection.hold(true);
    engine.checkout.buy_with_saldo(&customer("keyedold"), &product, 1).await.unwrap();

    // A customer never seen before activates, tops up and buys while the tables miss that sale.
    let newcomer = tokio::time::timeout(Duration::from_secs(5), async {
        fund(&engine, "keyednew", PRICE).await;
        engine.checkout.buy_with_saldo(&customer("keyednew"), &product, 1).await
    })
    .await
    .expect("a new customer's activation does not wait for other customers' changes");
    newcomer.expect("the newcomer's purchase");

    // The first buyer's wallet, stopped and activated again, waits for its own sale's rows.
    let stopped =
        engine.lanes.stop_actors(|key| matches!(key, ActorKey::Wallet(who) if who.as_str() == "keyedold")).await;
    assert_eq!(stopped, 1);
    let checkout = engine.checkout.clone();
    let balance = actix_rt::spawn(async move { checkout.balance(&customer("keyedold")).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!balance.is_finished(), "the activation waits while the tables miss its own sale");
    projection.hold(false);
    let balance = balance.await.unwrap().unwrap();
    assert!(balance.balance.is_zero(), "activated with its sale: {balance:?}");
    engine.finish().await;
}

/// The tables whose new rows the replay's projection streams by `COPY` on Postgres.
const COPIED_TABLES: [&str; 4] = ["reservations", "inventory_movements", "ledger_entries", "orders"];

/// The tables the projector writes, and the column of each left out of the comparison: the
/// append-only tables' serial ids, and the moment a product's first row was made (stored outside
/// the journal when the product is created).
const PROJECTED_TABLES: [(&str, &str); 8] = [
    ("products", "created_at"),
    ("items", ""),
    ("reservations", ""),
    ("inventory_movements", "id"),
    ("customers", ""),
    ("ledger_entries", "id"),
    ("orders", ""),
    ("payments", ""),
];

/// A database opened past the store, on either backend.
enum Raw {
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

type LogRow = (i64, i64, Vec<u8>, i64);

impl Raw {
    async fn open(url: &str) -> Raw {
        if url.starts_with("postgres") {
            Raw::Postgres(sqlx::PgPool::connect(url).await.unwrap())
        } else {
            Raw::Sqlite(sqlx::SqlitePool::connect(url).await.unwrap())
        }
    }

    async fn execute(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self {
            Raw::Postgres(pool) => drop(sqlx::query(sql).execute(pool).await.unwrap()),
            Raw::Sqlite(pool) => drop(sqlx::query(sql).execute(pool).await.unwrap()),
        }
    }

    async fn strings(&self, sql: String) -> Vec<String> {
        let sql = sqlx::AssertSqlSafe(sql);
        let rows: Vec<(String,)> = match self {
            Raw::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
            Raw::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        };
        rows.into_iter().map(|r| r.0).collect()
    }

    /// Keeps a copy of every log row as it is appended (a trigger), in `log_copy`.
    async fn copy_the_log(&self) {
        let statements: &[&str] = match self {
            Raw::Postgres(_) => &[
                "CREATE TABLE log_copy (position bigint, key bigint, record bytea, appended_at bigint)",
                "CREATE FUNCTION copy_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 INSERT INTO log_copy VALUES (NEW.position, NEW.key, NEW.record, NEW.appended_at); RETURN NEW; END $$",
                "CREATE TRIGGER copy_log AFTER INSERT ON journal_log FOR EACH ROW EXECUTE FUNCTION copy_log()",
            ],
            Raw::Sqlite(_) => &[
                "CREATE TABLE log_copy (position INTEGER, key INTEGER, record BLOB, appended_at INTEGER)",
                "CREATE TRIGGER copy_log AFTER INSERT ON journal_log BEGIN \
                 INSERT INTO log_copy VALUES (NEW.position, NEW.key, NEW.record, NEW.appended_at); END",
            ],
        };
        for statement in statements {
            self.execute(statement).await;
        }
    }

    async fn log_copy(&self) -> Vec<LogRow> {
        let sql = "SELECT position, key, record, appended_at FROM log_copy ORDER BY position";
        match self {
            Raw::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
            Raw::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        }
    }

    async fn insert_log(&self, (position, key, record, appended_at): &LogRow) {
        let sql = "INSERT INTO journal_log (position, key, record, appended_at) VALUES ($1, $2, $3, $4)";
        match self {
            Raw::Postgres(pool) => {
                sqlx::query(sql).bind(position).bind(key).bind(record).bind(appended_at).execute(pool).await.unwrap();
            }
            Raw::Sqlite(pool) => {
                sqlx::query(sql).bind(position).bind(key).bind(record).bind(appended_at).execute(pool).await.unwrap();
            }
        }
    }

    /// What the projected tables hold, row by row as JSON, sorted.
    async fn projected_tables(&self) -> Vec<(String, Vec<String>)> {
        let mut tables = Vec::new();
        for (table, dropped) in PROJECTED_TABLES {
            let sql = match self {
                Raw::Postgres(_) => format!("SELECT (to_jsonb(t) - '{dropped}')::text FROM {table} t ORDER BY 1"),
                Raw::Sqlite(_) => {
                    let columns = self.strings(format!("SELECT name FROM pragma_table_info('{table}')")).await;
                    let kept: Vec<String> = columns.into_iter().filter(|c| c != dropped).collect();
                    format!("SELECT json_array({}) FROM {table} ORDER BY 1", kept.join(", "))
                }
            };
            tables.push((table.to_string(), self.strings(sql).await));
        }
        tables
    }

    async fn close(self) {
        match self {
            Raw::Postgres(pool) => pool.close().await,
            Raw::Sqlite(pool) => pool.close().await,
        }
    }
}

on_both_logs!(replaying_the_log_into_empty_tables_gives_the_tables_the_projector_built);

/// Random sequences of top-ups, purchases and refunds, projected as they come; every log record
/// is copied aside as it is appended (a trigger in the test's database), and the copies replayed
/// into an empty database give the same tables.
///
/// The projector writes each batch as it comes, and the replay writes the whole log in one
/// transaction: on Postgres the first sends each table's rows as arrays, the second streams what
/// it only appends by `COPY` (a prelude of sales makes enough of each for it), so the two ways
/// must give the same rows, text that `COPY` reads as markup included (the refunds' reason). The
/// prelude's saldo sales are on their orders' rows; the orders it places and cancels are in
/// `reservations`.
async fn replaying_the_log_into_empty_tables_gives_the_tables_the_projector_built(backend: Backend) {
    use rand::{Rng, SeedableRng};
    use warung_actors::domain::Money;

    let prelude_sales = warung::store::PROJECTION_COPY_ROWS_MIN + 6;
    for seed in 0..3u64 {
        let engine = TestEngine::start(backend).await;
        let raw = Raw::open(&engine.db.url).await;
        raw.copy_the_log().await;
        let bulk = product_with_items(&engine, &format!("rp{seed}bulk"), 5_000, prelude_sales).await;
        for n in 0..prelude_sales {
            let who = customer(&format!("prelude{n}"));
            engine.checkout.top_up(&who, &reference(&format!("pre-{seed}-{n}")), Money::rupiah(5_000)).await.unwrap();
            // A saldo sale writes no reservation row (its order's row has the items): an order
            // placed and cancelled writes one.
            let placed = engine.checkout.buy_with_external(&who, &bulk, 1).await.unwrap();
            engine.checkout.cancel(&placed.order).await.unwrap();
            engine.checkout.buy_with_saldo(&who, &bulk, 1).await.unwrap();
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
                        engine.checkout.refund(&order, "uji\tulang \\N \\ baris\r\nbaru", "admin:test").await.unwrap();
                    }
                }
            }
        }

        engine.store.projection().unwrap().fresh().await.unwrap();
        let records = raw.log_copy().await;
        assert!(records.len() > 10, "seed {seed}: every change went through the log");
        let built = raw.projected_tables().await;
        raw.close().await;
        assert!(built.iter().all(|(_, rows)| !rows.is_empty()), "seed {seed}: every table has rows: {built:?}");
        for (table, rows) in built.iter().filter(|(t, _)| COPIED_TABLES.contains(&t.as_str())) {
            assert!(rows.len() >= prelude_sales, "seed {seed}: {table} has enough rows to be copied: {}", rows.len());
        }
        assert!(
            built.iter().any(|(_, rows)| rows.iter().any(|r| r.contains("uji"))),
            "seed {seed}: a refund's reason is in the tables"
        );

        let empty = TestDb::new(backend).await;
        let tables_store = warung::store::connect(&empty.url, 2).await.unwrap();
        tables_store.migrate().await.unwrap();
        tables_store.close().await;
        let raw = Raw::open(&empty.url).await;
        for record in &records {
            raw.insert_log(record).await;
        }
        let replaying = warung::store::connect_with(&empty.url, 2, empty.journal, Writers::ThisProcess).await.unwrap();
        replaying.migrate().await.expect("the start projects the log");
        let replayed = raw.projected_tables().await;
        raw.close().await;
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

/// Postgres compresses the log's records with lz4 (this machine's server has it; a server
/// without it keeps pglz, and the migration says so rather than fail).
#[actix_rt::test]
async fn the_log_records_are_compressed_with_lz4() {
    let engine = TestEngine::start(Backend::PostgresLog).await;
    let raw = sqlx::PgPool::connect(&engine.db.url).await.unwrap();
    let (method,): (String,) = sqlx::query_as(
        "SELECT attcompression::text FROM pg_attribute WHERE attrelid = 'journal_log'::regclass AND attname = 'record'",
    )
    .fetch_one(&raw)
    .await
    .unwrap();
    raw.close().await;
    assert_eq!(method, "l");
    engine.finish().await;
}

/// A purchase whose product is on a second supervisor (its own journal) on the same store, as
/// the product's lane would be: reserve there, debit here with the pending order, then commit
/// there with the paid order once the debit is stored, as `cluster::route` crosses nodes.
async fn sell_across_journals(
    wallets: &warung::records::Supervisor,
    products: &warung::records::Supervisor,
    buyer: String,
    product: &warung_actors::domain::ProductCode,
) -> warung_actors::domain::OrderId {
    use warung::checkout::order::{Order, OrderCommand};
    use warung::checkout::{OrderRow, OrderState, PaymentMethod};
    use warung::records::ShopRecord;
    use warung_actors::domain::{ActorName, OrderId};
    use warung_actors::product::{Commit, PriceTier, Reserve, StoreWhen};
    use warung_actors::wallet::Debit;

    let (order, who) = (OrderId::generate(), customer(&buyer));
    let actor = ActorName::of("customer", &buyer);
    let reserve = Reserve {
        order: order.clone(),
        quantity: 1,
        ttl_ms: 60_000,
        store: StoreWhen::Committed,
        tier: PriceTier::Member,
        actor: actor.clone(),
    };
    let reserved = products.product_applied(product, reserve).await.unwrap().unwrap();
    let now = wallets.clock().now();
    let pending = OrderRow::of_reservation(&who, product, &reserved, PaymentMethod::Saldo, OrderState::Pending, now);
    let debit = Debit {
        reference: order.debit_reference(),
        amount: reserved.total,
        reason: format!("purchase {order}"),
        actor: actor.clone(),
    };
    wallets.wallet_with(&who, debit, vec![ShopRecord::Order(pending.clone())]).await.unwrap().unwrap();
    let mut paid = Order::new(pending);
    paid.apply(OrderCommand::Complete { note: "" }, now).unwrap();
    let commit = Commit { order: order.clone(), actor };
    products.product_with(product, commit, vec![paid.record()]).await.unwrap().unwrap();
    order
}

/// Two journals append to one store's log and feed its one projection (docs/journal-log.md, "One
/// log, several writers"): every sale that crossed them is in the tables, whether projected as it
/// came or replayed by the next start, and the audit is clean.
async fn two_journals_on_one_store_are_projected_and_replayed_with_nothing_lost(backend: Backend) {
    use warung_actors::journal::ActorKey;

    let first = TestEngine::start(backend).await;
    let product = product_with_items(&first, "twojournals", PRICE, BUYERS).await;
    let buyers: Vec<String> = (0..BUYERS).map(|b| format!("twojournals{b}")).collect();
    fund_all(&first, &buyers, PRICE).await;
    // The product is stopped here and served by a second supervisor on the same store.
    first.lanes.stop_actors(|key| matches!(key, ActorKey::Product(code) if code == &product)).await;
    let (second, _notices) = warung::records::Supervisor::start(
        first.store.clone(),
        first.lanes.clock(),
        first.engine.settings.supervisor(),
    );
    let projection = first.store.projection().expect("the engine runs on the log");
    projection.fresh().await.unwrap();

    // Half the sales projected as they come (the projector free), half left in the log by a
    // process that stops before projecting them, and replayed by the next. Each half's purchases
    // run at once, so the two journals' appends are in the store together.
    let (live, left) = buyers.split_at(BUYERS / 2);
    let sell = |buyers: &[String]| {
        let sales: Vec<_> =
            buyers.iter().map(|b| sell_across_journals(first.lanes.home(), &second, b.clone(), &product)).collect();
        futures::future::join_all(sales)
    };
    let mut orders = sell(live).await;
    projection.fresh().await.unwrap();
    projection.hold(true);
    orders.extend(sell(left).await);
    assert!(count(&first.db.url, "SELECT count(*) FROM journal_log").await > 0, "the last sales are in the log only");
    first.store.close().await;
    let next = warung::startup::start_engine(first.engine.settings.clone()).await.unwrap();
    assert_eq!(count(&first.db.url, "SELECT count(*) FROM journal_log").await, 0, "the start projected the log");

    for (order, buyer) in orders.iter().zip(&buyers) {
        let stored = next.store.order(order).await.unwrap().expect("an acknowledged order is stored");
        assert_eq!(stored.state, OrderState::Paid, "{order}");
        assert_eq!(next.store.delivered_items(order).await.unwrap().len(), 1, "{order}");
        let balance = next.checkout.balance(&customer(buyer)).await.unwrap();
        assert!(balance.balance.is_zero(), "the debit is stored: {balance:?}");
    }
    let sold = "SELECT count(*) FROM items WHERE status = 'sold'";
    assert_eq!(count(&first.db.url, sold).await, BUYERS as i64);
    assert_audit_clean(next.store.as_ref()).await;
    next.shutdown().await.unwrap();
    first.db.remove().await;
}

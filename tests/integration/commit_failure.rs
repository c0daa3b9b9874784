//! The database goes away mid-batch (its connections are terminated, again and again, under
//! load): no caller is told success for a change that is not stored, and the engine recovers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use warung::checkout::CheckoutError;
use warung::checkout::OrderState;
use warung_actors::domain::{Money, ProductCode};

use crate::helpers::*;

/// Buyers in one storm: they arrive over about a second and a half while the cuts land.
const BUYERS: usize = 3_000;
/// How many storms at most, until the cuts have landed on a write under way. Whether a cut
/// finds a statement running is chance (a connection cut while idle is replaced unnoticed, as it
/// should be), and one storm of a slow CI run once caught none.
const STORMS_MAX: usize = 4;
/// Enough for every buyer of every storm: were the sale to sell out before the last cuts land,
/// they would hit nothing (seen once in about a dozen runs).
const ITEMS: usize = BUYERS * STORMS_MAX;
/// Journal connections cut while they write a batch, in each storm.
const TERMINATIONS_MID_BATCH: usize = 4;
/// Cuts of every connection to the database in each storm, this far apart.
const CUTS_OF_EVERY_CONNECTION: usize = 3;
const CUTS_OF_EVERY_APART: Duration = Duration::from_millis(150);

/// On Postgres's two journals: the tables, and the log (where the cuts also land on the
/// projector's connection: every connection to the database is cut).
mod terminated_connections_never_turn_into_false_successes {
    #[actix_rt::test]
    async fn on_postgres() {
        super::terminated_connections_never_turn_into_false_successes(crate::helpers::Backend::Postgres).await
    }

    #[actix_rt::test]
    async fn on_postgres_log() {
        super::terminated_connections_never_turn_into_false_successes(crate::helpers::Backend::PostgresLog).await
    }
}

async fn terminated_connections_never_turn_into_false_successes(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    let product = product_with_items(&engine, "hot", 1_000, ITEMS).await;
    let (mut results, mut landed, mut storms) = (Vec::new(), false, 0);
    while storms < STORMS_MAX && !landed {
        let (bought, failed_batches) = storm(&engine, &product, storms).await;
        landed = failed_batches > 0 || bought.iter().any(|r| matches!(r, Err(CheckoutError::Unavailable(_))));
        results.extend(bought);
        storms += 1;
    }
    let acknowledged: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let refused_unavailable = results.iter().filter(|r| matches!(r, Err(CheckoutError::Unavailable(_)))).count();
    let failed_batches = engine.lanes.journal_stats().batches_failed.load(Ordering::Relaxed);
    eprintln!(
        "{storms} storms: acknowledged {}, refused as unavailable {refused_unavailable}, failed batches {failed_batches}",
        acknowledged.len()
    );
    assert!(landed, "the database really went away under load");
    assert!(!acknowledged.is_empty(), "some purchases succeeded between the failures");
    for r in &results {
        if let Err(error) = r {
            assert!(matches!(error, CheckoutError::Unavailable(_) | CheckoutError::Product(_)), "unexpected {error:?}");
        }
    }

    // Flows cut short are settled by the periodic sweep; run it now rather than wait for it.
    engine.checkout.sweep_stale_pending(0).await.unwrap();
    engine.lanes.flush().await.unwrap();
    for purchase in &acknowledged {
        let order = engine.store.order(&purchase.order).await.unwrap().expect("an acknowledged order is stored");
        assert_eq!(order.state, OrderState::Paid);
        assert_eq!(engine.store.delivered_items(&purchase.order).await.unwrap(), purchase.items);
    }
    assert_audit_clean(engine.store.as_ref()).await;

    // The database is back: the engine serves again (with fresh stock: the sale may have sold out).
    let restock = warung_actors::product::ProductCommand::Restock {
        reference: reference("after-the-storm"),
        stock: warung_actors::product::Restock::Items(vec![warung_actors::domain::ItemSecret::parse("fresh").unwrap()]),
        actor: "test".into(),
    };
    engine.lanes.product(&product, restock).await.unwrap().unwrap();
    fund(&engine, "after", 1_000).await;
    let after = customer("after");
    retry_busy(|| engine.checkout.buy_with_saldo(&after, &product, 1)).await.expect("purchases work again");
    engine.finish().await;
}

type Bought = Result<warung::checkout::Purchase, CheckoutError>;

/// `BUYERS` new buyers, funded, buy one each while the database's connections are cut: the
/// journal's while they write (found by polling), then every connection, reads included. Returns
/// what each was told, and how many of the journal's batches failed meanwhile (the funding's
/// are not counted: a cut must land under the sale).
async fn storm(engine: &TestEngine, product: &ProductCode, storm: usize) -> (Vec<Bought>, u64) {
    let failed_batches = || engine.lanes.journal_stats().batches_failed.load(Ordering::Relaxed);
    let names: Vec<String> = (0..BUYERS).map(|b| format!("buyer{storm}x{b}")).collect();
    join_all(names.iter().map(|name| fund_through_cuts(engine, name))).await;
    let failed_before = failed_batches();
    let sale_over = Arc::new(AtomicBool::new(false));
    let terminator = std::thread::spawn({
        let (database, sale_over) = (engine.db.name.clone(), sale_over.clone());
        move || terminate_until(&database, &sale_over)
    });
    let bought = join_all(names.iter().enumerate().map(|(b, name)| {
        let product = product.clone();
        async move {
            // Buyers arrive over about a second and a half, so the terminations land mid-sale.
            tokio::time::sleep(Duration::from_micros(500 * b as u64)).await;
            let buyer = customer(name);
            retry_busy(|| engine.checkout.buy_with_saldo(&buyer, &product, 1)).await
        }
    }))
    .await;
    sale_over.store(true, Ordering::Relaxed);
    terminator.join().expect("the terminator's thread");
    (bought, failed_batches() - failed_before)
}

/// Cuts `database`'s connections until the sale is over: the journal's while they write (found
/// by polling), then every connection, reads included. On a thread of its own, as a DBA's session
/// would be: on the test's thread, busy with the sale, its first query once came back only after
/// the sale had ended.
fn terminate_until(database: &str, sale_over: &AtomicBool) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let admin = sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await.unwrap();
        let (mut cut_mid_batch, mut cuts_of_every) = (0, 0);
        let mut last_cut_of_every = std::time::Instant::now();
        while !sale_over.load(Ordering::Relaxed) {
            if cuts_of_every < CUTS_OF_EVERY_CONNECTION && last_cut_of_every.elapsed() >= CUTS_OF_EVERY_APART {
                // Each cut finds the connections opened since the last.
                cut_every_connection_by(&admin, database).await;
                (cuts_of_every, last_cut_of_every) = (cuts_of_every + 1, std::time::Instant::now());
                continue;
            }
            if cut_mid_batch == TERMINATIONS_MID_BATCH {
                tokio::time::sleep(Duration::from_millis(1)).await;
                continue;
            }
            let cut: Vec<(bool,)> = sqlx::query_as(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = $1 AND application_name = $2 AND state = 'active'",
            )
            .bind(database)
            .bind(warung::store::JOURNAL_APPLICATION_NAME)
            .fetch_all(&admin)
            .await
            .unwrap();
            if cut.is_empty() {
                tokio::time::sleep(Duration::from_micros(200)).await;
            } else {
                cut_mid_batch += 1;
                // The journal reconnects and the sale goes on before the next cut, so each cut
                // lands on a batch of its own.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        admin.close().await;
    });
}

/// Tops up `name` with 1,000, again as long as the store says "not stored, try again": the last
/// storm's final cuts may have left the journal a connection that fails once more. The payment's
/// reference makes a top-up tried twice count once.
async fn fund_through_cuts(engine: &TestEngine, name: &str) {
    const ATTEMPTS_MAX: usize = 20;
    let (buyer, payment) = (customer(name), reference(&format!("fund-{name}")));
    for attempt in 1.. {
        match engine.checkout.top_up(&buyer, &payment, Money::rupiah(1_000)).await {
            Ok(_) => return,
            Err(CheckoutError::Unavailable(_)) if attempt < ATTEMPTS_MAX => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(error) => panic!("funding {name}: {error}"),
        }
    }
}

/// Longer than the journal's idle limit before it pings a connection (`WRITE_PING_AFTER_IDLE_MS`);
/// the read pool pings before every use.
const QUIET_MS: u64 = 1_500;

#[actix_rt::test]
async fn a_database_restart_while_the_shop_is_quiet_fails_no_purchase() {
    let engine = TestEngine::start(Backend::Postgres).await;
    let product = product_with_items(&engine, "quiet", 1_000, 2).await;
    fund(&engine, "early", 1_000).await;
    engine.lanes.flush().await.unwrap();

    // The shop is quiet; meanwhile every connection is cut, as a restart would. A real wait: sqlx
    // measures a connection's idleness with std's clock, which paused time does not move.
    tokio::time::sleep(Duration::from_millis(QUIET_MS)).await;
    let cut = cut_every_connection(&engine.db.name).await;
    assert!(cut >= 2, "the reads and the journal had connections to cut");

    // A new customer: loading the wallet reads, the top-up and the sale write.
    let late = customer("late");
    let top_up = engine.checkout.top_up(&late, &reference("late-fund"), Money::rupiah(1_000)).await;
    assert!(top_up.is_ok(), "the first top-up after the restart succeeds: {top_up:?}");
    let purchase = engine.checkout.buy_with_saldo(&late, &product, 1).await;
    assert!(purchase.is_ok(), "the first purchase after the restart succeeds: {purchase:?}");
    engine.finish().await;
}

/// Refuses, while it exists, every order row that leaves `pending`: a sale's stock commit and
/// the refund of its debit fail, while the debit itself (stored with a pending order) succeeds.
/// The refusal is a check violation, as a constraint's would be: the journal then commits the
/// refused batch's submissions one by one, so the debit is stored even when it rode in one batch
/// with the sale's commit (as it does with the journal idle: nobody waits for the debit).
const REFUSE_SETTLING: &str = "
    CREATE FUNCTION refuse_settling() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'settling refused by the test' USING ERRCODE = 'check_violation'; END $$;
    CREATE TRIGGER refuse_settling BEFORE INSERT OR UPDATE ON orders
        FOR EACH ROW WHEN (NEW.state <> 'pending') EXECUTE FUNCTION refuse_settling();";

/// The balance the database holds for a customer, whatever the wallet actor has in memory.
async fn stored_balance(database: &sqlx::PgPool, who: &str) -> rust_decimal::Decimal {
    let (balance,) =
        sqlx::query_as("SELECT balance FROM customers WHERE id = $1").bind(who).fetch_one(database).await.unwrap();
    balance
}

/// Buys as a customer would: an answer of "try again" (the actors reloading after a failed
/// commit) is tried again, for up to 5 s.
async fn buy_as_a_customer(
    engine: &warung::engine::Engine,
    who: &warung_actors::domain::CustomerId,
    product: &warung_actors::domain::ProductCode,
) -> Result<warung::checkout::Purchase, CheckoutError> {
    for _ in 0..500 {
        match engine.checkout.buy_with_saldo(who, product, 1).await {
            Err(CheckoutError::Unavailable(_)) => tokio::time::sleep(Duration::from_millis(10)).await,
            answer => return answer,
        }
    }
    panic!("still told to try again after 5 s");
}

#[actix_rt::test]
async fn a_retry_after_a_half_done_purchase_gets_its_money_back_first() {
    let engine = TestEngine::start_with(Backend::Postgres, |s| s.engine.journal_batch_window_micros = 0).await;
    let product = product_with_items(&engine, "kopi", 1_000, 3).await;
    fund(&engine, "ani", 1_000).await;
    let ani = customer("ani");
    let database = sqlx::PgPool::connect(&engine.db.url).await.unwrap();
    sqlx::raw_sql(REFUSE_SETTLING).execute(&database).await.unwrap();

    let first = engine.checkout.buy_with_saldo(&ani, &product, 1).await;
    assert!(matches!(first, Err(CheckoutError::Unavailable(_))), "the sale could not be stored: {first:?}");
    let pending: Vec<_> = engine.store.open_orders().await.unwrap();
    assert_eq!(pending.len(), 1, "the debit and its pending order are stored, the refund is not");
    let stored = stored_balance(&database, "ani").await;
    assert!(stored.is_zero(), "the debit is stored and not refunded: {stored}");

    // Still refused: the customer is told their earlier purchase is being settled, not that
    // they are short of money.
    let second = buy_as_a_customer(&engine, &ani, &product).await;
    assert_eq!(second.unwrap_err(), CheckoutError::EarlierPurchaseUnsettled { order: pending[0].id.clone() });

    // The database takes changes again: the next attempt refunds the earlier debit first, at
    // once rather than at the next sweep, and buys with it.
    sqlx::raw_sql("DROP TRIGGER refuse_settling ON orders").execute(&database).await.unwrap();
    database.close().await;
    let third = buy_as_a_customer(&engine, &ani, &product).await;
    let bought = third.expect("the earlier debit was refunded before this purchase");
    assert_eq!(bought.balance.available, Money::ZERO);
    let earlier = engine.store.order(&pending[0].id).await.unwrap().unwrap();
    assert_eq!(earlier.state, OrderState::Failed);
    assert!(engine.store.open_orders().await.unwrap().is_empty());
    engine.finish().await;
}

/// A cluster node recovers a shard it acquires while the shard already serves: an order changed
/// since the cut-off may be a purchase still running (here, or finishing on the last owner), so
/// recovery leaves it to the sweeps, and settles the older ones.
#[actix_rt::test]
async fn recovery_leaves_orders_changed_after_its_cut_off_to_the_sweeps() {
    let engine = TestEngine::start_with(Backend::Postgres, |s| s.engine.journal_batch_window_micros = 0).await;
    let product = product_with_items(&engine, "kopi", 1_000, 3).await;
    fund(&engine, "ani", 1_000).await;
    let database = sqlx::PgPool::connect(&engine.db.url).await.unwrap();
    sqlx::raw_sql(REFUSE_SETTLING).execute(&database).await.unwrap();
    let half_done = engine.checkout.buy_with_saldo(&customer("ani"), &product, 1).await;
    assert!(half_done.is_err(), "the sale could not be stored: {half_done:?}");
    sqlx::raw_sql("DROP TRIGGER refuse_settling ON orders").execute(&database).await.unwrap();
    database.close().await;
    let pending = engine.store.open_orders().await.unwrap().pop().expect("the pending order is stored");

    let everything = warung::cluster::Scope::Everything;
    let young = engine.checkout.recover_in(&everything, pending.updated_at).await.unwrap();
    assert_eq!((young.compensated, young.left_for_later), (0, 1), "{young:?}");
    assert_eq!(engine.store.order(&pending.id).await.unwrap().unwrap().state, OrderState::Pending);

    let old = engine.checkout.recover_in(&everything, pending.updated_at + 1).await.unwrap();
    assert_eq!(old.compensated, 1, "{old:?}");
    assert_eq!(engine.store.order(&pending.id).await.unwrap().unwrap().state, OrderState::Failed);
    engine.finish().await;
}

/// Refuses every order row while it exists: a sale's debit (stored with its pending order) fails,
/// so the purchase takes no money, and its failed state cannot be stored either.
const REFUSE_ORDERS: &str = "
    CREATE FUNCTION refuse_orders() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'orders refused by the test'; END $$;
    CREATE TRIGGER refuse_orders BEFORE INSERT OR UPDATE ON orders
        FOR EACH ROW EXECUTE FUNCTION refuse_orders();";

#[actix_rt::test]
async fn a_failed_purchase_that_took_no_money_is_not_blamed_for_a_short_balance() {
    let engine = TestEngine::start(Backend::Postgres).await;
    let small = product_with_items(&engine, "teh", 1_000, 1).await;
    let large = product_with_items(&engine, "kopi", 2_000, 1).await;
    fund(&engine, "budi", 1_000).await;
    let budi = customer("budi");
    let database = sqlx::PgPool::connect(&engine.db.url).await.unwrap();
    sqlx::raw_sql(REFUSE_ORDERS).execute(&database).await.unwrap();

    let first = engine.checkout.buy_with_saldo(&budi, &small, 1).await;
    assert!(matches!(first, Err(CheckoutError::Unavailable(_))), "the sale could not be stored: {first:?}");
    let stored = stored_balance(&database, "budi").await;
    assert_eq!(stored, 1_000.into(), "no debit was stored");

    // Until the actors have reloaded, the earlier purchase may still look as if it held money;
    // once they have, a purchase the balance cannot pay is refused for what it is.
    let mut answer = None;
    for _ in 0..500 {
        match buy_as_a_customer(&engine, &budi, &large).await {
            Err(CheckoutError::EarlierPurchaseUnsettled { .. }) => tokio::time::sleep(Duration::from_millis(10)).await,
            other => {
                answer = Some(other);
                break;
            }
        }
    }
    let refusal = answer.expect("still told the earlier purchase holds money after 5 s").unwrap_err();
    assert_eq!(
        refusal,
        CheckoutError::InsufficientBalance { available: Money::rupiah(1_000), required: Money::rupiah(2_000) }
    );
    sqlx::raw_sql("DROP TRIGGER refuse_orders ON orders").execute(&database).await.unwrap();
    database.close().await;
    engine.finish().await;
}

#[actix_rt::test]
async fn a_purchase_whose_commit_answer_was_lost_is_answered_from_what_was_stored() {
    let db = TestDb::new(Backend::Postgres).await;
    let (proxy, url) = crate::cut_proxy::CutProxy::start(&db.name).await;
    let engine = TestEngine::on(db, |s| s.database.url = url.into()).await;
    let product = product_with_items(&engine, "viu", 1_000, 1).await;
    fund(&engine, "6287000", 1_000).await;
    engine.lanes.flush().await.unwrap();

    // The sale's batch (its order is stored as paid) reaches Postgres and commits; its answer
    // never comes back.
    proxy.arm(b"paid");
    let bought = engine.checkout.buy_with_saldo(&customer("6287000"), &product, 1).await;
    assert!(proxy.has_cut(), "the commit's answer was lost");
    let purchase = bought.expect("the sale is stored, so the customer is told so, with the items");
    assert_eq!(purchase.items, [warung_actors::domain::ItemSecret::parse("viu-item-0").unwrap()]);
    let order = engine.store.order(&purchase.order).await.unwrap().unwrap();
    assert_eq!(order.state, OrderState::Paid);
    assert_eq!(engine.checkout.balance(&customer("6287000")).await.unwrap().balance, Money::ZERO);
    engine.finish().await;
}

//! One process writes a database's journal unless it is a cluster's node, on the log or on the
//! tables: a second is refused at start. On Postgres the writer lock goes with its connection:
//! the first process takes it again once it is lost, but a second process that starts before it
//! does (after a restart of Postgres) serves, and the first, its pools reconnected, must then
//! store nothing more (`store::lone_writer`).

use warung::store::StoreError;
use warung_actors::domain::Money;

use crate::helpers::*;

/// Tries of a top-up while the first process's pools connect again after the cut.
const RECONNECT_TRIES_MAX: usize = 50;

/// How often the first process looks at its writer lock where a test wants it back soon.
const LOCK_CHECK_MS_SOON: u64 = 50;

/// Looks at the writer lock, at most, while a test waits for the first process to take it again.
const LOCK_RETAKE_LOOKS_MAX: usize = 100;

#[actix_rt::test]
async fn a_second_process_is_refused_while_the_first_writes_the_journal() {
    for backend in [Backend::Postgres, Backend::PostgresLog, Backend::Sqlite, Backend::SqliteLog] {
        let first = TestEngine::start(backend).await;
        let second = warung::startup::start_engine(first.engine.settings.clone()).await;
        let refused = second.as_ref().err().and_then(|error| error.downcast_ref::<StoreError>());
        assert!(
            matches!(refused, Some(StoreError::JournalHasAnotherWriter)),
            "{backend:?}: one process writes a journal; the second got {:?}",
            second.err()
        );
        // What only reads, or migrates, opens beside it.
        let reader = first.db.store().await;
        assert_audit_clean(reader.as_ref()).await;
        reader.close().await;
        first.finish().await;
    }
}

#[actix_rt::test]
async fn a_process_on_the_log_that_lost_its_writer_lock_stores_nothing_once_another_has_started() {
    a_process_that_lost_its_writer_lock_stores_nothing_once_another_has_started(Backend::PostgresLog).await;
}

#[actix_rt::test]
async fn a_process_on_the_tables_that_lost_its_writer_lock_stores_nothing_once_another_has_started() {
    a_process_that_lost_its_writer_lock_stores_nothing_once_another_has_started(Backend::Postgres).await;
}

async fn a_process_that_lost_its_writer_lock_stores_nothing_once_another_has_started(backend: Backend) {
    // The second process must start before the first takes its lock again.
    let seldom =
        |s: &mut warung::settings::Settings| s.database.writer_lock_check_ms = warung::store::WRITER_LOCK_CHECK_MS_MAX;
    let first = TestEngine::start_with(backend, seldom).await;
    let who = customer("6281200000001");
    first.checkout.top_up(&who, &reference("before-the-cut"), Money::rupiah(10_000)).await.unwrap();
    let product = product_with_items(&first, "voucher", 1_000, 2).await;

    // As a restart of Postgres would: the writer lock goes with its connection, and the first
    // process's pools connect again on their next use.
    assert!(cut_every_connection(&first.db.name).await > 0);
    let mut tries = 0;
    while let Err(error) = first.checkout.top_up(&who, &reference("after-the-cut"), Money::rupiah(1_000)).await {
        tries += 1;
        assert!(tries < RECONNECT_TRIES_MAX, "the first process never stored again alone: {error}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let second = warung::startup::start_engine(first.engine.settings.clone()).await.unwrap();

    // A purchase's batch is one statement, a top-up's (it carries a payment) a transaction: both
    // are refused.
    let late_sale = first.checkout.buy_with_saldo(&who, &product, 1).await;
    assert!(late_sale.is_err(), "the first process must not sell beside the second: {late_sale:?}");
    let late = first.checkout.top_up(&who, &reference("after-the-second"), Money::rupiah(5_000)).await;
    assert!(late.is_err(), "the first process must not store beside the second: {late:?}");
    let fence = first.store.cluster_access().expect("on Postgres").fence;
    assert!(fence.is_tripped(), "and it knows it must stop");

    let balance = second.checkout.balance(&who).await.unwrap();
    assert_eq!(balance.balance, Money::rupiah(11_000), "what was stored before the second started, and no more");
    assert!(second.store.payment(&reference("after-the-second")).await.unwrap().is_none());
    second.checkout.top_up(&who, &reference("on-the-second"), Money::rupiah(2_000)).await.unwrap();
    let sold = second.checkout.buy_with_saldo(&who, &product, 1).await.unwrap();
    assert_eq!(sold.balance.balance, Money::rupiah(12_000), "the second process sells from what was stored");
    assert_audit_clean(second.store.as_ref()).await;
    second.shutdown().await.unwrap();
    drop(first);
}

#[actix_rt::test]
async fn a_process_that_lost_its_writer_lock_takes_it_again_and_a_second_is_then_refused() {
    for backend in [Backend::PostgresLog, Backend::Postgres] {
        let soon = |s: &mut warung::settings::Settings| s.database.writer_lock_check_ms = LOCK_CHECK_MS_SOON;
        let first = TestEngine::start_with(backend, soon).await;
        let who = customer("6281200000002");
        first.checkout.top_up(&who, &reference("before-the-cut"), Money::rupiah(10_000)).await.unwrap();

        let admin = sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await.unwrap();
        let cut = advisory_lock_holders(&admin, &first.db.name).await;
        assert_eq!(cut.len(), 1, "{backend:?}: the writer lock");
        assert!(cut_every_connection_by(&admin, &first.db.name).await > 0);
        // Terminating a backend only signals it: until it has exited it still holds the lock, so
        // the lock counts as taken again only once a backend other than the one cut holds it.
        let mut looks = 0;
        while advisory_lock_holders(&admin, &first.db.name).await.iter().all(|pid| cut.contains(pid)) {
            looks += 1;
            assert!(looks < LOCK_RETAKE_LOOKS_MAX, "{backend:?}: the first process never took its writer lock again");
            tokio::time::sleep(std::time::Duration::from_millis(LOCK_CHECK_MS_SOON)).await;
        }
        admin.close().await;

        let second = warung::startup::start_engine(first.engine.settings.clone()).await;
        let refused = second.as_ref().err().and_then(|error| error.downcast_ref::<StoreError>());
        assert!(
            matches!(refused, Some(StoreError::JournalHasAnotherWriter)),
            "{backend:?}: the lock was taken again, so a second process is refused; it got {:?}",
            second.err()
        );
        let mut tries = 0;
        while let Err(error) = first.checkout.top_up(&who, &reference("after-the-cut"), Money::rupiah(1_000)).await {
            tries += 1;
            assert!(tries < RECONNECT_TRIES_MAX, "{backend:?}: the first process never stored again: {error}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(first.checkout.balance(&who).await.unwrap().balance, Money::rupiah(11_000));
        assert_audit_clean(first.store.as_ref()).await;
        first.finish().await;
    }
}

/// Advisory locks granted on `database`: the writer lock is the only one a test's process takes.
/// The backends holding an advisory lock in `database`.
async fn advisory_lock_holders(admin: &sqlx::PgPool, database: &str) -> Vec<i32> {
    sqlx::query_scalar(
        "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
         WHERE l.locktype = 'advisory' AND l.granted AND d.datname = $1",
    )
    .bind(database)
    .fetch_all(admin)
    .await
    .unwrap()
}

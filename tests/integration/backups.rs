//! The restore drill: sell, back up while selling, restore into a fresh store; the restored store
//! passes the audit and holds the balances and sales as of the snapshot. Also the commands as an
//! operator runs them.

use std::collections::HashMap;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use warung::backup::{restore, take, RestoreInto};
use warung::checkout::OrderState;
use warung::settings::SecretUrl;
use warung::store::admin::OrderFilter;
use warung_actors::domain::Money;

use crate::helpers::*;

const BUYERS: usize = 300;
const PRICE: u64 = 1_000;
const FUNDS: u64 = 5_000;

async fn a_backup_taken_while_selling_restores_to_the_moment_it_was_taken(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    let product = product_with_items(&engine, "drill", PRICE, BUYERS).await;
    let names: Vec<String> = (0..BUYERS).map(|i| format!("62811000{i:04}")).collect();
    fund_all(&engine, &names, FUNDS).await;

    let sold = Arc::new(AtomicUsize::new(0));
    let selling = {
        let (engine, product, sold, names) = (engine.engine.clone(), product.clone(), sold.clone(), names.clone());
        actix_rt::spawn(async move {
            let buys = names.into_iter().map(|name| {
                let (engine, product, sold) = (engine.clone(), product.clone(), sold.clone());
                async move {
                    let who = customer(&name);
                    retry_busy(|| engine.checkout.buy_with_saldo(&who, &product, 1)).await.unwrap();
                    sold.fetch_add(1, Ordering::Relaxed);
                    // Paced, so the sale is still going on while pg_dump or VACUUM INTO runs.
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            });
            futures::stream::iter(buys).buffer_unordered(4).collect::<Vec<_>>().await;
        })
    };
    while sold.load(Ordering::Relaxed) < BUYERS / 10 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let sold_before = sold.load(Ordering::Relaxed);
    let snapshot = take(&SecretUrl::new(engine.db.url.clone()), dir.path()).await.unwrap();
    let sold_after = sold.load(Ordering::Relaxed);
    selling.await.unwrap();
    assert!(snapshot.path.file_name().unwrap().to_string_lossy().starts_with("warung-20"), "{snapshot:?}");
    let live_paid = paid_orders(&engine).await;
    assert_eq!(live_paid.len(), BUYERS);

    let fresh = TestDb::new(backend).await;
    restore(&snapshot.path, &SecretUrl::new(fresh.url.clone()), RestoreInto::Fresh).await.unwrap();
    let restored = TestEngine::on(fresh, |_| {}).await;
    assert_audit_clean(restored.store.as_ref()).await;

    let restored_paid = paid_orders(&restored).await;
    assert!(
        (sold_before..=sold_after).contains(&restored_paid.len()),
        "the snapshot holds the sales made by its moment: {sold_before} <= {} <= {sold_after}",
        restored_paid.len()
    );
    assert!(sold_after < BUYERS, "the backup was taken while the sale went on");
    let drill = restored.lanes.product_snapshot(&product).await.unwrap();
    assert_eq!((drill.sold as usize, drill.available as usize), (restored_paid.len(), BUYERS - restored_paid.len()));
    for (order, buyer) in &restored_paid {
        assert_eq!(live_paid.get(order), Some(buyer), "order {order} is the live store's, for the same buyer");
    }
    for name in &names {
        let who = customer(name);
        let bought = restored_paid.values().filter(|buyer| **buyer == who.to_string()).count() as u64;
        let balance = restored.lanes.wallet_balance(&who).await.unwrap();
        assert_eq!(balance.balance, Money::rupiah(FUNDS - PRICE * bought), "{name}'s balance as of the snapshot");
    }
    restored.finish().await;
    engine.finish().await;
}

/// Paid orders by id, with their buyer.
async fn paid_orders(engine: &TestEngine) -> HashMap<String, String> {
    let filter =
        OrderFilter { state: Some(OrderState::Paid.as_str().to_string()), limit: 10_000, ..Default::default() };
    let orders = engine.store.list_orders(&filter).await.unwrap();
    orders.into_iter().map(|o| (o.id.to_string(), o.customer.to_string())).collect()
}

#[actix_rt::test]
async fn a_sqlite_backup_taken_while_selling_restores_to_the_moment_it_was_taken() {
    a_backup_taken_while_selling_restores_to_the_moment_it_was_taken(Backend::Sqlite).await;
}

#[actix_rt::test]
async fn a_postgres_backup_taken_while_selling_restores_to_the_moment_it_was_taken() {
    a_backup_taken_while_selling_restores_to_the_moment_it_was_taken(Backend::Postgres).await;
}

async fn the_backup_and_restore_commands_refuse_to_overwrite_a_store(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    fund(&engine, "6281299990000", 25_000).await;
    let db = engine.stop().await;
    let dir = tempfile::tempdir().unwrap();
    let warung = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_warung")).args(args).output().unwrap();

    let backup = warung(&["backup", "--database-url", &db.url, "--to", dir.path().to_str().unwrap()]);
    assert!(backup.status.success(), "{}", String::from_utf8_lossy(&backup.stderr));
    let backups = warung::backup::backups_in(dir.path()).unwrap();
    assert_eq!(backups.len(), 1);
    let file = backups[0].1.to_str().unwrap().to_string();

    let fresh = TestDb::new(backend).await;
    let restored = warung(&["restore", &file, "--database-url", &fresh.url]);
    let said = String::from_utf8_lossy(&restored.stdout);
    assert!(restored.status.success(), "{said}{}", String::from_utf8_lossy(&restored.stderr));
    assert!(said.contains("restored into"), "{said}");

    let again = warung(&["restore", &file, "--database-url", &fresh.url]);
    let error = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success() && error.contains("not empty") && error.contains("--force"), "{error}");
    let forced = warung(&["restore", &file, "--database-url", &fresh.url, "--force"]);
    assert!(forced.status.success(), "{}", String::from_utf8_lossy(&forced.stderr));

    let restored = TestEngine::on(fresh, |_| {}).await;
    let balance = restored.lanes.wallet_balance(&customer("6281299990000")).await.unwrap();
    assert_eq!(balance.balance, Money::rupiah(25_000));
    restored.finish().await;
    db.remove().await;
}

#[actix_rt::test]
async fn the_sqlite_backup_and_restore_commands_refuse_to_overwrite_a_store() {
    the_backup_and_restore_commands_refuse_to_overwrite_a_store(Backend::Sqlite).await;
}

#[actix_rt::test]
async fn the_postgres_backup_and_restore_commands_refuse_to_overwrite_a_store() {
    the_backup_and_restore_commands_refuse_to_overwrite_a_store(Backend::Postgres).await;
}

#[actix_rt::test]
async fn a_backup_cannot_be_restored_into_the_other_kind_of_store() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("warung-20261202T000000Z.pgdump");
    std::fs::write(&file, "not really").unwrap();
    let error = restore(&file, &SecretUrl::new("sqlite://x.db"), RestoreInto::Fresh).await.unwrap_err();
    assert!(error.to_string().contains("Postgres backup into Postgres"), "{error}");
    let other = dir.path().join("notes.txt");
    std::fs::write(&other, "x").unwrap();
    assert!(restore(&other, &SecretUrl::new("sqlite://x.db"), RestoreInto::Fresh).await.is_err());
}

#[actix_rt::test]
async fn serve_takes_a_backup_at_once_when_none_is_recent_and_keeps_the_newest() {
    let db = TestDb::new(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    for old in ["warung-20200101T000000Z.db", "warung-20200102T000000Z.db"] {
        std::fs::write(dir.path().join(old), "old").unwrap();
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_warung"))
        .args(["serve", "--database-url", &db.url])
        .env("WARUNG_HTTP__BIND", format!("127.0.0.1:{port}"))
        .env("WARUNG_HTTP__OPS_BIND", "127.0.0.1:0")
        .env("WARUNG_BACKUP__DIR", dir.path())
        .env("WARUNG_BACKUP__KEEP", "2")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let newest = loop {
        let backups = warung::backup::backups_in(dir.path()).unwrap();
        if let Some((_, path)) = backups.last().filter(|(_, p)| !p.to_string_lossy().contains("2020")) {
            if backups.len() == 2 {
                break path.clone();
            }
        }
        assert!(std::time::Instant::now() < deadline, "no backup from serve: {backups:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let _ = child.kill();
    let _ = child.wait();
    let left = warung::backup::backups_in(dir.path()).unwrap();
    assert_eq!(left.len(), 2, "the newest two are kept: {left:?}");
    assert!(!dir.path().join("warung-20200101T000000Z.db").exists(), "the oldest is removed");
    let restored = TestDb::new(Backend::Sqlite).await;
    restore(&newest, &SecretUrl::new(restored.url.clone()), RestoreInto::Fresh).await.unwrap();
    assert_audit_clean(restored.store().await.as_ref()).await;
}

//! `warung catalog import` and `warung audit`, through the library and the real binary.

use std::process::Command;

use warung::checkout::{IncomingPayment, Purpose};
use warung_actors::domain::Money;

use crate::helpers::*;

async fn a_catalog_imports_once_and_refuses_duplicate_items(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("catalog.json");
    std::fs::write(
        &json,
        r#"{"products": [{"code": "VIU1B", "name": "Viu", "price": "15000", "items": ["a1", "a2"]},
                                           {"code": "pulsa5", "name": "Pulsa 5k", "price": 6000, "count": 10}]}"#,
    )
    .unwrap();
    let report = engine.catalog.import(warung::catalog::parse(&json).unwrap()).await.unwrap();
    assert_eq!((report.created, report.units_added), (2, 12));
    let again = engine.catalog.import(warung::catalog::parse(&json).unwrap()).await.unwrap();
    assert_eq!((again.created, again.units_added, again.unchanged), (0, 0, 2), "importing twice changes nothing");

    let toml = dir.path().join("more.toml");
    std::fs::write(
        &toml,
        "[[products]]\ncode = \"viu1b\"\nname = \"Viu\"\nprice = \"16000\"\nitems = [\"a3\", \"a1\"]\n",
    )
    .unwrap();
    let refused = engine.catalog.import(warung::catalog::parse(&toml).unwrap()).await.unwrap_err();
    assert!(refused.to_string().contains("already in stock"), "{refused}");
    let viu = engine.lanes.product_snapshot(&code("viu1b")).await.unwrap();
    assert_eq!((viu.available, viu.price), (2, Money::rupiah(16_000)));

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"products": [{"code": "x y", "name": "n", "price": "1"}]}"#).unwrap();
    assert!(engine.catalog.import(warung::catalog::parse(&bad).unwrap()).await.is_err());
    engine.finish().await;
}

async fn the_audit_command_finds_a_tampered_balance(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    fund(&engine, "mallory", 10_000).await;
    let db = engine.stop().await;

    let audit =
        || Command::new(env!("CARGO_BIN_EXE_warung")).args(["audit", "--database-url", &db.url]).output().unwrap();
    let clean = audit();
    assert!(clean.status.success(), "{}", String::from_utf8_lossy(&clean.stdout));

    let store = db.store().await;
    let sql = if db.is_postgres() {
        "UPDATE customers SET balance = balance + 1"
    } else {
        "UPDATE customers SET balance = '10001'"
    };
    if db.is_postgres() {
        sqlx::query(sql).execute(&sqlx::PgPool::connect(&db.url).await.unwrap()).await.unwrap();
    } else {
        sqlx::query(sql).execute(&sqlx::SqlitePool::connect(&db.url).await.unwrap()).await.unwrap();
    }
    store.close().await;
    let dirty = audit();
    let report = String::from_utf8_lossy(&dirty.stdout);
    assert_eq!(dirty.status.code(), Some(1), "{report}");
    assert!(report.contains("ledger sums to"), "{report}");
    db.remove().await;
}

/// The audit is taken while top-ups by payment and purchases go on, by the engine and by a store
/// of its own on the database (as `warung audit` reads it beside a running shop): each report
/// is clean. Read table by table, a batch committed between two reads showed in one and not the
/// other (items sold against the products' counts, a payment against its credit).
async fn every_audit_taken_while_the_shop_sells_is_clean(backend: Backend) {
    const BUYERS: usize = 300;
    let engine = TestEngine::start(backend).await;
    let product = product_with_items(&engine, "viu", 15_000, BUYERS).await;
    let reader = engine.db.store().await;
    let load = {
        use futures::StreamExt;
        let (engine, product) = (engine.engine.clone(), product.clone());
        actix_rt::spawn(async move {
            let sales = (0..BUYERS).map(|i| {
                let (engine, product) = (engine.clone(), product.clone());
                async move {
                    let who = customer(&format!("62811{i:05}"));
                    let payment = IncomingPayment {
                        id: reference(&format!("pay-{i}")),
                        customer: who.clone(),
                        purpose: Purpose::TopUp,
                        amount: Money::rupiah(20_000),
                        actor: format!("payment:pay-{i}").into(),
                    };
                    retry_busy(|| engine.checkout.apply_payment(payment.clone())).await.unwrap();
                    retry_busy(|| engine.checkout.buy_with_saldo(&who, &product, 1)).await.unwrap();
                }
            });
            futures::stream::iter(sales).buffer_unordered(32).collect::<Vec<_>>().await;
        })
    };
    let mut audits = 0;
    while !load.is_finished() || audits < 4 {
        let store = if audits % 2 == 0 { reader.as_ref() } else { engine.store.as_ref() };
        let report = warung::audit::audit(store).await.unwrap();
        assert!(report.is_clean(), "audit {audits} during the sale: {report}");
        audits += 1;
    }
    load.await.unwrap();
    reader.close().await;
    engine.finish().await;
}

async fn a_product_code_is_created_once_even_by_two_callers_at_the_same_moment(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    let product = product_with_items(&engine, "viu1b", 15_000, 3).await;
    let kind = warung_actors::journal::StockKind::Items;
    let again = engine.catalog.create(&product, "Viu again", Money::rupiah(1_000), kind).await.unwrap();
    assert!(!again, "an existing code is not created again");
    let snapshot = engine.lanes.product_snapshot(&product).await.unwrap();
    assert_eq!((snapshot.available, snapshot.price), (3, Money::rupiah(15_000)), "and nothing of it changed");

    let fresh = code("netflix");
    let (a, b) = futures::join!(
        engine.catalog.create(&fresh, "Netflix", Money::rupiah(54_500), kind),
        engine.catalog.create(&fresh, "Netflix", Money::rupiah(54_500), kind),
    );
    assert_eq!(u8::from(a.unwrap()) + u8::from(b.unwrap()), 1, "exactly one of two racing creates wins");
    engine.finish().await;
}

on_both_backends!(
    a_catalog_imports_once_and_refuses_duplicate_items,
    the_audit_command_finds_a_tampered_balance,
    a_product_code_is_created_once_even_by_two_callers_at_the_same_moment,
    every_audit_taken_while_the_shop_sells_is_clean
);

//! Alerts to the admin numbers through the outbox, each deduplicated: stock sold out or low, an
//! order gone to review, a customer the refund watch flags, journal commits failing, the store
//! unreachable, Midtrans unreachable, a failing scheduled audit; and the daily summary.

use std::time::Duration;

use serde_json::json;
use warung::flows::alerts::{Alert, AlertKind, AlertWatch, Raised, WatchParts, ALERTS_PER_HOUR_MAX};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;
use crate::shop::*;
use crate::transfer_flows::{with_transfer, OWNER};

/// Everything the owner has been sent, once the shop is idle.
/// The daily summary's first line: it goes out at its hour of the day (WIB) whenever a test
/// happens to run then (from 21:00 by default, 14:00 UTC), so only its own test looks at it.
const DAILY_SUMMARY: &str = "Ringkasan harian";

/// What the owner was sent, besides the daily summary.
async fn owner_messages(shop: &Shop) -> Vec<String> {
    all_owner_messages(shop).await.into_iter().filter(|m| !m.starts_with(DAILY_SUMMARY)).collect()
}

async fn all_owner_messages(shop: &Shop) -> Vec<String> {
    shop.until_idle().await;
    shop.sent_to(OWNER).await.iter().map(text_of).collect()
}

/// A watch over the shop's parts, with the store-down alert after `store_down_ms`.
fn watch(shop: &Shop, store_down_ms: i64, audit: Option<u64>) -> AlertWatch {
    AlertWatch::new(WatchParts {
        alerts: shop.gateway.alerts.clone(),
        desk: shop.gateway.desk.clone(),
        lanes: shop.engine.lanes.clone(),
        counters: shop.gateway.counters.clone(),
        audit_every_hours: audit,
        store_down_alert_after_ms: store_down_ms,
    })
}

#[actix_rt::test]
async fn stock_sold_out_and_low_alert_the_admins_once_each() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::Accepting, |s| {
        with_transfer(s);
        s.shop.stock_alert_threshold = 2;
    })
    .await;
    product_with_items(&shop.engine, "viu", 15_000, 3).await;
    fund(&shop.engine, "6281300", 45_000).await;
    let watch = watch(&shop, 60_000, None);
    watch.look().await;
    assert!(owner_messages(&shop).await.is_empty(), "three left is not low");

    shop.ask("6281300", "beli viu", 1).await;
    watch.look().await;
    watch.look().await;
    let sent = owner_messages(&shop).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("tinggal 2"), "{sent:?}");

    shop.ask("6281300", "beli viu 2", 2).await;
    for _ in 0..5 {
        watch.look().await;
    }
    let sent = owner_messages(&shop).await;
    assert_eq!(sent.len(), 2, "one more, for sold out: {sent:?}");
    assert!(sent[1].contains("habis"), "{sent:?}");

    // A restart's watch does not raise the same alert again within its window.
    let after_restart = self::watch(&shop, 60_000, None);
    after_restart.look().await;
    assert_eq!(owner_messages(&shop).await.len(), 2);
    shop.finish().await;
}

#[actix_rt::test]
async fn a_storm_of_alerts_sends_at_most_the_hourly_budget_and_counts_the_rest() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::Accepting, with_transfer).await;
    let alerts = &shop.gateway.alerts;
    let mut queued = 0;
    for n in 0..1_000 {
        let alert = Alert { kind: AlertKind::LowStock, subject: format!("p{n}"), text: format!("alert {n}") };
        match alerts.raise(alert).await.unwrap() {
            Raised::Queued => queued += 1,
            Raised::HeldBack => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(queued, ALERTS_PER_HOUR_MAX);
    let again = Alert { kind: AlertKind::LowStock, subject: "p0".into(), text: "again".into() };
    assert_eq!(alerts.raise(again).await.unwrap(), Raised::Repeat);
    let summary = Alert { kind: AlertKind::DailySummary, subject: "2026-12-02".into(), text: "ringkasan".into() };
    assert_eq!(alerts.raise(summary).await.unwrap(), Raised::Queued, "the summary is not rate-limited");
    let sent = owner_messages(&shop).await;
    assert_eq!(sent.len(), ALERTS_PER_HOUR_MAX as usize + 1);
    assert!(sent.last().unwrap().contains("peringatan lain ditahan"), "the held back are counted: {sent:?}");
    shop.finish().await;
}

#[actix_rt::test]
async fn an_order_gone_to_review_and_a_flagged_customer_alert_once() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::Accepting, |s| {
        with_transfer(s);
        s.engine.transfer_ttl_secs = 1;
    })
    .await;
    product_with_items(&shop.engine, "viu", 15_000, 3).await;
    let watch = watch(&shop, 60_000, None);
    let mut notices = shop.engine.checkout.subscribe();
    shop.ask("6281301", "beli viu transfer", 1).await;
    let order = shop.charge_of_latest_order("6281301").await.order.unwrap();
    tokio::time::timeout(Duration::from_secs(10), notices.recv()).await.expect("expired").unwrap();
    shop.gateway.qris.sweep().await.unwrap();
    shop.ask(OWNER, &format!("lunas {order}"), 1).await;
    watch.look().await;
    watch.look().await;
    let sent = owner_messages(&shop).await;
    let reviews: Vec<_> = sent.iter().filter(|m| m.contains("perlu dicek")).collect();
    assert_eq!(reviews.len(), 1, "{sent:?}");
    assert!(reviews[0].contains(order.as_str()), "{reviews:?}");

    // A customer whose every paid order is refunded is flagged, once.
    fund(&shop.engine, "6281302", 15_000).await;
    shop.ask("6281302", "beli viu", 1).await;
    let bought = shop.engine.store.orders_of(&customer("6281302"), 1).await.unwrap().remove(0);
    let (status, _) =
        shop.admin("POST", format!("/orders/{}/refund", bought.id), Some(json!({"reason": "akun rusak"}))).await;
    assert_eq!(status, 200);
    // The refund watch reads every customer's orders, so it looks every few minutes: a new watch.
    let watch = self::watch(&shop, 60_000, None);
    watch.look().await;
    watch.look().await;
    let sent = owner_messages(&shop).await;
    let flagged: Vec<_> = sent.iter().filter(|m| m.contains("sering minta refund")).collect();
    assert_eq!(flagged.len(), 1, "{sent:?}");
    assert!(flagged[0].contains("6281302"), "{flagged:?}");
    shop.finish().await;
}

#[actix_rt::test]
async fn midtrans_unreachable_alerts_once() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::MidtransUnmounted, with_transfer).await;
    Mock::given(method("POST"))
        .and(path("/v2/charge"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&shop.midtrans)
        .await;
    product_with_items(&shop.engine, "viu", 15_000, 2).await;
    let watch = watch(&shop, 60_000, None);
    shop.ask("6281303", "beli viu qris", 1).await;
    watch.look().await;
    let midtrans = |sent: Vec<String>| sent.into_iter().filter(|m| m.contains("Midtrans")).count();
    assert_eq!(midtrans(owner_messages(&shop).await), 0, "one failed purchase is not an outage");
    for n in 2..=4 {
        shop.ask("6281303", "beli viu qris", n).await;
        watch.look().await;
    }

    let sent = owner_messages(&shop).await;
    let down: Vec<_> = sent.iter().filter(|m| m.contains("Midtrans")).collect();
    assert_eq!(down.len(), 1, "{sent:?}");
    shop.finish().await;
}

/// Refuses every order row while it exists: a sale cannot be stored.
const REFUSE_ORDERS: &str = "
    CREATE FUNCTION refuse_orders() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'orders refused by the test'; END $$;
    CREATE TRIGGER refuse_orders BEFORE INSERT OR UPDATE ON orders
        FOR EACH ROW EXECUTE FUNCTION refuse_orders();";

#[actix_rt::test]
async fn failing_journal_commits_and_an_unreachable_store_alert_the_admins() {
    let shop = spawn_shop_with(Backend::Postgres, StandIns::Accepting, with_transfer).await;
    let product = product_with_items(&shop.engine, "viu", 15_000, 2).await;
    fund(&shop.engine, "6281304", 30_000).await;
    let watch = watch(&shop, 0, None);
    let database = sqlx::PgPool::connect(&shop.db.url).await.unwrap();
    sqlx::raw_sql(REFUSE_ORDERS).execute(&database).await.unwrap();
    let refused = shop.engine.checkout.buy_with_saldo(&customer("6281304"), &product, 1).await;
    assert!(refused.is_err(), "{refused:?}");
    sqlx::raw_sql("DROP TRIGGER refuse_orders ON orders").execute(&database).await.unwrap();
    watch.look().await;
    watch.look().await;
    let sent = owner_messages(&shop).await;
    assert_eq!(sent.iter().filter(|m| m.contains("penyimpanan ke database gagal")).count(), 1, "{sent:?}");

    // No new connection, and the shop's connections cut: the store does not answer.
    let name = &shop.db.name;
    let admin = sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false")))
        .execute(&admin)
        .await
        .unwrap();
    database.close().await;
    let terminate = format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'");
    sqlx::raw_sql(sqlx::AssertSqlSafe(terminate)).execute(&admin).await.unwrap();
    watch.look().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true")))
        .execute(&admin)
        .await
        .unwrap();
    for _ in 0..50 {
        watch.look().await;
        if owner_messages(&shop).await.iter().any(|m| m.contains("Database tidak bisa dihubungi")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = owner_messages(&shop).await;
    assert_eq!(sent.iter().filter(|m| m.contains("Database tidak bisa dihubungi")).count(), 1, "{sent:?}");
    admin.close().await;
    shop.finish().await;
}

#[actix_rt::test]
async fn the_daily_summary_goes_out_once_a_day_at_its_hour() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::Accepting, |s| {
        with_transfer(s);
        s.shop.daily_summary_hour = 0;
    })
    .await;
    product_with_items(&shop.engine, "viu", 15_000, 5).await;
    fund(&shop.engine, "6281305", 15_000).await;
    shop.ask("6281305", "beli viu", 1).await;
    let watch = watch(&shop, 60_000, None);
    watch.look().await;
    watch.look().await;
    let summaries: Vec<_> =
        all_owner_messages(&shop).await.into_iter().filter(|m| m.starts_with(DAILY_SUMMARY)).collect();
    assert_eq!(summaries.len(), 1, "{summaries:?}");
    assert!(summaries[0].contains("Pesanan lunas: 1") && summaries[0].contains("Rp15.000"), "{summaries:?}");
    shop.finish().await;
}

#[actix_rt::test]
async fn the_scheduled_audit_passes_a_clean_store_and_alerts_once_on_a_broken_one() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::Accepting, with_transfer).await;
    product_with_items(&shop.engine, "viu", 15_000, 2).await;
    fund(&shop.engine, "6281306", 15_000).await;
    let watch = watch(&shop, 60_000, Some(24));
    assert!(watch.audit().await, "a clean store");
    assert!(owner_messages(&shop).await.is_empty());

    // Money appears from nowhere: a balance no ledger entry explains.
    let pool = sqlx::SqlitePool::connect(&shop.db.url).await.unwrap();
    sqlx::query("UPDATE customers SET balance = '99999.00' WHERE id = '6281306'").execute(&pool).await.unwrap();
    assert!(!watch.audit().await);
    assert!(!watch.audit().await);
    let sent = owner_messages(&shop).await;
    assert_eq!(sent.len(), 1, "one alert a day: {sent:?}");
    assert!(sent[0].contains("Audit otomatis"), "{sent:?}");
    sqlx::query("UPDATE customers SET balance = '15000.00' WHERE id = '6281306'").execute(&pool).await.unwrap();
    pool.close().await;
    shop.finish().await;
}

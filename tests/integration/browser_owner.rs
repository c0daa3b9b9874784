//! The owner's admin page on a phone (360 x 740) in headless Chromium, on a real engine: the home
//! charts after a few sales, a price change, a restock by count, a refund and the CSV exports,
//! each confirmed in words before it changes money or stock. Each test checks the page fits the
//! phone's width and keeps a screenshot (`owner-*.png`).

use serde_json::Value;
use warung::checkout::OrderState;
use warung_actors::domain::Money;
use warung_actors::journal::StockKind;

use crate::browser::Driver;
use crate::helpers::*;

/// The phone the issue asks the page to fit, in CSS pixels.
const PHONE_WIDTH: u32 = 360;
const PHONE_HEIGHT: u32 = 740;

/// Nothing scrolls sideways: not the page, not its scrolling content, not an open sheet.
const FITS_EVERY_BOX: &str = "return [document.documentElement, document.querySelector('main'), \
     document.getElementById('sheet-body')].every((e) => e.scrollWidth <= e.clientWidth + 1)";

/// The admin page on a phone-sized window, signed in as siti, on its home tab with data.
async fn signed_in_on_a_phone(address: &str) -> Driver {
    let driver = Driver::start().await;
    driver.window(PHONE_WIDTH, PHONE_HEIGHT).await;
    driver.open(&format!("{address}/admin")).await;
    driver.type_into("#token", ADMIN_TOKEN).await;
    driver.type_into("#admin-name", "siti").await;
    driver.click("#login").await;
    driver.wait_until("return document.querySelector('#view-home[data-loaded] #card-today')").await;
    driver
}

/// Waits for the confirmation dialog, answers yes, and returns what it asked.
async fn confirm(driver: &Driver) -> String {
    driver.wait_until("return !document.getElementById('confirm-dialog').hidden").await;
    let question = driver.text_of("confirm-text").await;
    driver.click("#confirm-yes").await;
    question
}

async fn assert_fits_a_phone(driver: &Driver, what: &str) {
    assert!(driver.fits_width().await, "{what} fits a phone's width");
    assert_eq!(driver.script(FITS_EVERY_BOX).await, Value::Bool(true), "nothing in {what} scrolls sideways");
}

#[actix_rt::test]
async fn the_home_tab_charts_todays_sales_and_the_stock_on_a_phone() {
    let engine = TestEngine::start(Backend::Sqlite).await;
    let viu = product_with_items(&engine, "viu", 15_000, 5).await;
    fund(&engine, "budi", 100_000).await;
    for _ in 0..3 {
        engine.checkout.buy_with_saldo(&customer("budi"), &viu, 1).await.unwrap();
    }
    let address = serve(&engine);

    let driver = signed_in_on_a_phone(&address).await;
    let today = driver.wait_for_in("card-today", "Rp45.000").await;
    assert!(today.contains('3'), "three orders today: {today}");
    let heights = driver
        .script(
            "return [...document.querySelectorAll('#home-revenue-chart rect.bar')] \
             .map((b) => Number(b.getAttribute('height')))",
        )
        .await;
    let heights: Vec<f64> = heights.as_array().unwrap().iter().map(|h| h.as_f64().unwrap()).collect();
    assert_eq!(heights.len(), 30, "a bar per day of the last 30");
    assert!(*heights.last().unwrap() > 0.0, "today's revenue has a bar: {heights:?}");
    let orders_bars = driver.script("return document.querySelectorAll('#home-orders-chart rect.bar').length").await;
    assert_eq!(orders_bars, 30);
    let axis = driver.script("return document.querySelectorAll('#home-revenue-chart text').length").await;
    assert!(axis.as_u64().unwrap() >= 5, "the revenue chart has labelled axes");
    let stock = driver
        .script(
            "return ['available', 'sold'].map((part) => \
             document.querySelector(`#home-stock-chart rect.seg-${part}[data-code=\"viu\"]`)?.dataset.count)",
        )
        .await;
    assert_eq!(stock, serde_json::json!(["2", "3"]), "viu's stock drawn as available and sold");
    assert_fits_a_phone(&driver, "the home tab").await;
    driver.keep_screenshot("owner-home.png").await;
    driver.quit().await;
    engine.finish().await;
}

#[actix_rt::test]
async fn a_price_change_states_the_old_and_new_price_before_it_applies_on_a_phone() {
    let engine = TestEngine::start(Backend::Sqlite).await;
    product_with_items(&engine, "viu", 15_000, 1).await;
    let address = serve(&engine);

    let driver = signed_in_on_a_phone(&address).await;
    driver.click("#tab-products").await;
    driver.click(r#"#product-list .row[data-code="viu"]"#).await;
    driver.clear("#price-member").await;
    driver.type_into("#price-member", "20000").await;
    driver.click("#set-price-member").await;
    driver.wait_until("return !document.getElementById('confirm-dialog').hidden").await;
    assert_fits_a_phone(&driver, "the price confirmation").await;
    driver.keep_screenshot("owner-price.png").await;
    let question = confirm(&driver).await;
    assert!(question.contains("Rp15.000") && question.contains("Rp20.000"), "old and new price: {question}");
    driver.wait_for_in("product-facts", "Rp20.000").await;
    driver.quit().await;

    let snapshot = engine.lanes.product_snapshot(&code("viu")).await.unwrap();
    assert_eq!(snapshot.price, Money::rupiah(20_000));
    let audit = engine.store.audit_trail(Some("viu"), 10).await.unwrap();
    assert_eq!((audit[0].admin.as_str(), audit[0].action.as_str()), ("siti", "set_price:member"));
    engine.finish().await;
}

#[actix_rt::test]
async fn a_counted_product_is_created_and_restocked_by_count_on_a_phone() {
    let engine = TestEngine::start(Backend::Sqlite).await;
    let address = serve(&engine);

    let driver = signed_in_on_a_phone(&address).await;
    driver.click("#tab-products").await;
    driver.wait_until("return document.querySelector('#view-products[data-loaded]')").await;
    driver.click("#new-product").await;
    driver.type_into("#new-code", "pulsa10").await;
    driver.type_into("#new-name", "Pulsa 10rb").await;
    driver.type_into("#new-price", "11.500").await;
    driver.click("#new-counted").await;
    driver.click("#create-product").await;
    driver.type_into("#restock-count", "5").await;
    driver.click("#restock").await;
    let question = confirm(&driver).await;
    assert!(question.contains('5') && question.contains("Pulsa 10rb"), "how many, to what: {question}");
    driver.wait_until(r#"return document.querySelector('#product-facts[data-available="5"]')"#).await;
    assert_fits_a_phone(&driver, "the product sheet").await;
    driver.keep_screenshot("owner-restock.png").await;
    driver.quit().await;

    let snapshot = engine.lanes.product_snapshot(&code("pulsa10")).await.unwrap();
    assert_eq!((snapshot.kind, snapshot.available, snapshot.price), (StockKind::Counted, 5, Money::rupiah(11_500)));
    engine.finish().await;
}

#[actix_rt::test]
async fn a_refund_states_the_amount_and_credits_the_wallet_on_a_phone() {
    let engine = TestEngine::start(Backend::Sqlite).await;
    let viu = product_with_items(&engine, "viu", 15_000, 2).await;
    fund(&engine, "budi", 100_000).await;
    let bought = engine.checkout.buy_with_saldo(&customer("budi"), &viu, 1).await.unwrap();
    let address = serve(&engine);

    let driver = signed_in_on_a_phone(&address).await;
    driver.click("#tab-orders").await;
    driver.click(&format!(r#"#order-list .row[data-order="{}"]"#, bought.order.as_str())).await;
    driver.type_into("#refund-reason", "akun tidak bisa dipakai").await;
    driver.click("#refund-order").await;
    let question = confirm(&driver).await;
    assert!(question.contains("Rp15.000") && question.contains("budi"), "how much, to whom: {question}");
    driver.wait_until(r#"return document.querySelector('#order-facts[data-state="refunded"]')"#).await;
    assert_fits_a_phone(&driver, "the order sheet").await;
    driver.keep_screenshot("owner-refund.png").await;
    driver.quit().await;

    let order = engine.store.order(&bought.order).await.unwrap().unwrap();
    assert_eq!(order.state, OrderState::Refunded);
    assert_eq!(engine.checkout.balance(&customer("budi")).await.unwrap().balance, Money::rupiah(100_000));
    engine.finish().await;
}

#[actix_rt::test]
async fn orders_and_the_ledger_export_as_csv_and_a_date_that_does_not_exist_is_refused_on_a_phone() {
    let engine = TestEngine::start(Backend::Sqlite).await;
    let viu = product_with_items(&engine, "viu", 15_000, 2).await;
    fund(&engine, "budi", 100_000).await;
    let bought = engine.checkout.buy_with_saldo(&customer("budi"), &viu, 1).await.unwrap();
    let address = serve(&engine);

    // The range starts as this month up to today (WIB): today's sale is in it.
    let driver = signed_in_on_a_phone(&address).await;
    driver.click("#export-orders").await;
    let orders = driver.wait_until("return window.lastExport?.kind === 'orders' && window.lastExport.text").await;
    let orders = orders.as_str().unwrap();
    assert!(orders.lines().count() >= 2, "a header and the order: {orders}");
    assert!(orders.contains(bought.order.as_str()), "the order is exported: {orders}");
    driver.click("#export-ledger").await;
    let ledger = driver.wait_until("return window.lastExport?.kind === 'ledger' && window.lastExport.text").await;
    assert!(ledger.as_str().unwrap().contains("budi"), "budi's top-up and purchase are exported: {ledger}");
    let name = driver.script("return window.lastExport.name").await;
    assert!(name.as_str().unwrap().ends_with(".csv"), "{name}");

    let calls_before = driver.script("return window.adminCalls.length").await;
    driver.clear("#export-from").await;
    driver.type_into("#export-from", "2026-02-31").await;
    driver.click("#export-orders").await;
    driver.wait_until("return document.getElementById('message').dataset.code === 'bad_date'").await;
    assert!(driver.text_of("message").await.contains("2026-02-31"), "the message names the bad date");
    assert_eq!(driver.script("return window.adminCalls.length").await, calls_before, "no call with a bad date");
    assert_fits_a_phone(&driver, "the export").await;
    driver.keep_screenshot("owner-export.png").await;
    driver.quit().await;
    engine.finish().await;
}

//! The simulator stands in for a provider as a whole, never beside a live one: a live WhatsApp
//! with a simulated Midtrans would let any customer "pay" with the simulator's button. Its pages
//! keep what customers type bounded, and every HTML page refuses to be framed.

use serde_json::json;
use warung::checkout::OrderState;

use crate::helpers::*;
use crate::shop::*;

#[test]
fn a_live_provider_beside_a_simulated_one_is_refused_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("warung.toml");
    let live_whatsapp = "[whatsapp]\napp_secret = \"s\"\naccess_token = \"t\"\nphone_number_id = \"1\"\n";
    std::fs::write(&file, live_whatsapp).unwrap();
    let error = warung::settings::Settings::from_file(&file).unwrap_err().to_string();
    assert!(error.contains("WARUNG_SIMULATOR__ALLOW_MIXED"), "{error}");
    std::fs::write(&file, "[midtrans]\nserver_key = \"SB-Mid-server-x\"\n").unwrap();
    let error = warung::settings::Settings::from_file(&file).unwrap_err().to_string();
    assert!(error.contains("WARUNG_SIMULATOR__ALLOW_MIXED"), "{error}");
    std::fs::write(&file, format!("{live_whatsapp}[simulator]\nallow_mixed = true\n")).unwrap();
    assert!(warung::settings::Settings::from_file(&file).is_ok(), "allowed when asked for, for development");
    assert!(warung::settings::Settings::default().validate().is_ok(), "all simulated");
}

#[actix_rt::test]
async fn a_simulated_payment_is_refused_for_a_customer_of_the_live_whatsapp() {
    let shop = spawn_shop_with(Backend::Sqlite, StandIns::Accepting, |s| {
        s.midtrans.server_key = None;
        s.simulator.allow_mixed = true;
    })
    .await;
    product_with_items(&shop.engine, "viu", 15_000, 1).await;
    shop.say("6286000", "beli viu qris").await;
    shop.replies("6286000", 2).await;
    let order = shop.engine.store.orders_of(&customer("6286000"), 1).await.unwrap().remove(0);
    let paid = shop.client.post(format!("{}/simulator/api/pay/{}", shop.address, order.id)).send().await.unwrap();
    assert_eq!(paid.status().as_u16(), 403, "the simulator's button pays for nobody real");
    let order = shop.engine.store.order(&order.id).await.unwrap().unwrap();
    assert_eq!(order.state, OrderState::AwaitingPayment, "no free goods");
    let chat = shop.client.get(format!("{}/simulator/api/chat/6286000", shop.address)).send().await.unwrap();
    assert_eq!(chat.status().as_u16(), 404, "a live customer's chat is not the simulator's to show");
    shop.finish().await;
}

#[actix_rt::test]
async fn the_simulator_keeps_what_customers_type_bounded() {
    let engine = TestEngine::start(Backend::Sqlite).await;
    let address = serve(&engine);
    let client = reqwest::Client::new();
    let long = "a".repeat(200_000);
    let said =
        client.post(format!("{address}/simulator/api/chat/6286100")).json(&json!({"text": long})).send().await.unwrap();
    assert_eq!(said.status().as_u16(), 202);
    let lines: serde_json::Value =
        client.get(format!("{address}/simulator/api/chat/6286100")).send().await.unwrap().json().await.unwrap();
    let kept = lines[0]["message"]["text"].as_str().unwrap();
    assert!(kept.len() <= 4_096, "a line is clipped: {} bytes kept", kept.len());
    engine.finish().await;
}

#[actix_rt::test]
async fn html_pages_carry_a_content_security_policy_and_refuse_framing() {
    let engine = TestEngine::start(Backend::Sqlite).await;
    let address = serve(&engine);
    let client = reqwest::Client::new();
    for path in ["/admin", "/simulator"] {
        let page = client.get(format!("{address}{path}")).send().await.unwrap();
        assert_eq!(page.status().as_u16(), 200, "{path}");
        let headers = page.headers();
        assert_eq!(headers.get("x-frame-options").map(|v| v.to_str().unwrap()), Some("DENY"), "{path}");
        let policy = headers.get("content-security-policy").map(|v| v.to_str().unwrap().to_string());
        assert!(policy.as_deref().is_some_and(|p| p.contains("frame-ancestors 'none'")), "{path}: {policy:?}");
    }
    engine.finish().await;
}

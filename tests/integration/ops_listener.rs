//! What only operators may see stays off the public listener: the ops pages, the actors, the
//! metrics and the detail of readiness. The public listener keeps `/health` and a cheap `/ready`.

use serde_json::Value;

use crate::helpers::*;

async fn get(client: &reqwest::Client, url: String) -> (u16, Value) {
    let response = client.get(url).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

#[actix_rt::test]
async fn ops_and_metrics_are_not_on_the_public_listener() {
    let engine = TestEngine::start(Backend::Sqlite).await;
    fund(&engine, "6285000", 5_000).await;
    let public = serve(&engine);
    let client = reqwest::Client::new();
    for path in [
        "/ops",
        "/ops/actors",
        "/ops/actors/wallet/6285000",
        "/ops/gateway",
        "/metrics",
        "/%6Detrics",
        "/%6Fps/actors",
        "/ops%2Factors",
    ] {
        let (status, _) = get(&client, format!("{public}{path}")).await;
        assert_eq!(status, 404, "{path} is not public");
    }
    assert_eq!(get(&client, format!("{public}/health")).await.0, 200);
    let (status, ready) = get(&client, format!("{public}/ready")).await;
    assert_eq!(status, 200);
    assert!(ready.get("store").is_none(), "the public /ready says ready or not, no detail: {ready}");
    engine.finish().await;
}

#[actix_rt::test]
async fn reading_an_unknown_wallet_activates_no_actor() {
    let engine = TestEngine::start(Backend::Sqlite).await;
    let ops = serve_ops(&engine);
    let client = reqwest::Client::new();
    let before = engine.lanes.active_wallets();
    for n in 0..20 {
        let (status, _) = get(&client, format!("{ops}/ops/actors/wallet/62859{n:05}")).await;
        assert_eq!(status, 404);
    }
    assert_eq!(engine.lanes.active_wallets(), before, "no actor for an id nobody has");
    fund(&engine, "6285100", 5_000).await;
    let (status, known) = get(&client, format!("{ops}/ops/actors/wallet/6285100")).await;
    assert_eq!((status, known["state"]["balance"].as_str()), (200, Some("5000")), "{known}");
    let (status, _) = get(&client, format!("{ops}/metrics")).await;
    assert_eq!(status, 200);
    for public_only in ["/admin/api/products", "/%61dmin/api/products", "/webhooks/whatsapp", "/simulator"] {
        assert_eq!(
            get(&client, format!("{ops}{public_only}")).await.0,
            404,
            "{public_only} is not on the ops listener"
        );
    }
    engine.finish().await;
}

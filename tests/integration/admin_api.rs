//! The shop owner's admin API: every endpoint behind the token, each change made through the
//! actors and found in the audit tables (movements, ledger, admin audit) with the admin's name.

use serde_json::{json, Value};
use warung::engine::Engine;
use warung::store::admin::{PriceRequest, PriceRequestStatus};
use warung_actors::domain::Money;
use warung_actors::product::PriceTier;

use crate::helpers::*;

struct Admin {
    address: String,
    client: reqwest::Client,
}

async fn spawn_admin(engine: Engine) -> Admin {
    Admin { address: serve(&engine), client: reqwest::Client::new() }
}

impl Admin {
    async fn call(&self, method: &str, path: &str, name: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let mut request = self
            .client
            .request(method, format!("{}/admin/api{path}", self.address))
            .bearer_auth(ADMIN_TOKEN)
            .header("X-Admin-Name", name);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call("get", path, "siti", None).await
    }

    async fn send(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        self.call(method, path, "siti", Some(body)).await
    }

    async fn upload(&self, path: &str, text: &str) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}/admin/api{path}", self.address))
            .bearer_auth(ADMIN_TOKEN)
            .header("X-Admin-Name", "siti")
            .header("content-type", "text/plain")
            .body(text.to_string())
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }
}

fn code_of(answer: &(u16, Value)) -> (u16, Option<&str>) {
    (answer.0, answer.1["code"].as_str())
}

async fn audit_actions(admin: &Admin, subject: &str) -> Vec<(String, String, String, String)> {
    let (_, body) = admin.get(&format!("/audit?subject={subject}")).await;
    body["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let text = |k: &str| a[k].as_str().unwrap().to_string();
            (text("admin"), text("action"), text("after"), text("reason"))
        })
        .collect()
}

#[actix_rt::test]
async fn every_described_endpoint_exists_and_refuses_a_missing_or_wrong_token() {
    let engine = TestEngine::start(Backend::Sqlite).await;
    let product = product_with_items(&engine, "viu", 15_000, 2).await;
    fund(&engine, "budi", 50_000).await;
    let bought = engine.checkout.buy_with_saldo(&customer("budi"), &product, 1).await.unwrap();
    let admin = spawn_admin(engine.clone()).await;
    let (status, _) = admin.send("put", "/products/viu/price", json!({"price": "90000"})).await;
    assert_eq!(status, 202);
    let request = admin.get("/products/viu").await.1["price_requests"][0]["id"].as_str().unwrap().to_string();

    let document: Value = admin
        .client
        .get(format!("{}/admin/api/openapi.json", admin.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, methods) in paths {
        let concrete = path
            .replace("{code}", "viu")
            .replace(
                "{id}",
                if path.starts_with("/admin/api/price") {
                    &request
                } else if path.starts_with("/admin/api/orders") {
                    bought.order.as_str()
                } else {
                    "budi"
                },
            )
            .replace("{customer}", "budi");
        for method in methods.as_object().unwrap().keys() {
            operations += 1;
            let url = format!("{}{concrete}", admin.address);
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let missing = admin.client.request(method.clone(), &url).send().await.unwrap();
            assert_eq!(missing.status().as_u16(), 401, "{method} {path} without a token");
            let wrong =
                admin.client.request(method.clone(), &url).bearer_auth("wrong-token-0123456789").send().await.unwrap();
            assert_eq!(wrong.status().as_u16(), 401, "{method} {path} with a wrong token");
            // With the token and no body, a route that exists answers anything but "no such endpoint".
            let right = admin.client.request(method.clone(), &url).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
            let status = right.status().as_u16();
            let body: Value = right.json().await.unwrap_or(Value::Null);
            assert!(body["message"] != "no such endpoint", "{method} {path} is described but not served ({status})");
        }
    }
    assert_eq!(operations, 30, "every admin operation is described");
    engine.finish().await;
}

async fn products_are_created_edited_restocked_and_audited(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    let admin = spawn_admin(engine.clone()).await;
    let create = |code: &str, price: &str| json!({"code": code, "name": "Viu 1 bulan", "price": price});
    assert_eq!(
        code_of(&admin.send("post", "/products", create("viu", "999")).await),
        (422, Some("price_below_minimum"))
    );
    assert_eq!(admin.send("post", "/products", create("viu", "15000")).await.0, 201);
    assert_eq!(code_of(&admin.send("post", "/products", create("viu", "15000")).await), (409, Some("product_exists")));
    assert_eq!(
        code_of(&admin.send("post", "/products", json!({"code": "BAD CODE", "name": "x", "price": "5000"})).await).1,
        Some("bad_code")
    );

    // A bulk upload: blank lines and spaces ignored; a repeated item refuses the whole upload.
    let (status, body) = admin.upload("/products/viu/stock/upload?reference=u1", "acc-1\n\n  acc-2  \nacc-3\n").await;
    assert_eq!((status, body["added"].as_u64()), (200, Some(3)), "{body}");
    let (status, body) = admin.upload("/products/viu/stock/upload?reference=u2", "acc-4\nacc-5\nacc-2\n").await;
    assert_eq!((status, body["code"].as_str()), (409, Some("duplicate_item")));
    assert!(body["message"].as_str().unwrap().contains("line 3"), "{body}");
    let (status, body) = admin.upload("/products/viu/stock/upload?reference=u3", "acc-6\nacc-6\n").await;
    assert_eq!((status, body["code"].as_str()), (409, Some("duplicate_item")), "{body}");
    assert_eq!(code_of(&admin.upload("/products/viu/stock/upload", " \n\n").await), (400, Some("bad_stock")));
    assert_eq!(
        admin.upload("/products/viu/stock/upload?reference=u1", "acc-1\nacc-2\nacc-3").await.0,
        200,
        "a retried upload"
    );

    let (status, product) = admin.get("/products/viu").await;
    assert_eq!(status, 200);
    assert_eq!((product["available"].as_i64(), product["received"].as_i64()), (Some(3), Some(3)), "{product}");
    let movement = &product["stock_movements"][0];
    assert_eq!(
        (movement["actor"].as_str(), movement["reason"].as_str()),
        (Some("admin:siti"), Some("restock")),
        "{product}"
    );
    let (_, list) = admin.get("/products").await;
    assert_eq!(list["products"][0]["code"], "viu");

    // Rename and take off sale: through the actor, audited with the admin's name.
    let (status, edited) = admin
        .send("patch", "/products/viu", json!({"name": "Viu 30 hari", "active": false, "reason": "restock later"}))
        .await;
    assert_eq!((status, edited["name"].as_str(), edited["active"].as_bool()), (200, Some("Viu 30 hari"), Some(false)));
    fund(&engine, "budi", 50_000).await;
    let refused = engine.checkout.buy_with_saldo(&customer("budi"), &code("viu"), 1).await.unwrap_err();
    assert_eq!(refused.to_string(), "the product is not on sale");
    assert_eq!(admin.send("patch", "/products/viu", json!({"active": true})).await.0, 200);
    engine.checkout.buy_with_saldo(&customer("budi"), &code("viu"), 1).await.unwrap();
    assert_eq!(code_of(&admin.send("patch", "/products/viu", json!({})).await), (400, Some("nothing_to_change")));
    assert_eq!(
        code_of(&admin.send("patch", "/products/viu", json!({"name": " "})).await),
        (422, Some("name_must_be_short"))
    );
    assert_eq!(code_of(&admin.send("patch", "/products/nosuch", json!({"active": false})).await).0, 404);
    let actions = audit_actions(&admin, "viu").await;
    assert!(
        actions.contains(&("siti".into(), "rename".into(), "Viu 30 hari".into(), "restock later".into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("siti".into(), "set_active".into(), "false".into(), "restock later".into())),
        "{actions:?}"
    );
    assert!(actions.contains(&("siti".into(), "set_active".into(), "true".into(), "".into())), "{actions:?}");

    // The stored row agrees after a restart.
    let engine = engine.restart().await;
    let snapshot = engine.lanes.product_snapshot(&code("viu")).await.unwrap();
    assert_eq!((snapshot.name.as_str(), snapshot.active, snapshot.sold), ("Viu 30 hari", true, 1));
    engine.finish().await;
}

async fn a_large_price_change_waits_for_a_confirming_call(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    product_with_items(&engine, "viu", 10_000, 3).await;
    let admin = spawn_admin(engine.clone()).await;
    let price = |p: &str| json!({"price": p, "reason": "promo"});
    assert_eq!(
        code_of(&admin.send("put", "/products/viu/price", price("500")).await),
        (422, Some("price_below_minimum"))
    );
    assert_eq!(
        code_of(&admin.send("put", "/products/viu/price", json!({"price": "x"})).await),
        (400, Some("bad_price"))
    );
    let (status, body) = admin.send("put", "/products/viu/price", price("14000")).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("applied")), "40% applies at once");

    let (status, body) = admin.send("put", "/products/viu/price", price("30000")).await;
    assert_eq!((status, body["status"].as_str()), (202, Some("pending_confirmation")), "{body}");
    let request = body["request"]["id"].as_str().unwrap().to_string();
    assert_eq!(admin.get("/products/viu").await.1["price"], "14000", "not applied before confirming");
    let (status, confirmed) = admin.call("post", &format!("/price-requests/{request}/confirm"), "budi", None).await;
    assert_eq!(status, 200, "{confirmed}");
    assert_eq!((confirmed["requested_by"].as_str(), confirmed["confirmed_by"].as_str()), (Some("siti"), Some("budi")));
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(admin.get("/products/viu").await.1["price"], "30000");
    let again = admin.call("post", &format!("/price-requests/{request}/confirm"), "budi", None).await;
    assert_eq!(code_of(&again), (409, Some("price_request_closed")));
    assert_eq!(code_of(&admin.get("/price-requests/PR-nosuch").await), (404, Some("price_request_not_found")));
    let audit = audit_actions(&admin, "viu").await;
    assert_eq!(
        audit[0],
        (
            "budi".into(),
            "set_price:member".into(),
            "30000".into(),
            "promo (requested by siti, confirmed by budi)".into()
        )
    );

    // A request whose window has passed is refused and closed; one overtaken by another change too.
    let now = engine.lanes.clock().now();
    let stale = PriceRequest {
        id: "PR-stale".into(),
        product: code("viu"),
        tier: PriceTier::Member,
        from_price: Some(Money::rupiah(30_000)),
        to_price: Money::rupiah(90_000),
        reason: String::new(),
        requested_by: "siti".into(),
        requested_at: now - 20 * 60_000,
        expires_at: now - 5 * 60_000,
        status: PriceRequestStatus::Pending,
        confirmed_by: None,
        confirmed_at: None,
    };
    engine.store.open_price_request(&stale).await.unwrap();
    assert_eq!(
        code_of(&admin.send("post", "/price-requests/PR-stale/confirm", json!({})).await),
        (409, Some("price_request_expired"))
    );
    assert_eq!(admin.get("/price-requests/PR-stale").await.1["status"], "expired");
    let (_, body) = admin.send("put", "/products/viu/price", price("5000")).await;
    let overtaken = body["request"]["id"].as_str().unwrap().to_string();
    assert_eq!(admin.send("put", "/products/viu/price", price("31000")).await.1["status"], "applied");
    let answer = admin.send("post", &format!("/price-requests/{overtaken}/confirm"), json!({})).await;
    assert_eq!(code_of(&answer), (409, Some("price_changed_since_request")));
    assert_eq!(admin.get("/products/viu").await.1["price"], "31000");
    engine.finish().await;
}

async fn a_reseller_pays_the_reseller_price(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    product_with_items(&engine, "viu", 15_000, 3).await;
    fund(&engine, "rina", 100_000).await;
    fund(&engine, "budi", 100_000).await;
    let admin = spawn_admin(engine.clone()).await;
    let (status, body) = admin.send("put", "/products/viu/price", json!({"price": "12000", "tier": "reseller"})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("applied")), "a first reseller price applies");
    assert_eq!(
        code_of(&admin.send("put", "/customers/rina/role", json!({"role": "boss"})).await),
        (400, Some("bad_role"))
    );
    assert_eq!(admin.send("put", "/customers/rina/role", json!({"role": "reseller"})).await.0, 200);
    assert_eq!(
        engine.checkout.buy_with_saldo(&customer("rina"), &code("viu"), 1).await.unwrap().total,
        Money::rupiah(12_000)
    );
    assert_eq!(
        engine.checkout.buy_with_saldo(&customer("budi"), &code("viu"), 1).await.unwrap().total,
        Money::rupiah(15_000)
    );
    let (_, rina) = admin.get("/customers/rina").await;
    assert_eq!(
        (rina["role"].as_str(), rina["balance"]["balance"].as_str()),
        (Some("reseller"), Some("88000")),
        "{rina}"
    );
    assert_eq!(
        audit_actions(&admin, "rina").await[0],
        ("siti".into(), "set_role".into(), "reseller".into(), "".into())
    );

    // Roles and reseller prices outlive a restart.
    let engine = engine.restart().await;
    assert_eq!(
        engine.checkout.buy_with_saldo(&customer("rina"), &code("viu"), 1).await.unwrap().total,
        Money::rupiah(12_000)
    );
    engine.finish().await;
}

async fn orders_are_listed_shown_cancelled_and_refunded(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    product_with_items(&engine, "viu", 15_000, 5).await;
    product_with_items(&engine, "net", 20_000, 5).await;
    fund(&engine, "budi", 100_000).await;
    fund(&engine, "ani", 100_000).await;
    let first = engine.checkout.buy_with_saldo(&customer("budi"), &code("viu"), 1).await.unwrap();
    engine.checkout.buy_with_saldo(&customer("ani"), &code("net"), 1).await.unwrap();
    let unpaid = engine.checkout.buy_with_external(&customer("ani"), &code("viu"), 1).await.unwrap();
    let admin = spawn_admin(engine.clone()).await;

    let count = |body: &Value| body["orders"].as_array().unwrap().len();
    assert_eq!(count(&admin.get("/orders").await.1), 3);
    assert_eq!(count(&admin.get("/orders?state=paid").await.1), 2);
    assert_eq!(count(&admin.get("/orders?customer=ani").await.1), 2);
    assert_eq!(count(&admin.get("/orders?product=net&state=paid").await.1), 1);
    assert_eq!(count(&admin.get("/orders?from=2000-01-01&to=2000-01-02").await.1), 0);
    assert_eq!(count(&admin.get("/orders?from=2000-01-01").await.1), 3);
    let page = admin.get("/orders?limit=2").await.1;
    assert_eq!(count(&page), 2);
    let next = page["next_to"].as_i64().unwrap();
    assert!(count(&admin.get(&format!("/orders?to={next}")).await.1) >= 1);
    assert_eq!(code_of(&admin.get("/orders?state=lost").await), (400, Some("bad_state")));
    assert_eq!(code_of(&admin.get("/orders?from=yesterday").await), (400, Some("bad_from")));
    assert_eq!(code_of(&admin.get("/orders?colour=red").await), (400, Some("bad_query")));

    let (status, order) = admin.get(&format!("/orders/{}", first.order)).await;
    assert_eq!((status, order["state"].as_str()), (200, Some("paid")), "{order}");
    assert_eq!(
        (order["ledger"][0]["kind"].as_str(), order["ledger"][0]["amount"].as_str()),
        (Some("purchase"), Some("-15000")),
        "{order}"
    );
    assert_eq!(order["stock_movements"][0]["to"], "sold", "{order}");

    assert_eq!(
        code_of(&admin.send("post", &format!("/orders/{}/refund", first.order), json!({"reason": " "})).await),
        (400, Some("reason_required"))
    );
    let (status, refunded) = admin
        .send("post", &format!("/orders/{}/refund", first.order), json!({"reason": "akun tidak bisa login"}))
        .await;
    assert_eq!((status, refunded["balance"]["balance"].as_str()), (200, Some("100000")), "{refunded}");
    let (_, order) = admin.get(&format!("/orders/{}", first.order)).await;
    let refund = &order["ledger"][1];
    assert_eq!((refund["kind"].as_str(), refund["actor"].as_str()), (Some("refund"), Some("admin:siti")), "{order}");
    assert_eq!(order["state"], "refunded");

    assert_eq!(
        code_of(&admin.send("post", &format!("/orders/{}/cancel", first.order), json!({})).await),
        (409, Some("order_not_open"))
    );
    let (status, _) = admin.send("post", &format!("/orders/{}/cancel", unpaid.order), json!({})).await;
    assert_eq!(status, 200);
    let (_, cancelled) = admin.get(&format!("/orders/{}", unpaid.order)).await;
    assert_eq!(cancelled["state"], "cancelled");
    let released = cancelled["stock_movements"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (released["to"].as_str(), released["actor"].as_str()),
        (Some("available"), Some("admin:siti")),
        "{cancelled}"
    );
    assert_eq!(code_of(&admin.get("/orders/TRX-0000000000-1").await), (404, Some("order_not_found")));
    assert_eq!(code_of(&admin.get("/orders/not-an-order").await), (400, Some("bad_order")));
    engine.finish().await;
}

async fn customers_balances_and_the_refund_watch(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    product_with_items(&engine, "viu", 10_000, 10).await;
    for who in ["ani", "budi", "cici"] {
        fund(&engine, who, 100_000).await;
    }
    let admin = spawn_admin(engine.clone()).await;
    // budi: 2 paid, 1 refunded (50%); ani: 3 paid, none refunded.
    let mut budi = Vec::new();
    for _ in 0..2 {
        budi.push(engine.checkout.buy_with_saldo(&customer("budi"), &code("viu"), 1).await.unwrap().order);
    }
    for _ in 0..3 {
        engine.checkout.buy_with_saldo(&customer("ani"), &code("viu"), 1).await.unwrap();
    }
    admin.send("post", &format!("/orders/{}/refund", budi[0]), json!({"reason": "salah kirim"})).await;

    let (_, list) = admin.get("/customers?limit=2").await;
    let ids: Vec<&str> = list["customers"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["ani", "budi"]);
    let (_, rest) = admin.get(&format!("/customers?after={}", list["next_after"].as_str().unwrap())).await;
    assert_eq!(rest["customers"][0]["id"], "cici");

    let (status, watch) = admin.get("/refund-watch").await;
    assert_eq!(status, 200);
    assert_eq!(watch["flagged"].as_array().unwrap().len(), 1, "{watch}");
    assert_eq!(
        (watch["flagged"][0]["customer"].as_str(), watch["flagged"][0]["refund_percent"].as_str()),
        (Some("budi"), Some("50"))
    );
    assert_eq!(admin.get("/refund-watch?threshold=60").await.1["flagged"].as_array().unwrap().len(), 0);
    assert_eq!(admin.get("/refund-watch?min_orders=3").await.1["flagged"].as_array().unwrap().len(), 0);
    assert_eq!(code_of(&admin.get("/refund-watch?threshold=150").await), (400, Some("bad_threshold")));

    let adjust = |delta: &str, reference: &str| json!({"reference": reference, "delta": delta, "reason": "kompensasi"});
    let (status, body) = admin.send("post", "/wallets/cici/adjustments", adjust("5000", "adj-1")).await;
    assert_eq!((status, body["balance"]["balance"].as_str()), (200, Some("105000")));
    let (status, _) = admin.send("post", "/wallets/cici/adjustments", adjust("-500000", "adj-2")).await;
    assert_eq!(status, 402, "never below zero");
    let (status, _) =
        admin.send("post", "/wallets/cici/top-ups", json!({"payment_id": "bca-0042", "amount": "1000"})).await;
    assert_eq!(status, 200);
    let (_, cici) = admin.get("/customers/cici").await;
    assert_eq!(
        (cici["ledger"][0]["actor"].as_str(), cici["ledger"][0]["kind"].as_str()),
        (Some("admin:siti"), Some("top_up")),
        "{cici}"
    );
    let entry = &cici["ledger"][1];
    assert_eq!(
        (entry["actor"].as_str(), entry["reason"].as_str(), entry["amount"].as_str()),
        (Some("admin:siti"), Some("kompensasi"), Some("5000")),
        "{cici}"
    );
    assert_eq!(cici["balance"]["balance"], "106000");
    assert_eq!(code_of(&admin.get("/customers/nobody").await), (404, Some("customer_not_found")));
    let odd_name = admin.call("put", "/customers/cici/role", "bad name!", Some(json!({"role": "reseller"}))).await;
    assert_eq!(code_of(&odd_name), (400, Some("bad_admin_name")));
    assert_eq!(admin.get("/customers/cici").await.1["role"], "member", "nothing changed");
    engine.finish().await;
}

async fn settings_are_validated_audited_applied_and_kept(backend: Backend) {
    let engine = TestEngine::start(backend).await;
    let admin = spawn_admin(engine.clone()).await;
    let (_, before) = admin.get("/settings").await;
    assert_eq!((before["price_minimum"].as_str(), before["refund_watch_percent"].as_u64()), (Some("1000"), Some(30)));

    let (status, body) = admin.send("put", "/settings", json!({"shop_name": "Toko Budi", "colour": "red"})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("unknown_setting")));
    assert_eq!(
        code_of(&admin.send("put", "/settings", json!({"purchases_per_minute": 0})).await),
        (400, Some("bad_setting"))
    );
    assert_eq!(admin.get("/settings").await.1, before, "a refused change changes nothing");

    let change = json!({"shop_name": "Toko Budi", "welcome_message": "Promo 12.12!", "purchases_per_minute": 5, "price_minimum": "2000"});
    let (status, body) = admin.send("put", "/settings", change).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["changed"].as_array().unwrap().len(), 4);
    assert_eq!(engine.shop.values().shop_name, "Toko Budi");
    let created = admin.send("post", "/products", json!({"code": "viu", "name": "Viu", "price": "1500"})).await;
    assert_eq!(code_of(&created), (422, Some("price_below_minimum")), "the new minimum applies");
    let audit = audit_actions(&admin, "setting:shop_name").await;
    assert_eq!(audit, [("siti".to_string(), "set_setting".to_string(), "Toko Budi".to_string(), String::new())]);

    let engine = engine.restart().await;
    let kept = engine.shop.values();
    assert_eq!(
        (kept.shop_name.as_str(), kept.welcome_message.as_str(), kept.purchases_per_minute),
        ("Toko Budi", "Promo 12.12!", 5)
    );
    engine.finish().await;
}

#[actix_rt::test]
async fn the_openapi_description_and_the_admin_page_are_served_without_a_token() {
    let engine = TestEngine::start(Backend::Sqlite).await;
    let admin = spawn_admin(engine.clone()).await;
    let page = admin.client.get(format!("{}/admin", admin.address)).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("<title>Warung — Admin</title>") && page.contains("width=device-width"), "{page}");
    let doc = admin.client.get(format!("{}/admin/api/openapi.json", admin.address)).send().await.unwrap();
    assert_eq!(doc.status().as_u16(), 200);
    engine.finish().await;
}

on_both_backends!(
    products_are_created_edited_restocked_and_audited,
    a_large_price_change_waits_for_a_confirming_call,
    a_reseller_pays_the_reseller_price,
    orders_are_listed_shown_cancelled_and_refunded,
    customers_balances_and_the_refund_watch,
    settings_are_validated_audited_applied_and_kept,
);

#[actix_rt::test]
async fn a_restock_reference_is_bound_to_its_content_after_a_restart_and_beyond_the_actors_memory() {
    let engine = TestEngine::start(Backend::Sqlite).await;
    let admin = spawn_admin(engine.clone()).await;
    let create = |code: &str, counted: bool| json!({"code": code, "name": code, "price": "15000", "counted": counted});
    assert_eq!(admin.send("post", "/products", create("viu", false)).await.0, 201);
    assert_eq!(admin.send("post", "/products", create("pulsa", true)).await.0, 201);
    let (status, _) = admin.send("post", "/products/viu/stock", json!({"reference": "r1", "items": ["a", "b"]})).await;
    assert_eq!(status, 200);
    let (status, _) = admin.send("post", "/products/pulsa/stock", json!({"reference": "c0", "count": 5})).await;
    assert_eq!(status, 200);
    // More restocks than a product keeps in memory push `c0` out of it.
    let pulsa = code("pulsa");
    for n in 1..=warung_actors::product::PRODUCT_REFERENCES_REMEMBERED_MAX {
        let command = warung_actors::product::ProductCommand::Restock {
            reference: reference(&format!("c{n}")),
            stock: warung_actors::product::Restock::Count(1),
            actor: "test".into(),
        };
        engine.lanes.product(&pulsa, command).await.unwrap().unwrap();
    }
    let engine = engine.restart().await;
    let admin = spawn_admin(engine.clone()).await;

    let (status, body) = admin.send("post", "/products/viu/stock", json!({"reference": "r1", "items": ["c"]})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("exists_with_different_content")), "{body}");
    let (status, body) =
        admin.send("post", "/products/viu/stock", json!({"reference": "r1", "items": ["a", "b"]})).await;
    assert_eq!(status, 200, "the same content again is its first outcome: {body}");
    let (status, body) = admin.send("post", "/products/pulsa/stock", json!({"reference": "c0", "count": 5})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = admin.send("post", "/products/pulsa/stock", json!({"reference": "c0", "count": 7})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("exists_with_different_content")), "{body}");
    let viu = engine.lanes.product_snapshot(&code("viu")).await.unwrap();
    assert_eq!(viu.available, 2, "nothing added");
    let pulsa = engine.lanes.product_snapshot(&code("pulsa")).await.unwrap();
    assert_eq!(
        pulsa.available,
        5 + warung_actors::product::PRODUCT_REFERENCES_REMEMBERED_MAX as i64,
        "c0 applied once"
    );
    engine.finish().await;
}

#[actix_rt::test]
async fn admin_amounts_are_plain_decimals() {
    let engine = TestEngine::start(Backend::Sqlite).await;
    let admin = spawn_admin(engine.clone()).await;
    for amount in ["1e3", "1E3", "0x10", "1_000", " 1000", "+1000", "1000.001", "NaN", "inf", ""] {
        let (status, body) =
            admin.send("post", "/wallets/cici/top-ups", json!({"payment_id": "p-1", "amount": amount})).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("bad_amount")), "{amount:?}: {body}");
        let body = json!({"reference": "adj-1", "delta": amount, "reason": "kompensasi"});
        let (status, answer) = admin.send("post", "/wallets/cici/adjustments", body).await;
        assert_eq!((status, answer["code"].as_str()), (400, Some("bad_delta")), "{amount:?}: {answer}");
    }
    let (status, body) =
        admin.send("post", "/wallets/cici/top-ups", json!({"payment_id": "p-1", "amount": "1000.50"})).await;
    assert_eq!(status, 200, "{body}");
    let body = json!({"reference": "adj-1", "delta": "-500", "reason": "kompensasi"});
    assert_eq!(admin.send("post", "/wallets/cici/adjustments", body).await.0, 200);
    engine.finish().await;
}

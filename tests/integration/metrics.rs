//! `/metrics`: well-formed Prometheus text whose figures match what happened, and a hot product's
//! mailbox seen filling while a load runs.

use std::collections::HashMap;

use crate::helpers::*;
use crate::shop::*;

/// Every sample of a scrape, by its name and labels as written (`name{a="b"}`).
async fn scrape(shop: &Shop) -> HashMap<String, f64> {
    let response = shop.client.get(format!("{}/metrics", shop.ops_address)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = response.text().await.unwrap();
    let mut samples = HashMap::new();
    for line in text.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line:?}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number: {line:?}"));
        let name = series.split('{').next().unwrap();
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "bad name: {line:?}");
        samples.insert(series.to_string(), value);
    }
    samples
}

#[actix_rt::test]
async fn metrics_count_what_happened() {
    let shop = spawn_shop(Backend::Sqlite).await;
    product_with_items(&shop.engine, "viu", 15_000, 5).await;
    fund(&shop.engine, "6281200", 100_000).await;
    shop.ask("6281200", "beli viu", 1).await;
    shop.ask("6281200", "beli viu", 2).await;
    shop.ask("6281201", "beli viu", 1).await;
    let (_, body) = text_webhook("6281200", "saldo");
    let forged = shop
        .client
        .post(format!("{}/webhooks/whatsapp", shop.address))
        .header("X-Hub-Signature-256", "sha256=00")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);

    let m = scrape(&shop).await;
    let get = |series: &str| *m.get(series).unwrap_or_else(|| panic!("{series} missing"));
    assert_eq!(get("warung_sales_total"), 2.0);
    assert_eq!(get("warung_units_sold_total"), 2.0);
    assert_eq!(get("warung_revenue_rupiah_total"), 30_000.0);
    assert_eq!(get("warung_top_ups_total"), 1.0);
    assert_eq!(get("warung_top_up_rupiah_total"), 100_000.0);
    assert_eq!(get(r#"warung_orders_moved_total{state="paid"}"#), 2.0);
    assert_eq!(get(r#"warung_purchase_refusals_total{reason="insufficient_balance"}"#), 1.0);
    assert_eq!(get(r#"warung_purchase_refusals_total{reason="sold_out"}"#), 0.0);
    assert_eq!(get(r#"warung_qris_charges_total{event="opened"}"#), 0.0);
    assert_eq!(get(r#"warung_http_requests_total{route="/webhooks/whatsapp",method="POST",status="401"}"#), 1.0);
    assert_eq!(
        get(r#"warung_http_request_duration_seconds_count{route="/webhooks/whatsapp",method="POST"}"#),
        get(r#"warung_http_request_duration_seconds_bucket{route="/webhooks/whatsapp",method="POST",le="+Inf"}"#)
    );
    assert!(get("process_resident_memory_bytes") > 1e6 && get("process_open_fds") > 0.0);
    assert!(m.keys().any(|k| k.starts_with("warung_build_info{version=")), "the build is named");
    assert!(get("warung_store_size_bytes") > 0.0 && get("warung_store_disk_free_bytes") > 0.0);
    assert_eq!(get(r#"warung_webhooks_total{provider="whatsapp",outcome="received"}"#), 4.0);
    assert_eq!(get(r#"warung_webhooks_total{provider="whatsapp",outcome="bad_signature"}"#), 1.0);
    assert_eq!(get(r#"warung_provider_calls_total{provider="whatsapp",outcome="ok"}"#), 3.0);
    assert_eq!(get(r#"warung_purchase_rate_limit_total{outcome="allowed"}"#), 3.0);
    assert!(get(r#"warung_actor_messages_handled_total{kind="product"}"#) >= 3.0, "restock and two sales");
    assert_eq!(
        get(r#"warung_actor_handling_seconds_bucket{kind="product",le="+Inf"}"#),
        get(r#"warung_actor_handling_seconds_count{kind="product"}"#)
    );
    assert!(get(r#"warung_journal_batches_total{outcome="committed"}"#) >= 1.0);
    assert_eq!(get(r#"warung_mailbox_depth{kind="product",id="viu"}"#), 0.0);
    assert_eq!(get("warung_store_up"), 1.0);
    assert!(m.contains_key(r#"warung_db_pool_connections{pool="sqlite",state="idle"}"#));
    assert!(!m.contains_key("warung_redis_up"), "no Redis configured, none reported");
    shop.finish().await;
}

#[actix_rt::test]
async fn the_exposition_passes_promtools_check() {
    let shop = spawn_shop(Backend::Postgres).await;
    product_with_items(&shop.engine, "viu", 15_000, 2).await;
    fund(&shop.engine, "6281400", 100_000).await;
    shop.ask("6281400", "beli viu", 1).await;
    shop.ask("6281401", "beli viu", 1).await;
    let text = shop.client.get(format!("{}/metrics", shop.ops_address)).send().await.unwrap().text().await.unwrap();
    let mut check = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (Debian package prometheus; scripts/test installs it)");
    std::io::Write::write_all(check.stdin.as_mut().unwrap(), text.as_bytes()).unwrap();
    let out = check.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "promtool check metrics:\n{said}");
    shop.finish().await;
}

/// What one view (`/metrics`, `/ops/actors`) says of the hot product's mailbox: messages waiting
/// now, and the most it has held since the actor activated.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct HotMailbox {
    depth: i64,
    peak: i64,
}

async fn hot_mailbox_in_metrics(shop: &Shop) -> HotMailbox {
    let m = scrape(shop).await;
    let read = |name: &str| m.get(&format!(r#"{name}{{kind="product",id="hot"}}"#)).map_or(0, |v| *v as i64);
    HotMailbox { depth: read("warung_mailbox_depth"), peak: read("warung_mailbox_depth_peak") }
}

async fn hot_mailbox_in_ops(shop: &Shop) -> HotMailbox {
    let url = format!("{}/ops/actors", shop.ops_address);
    let ops: serde_json::Value = shop.client.get(url).send().await.unwrap().json().await.unwrap();
    let hot = ops["actors"].as_array().unwrap().iter().find(|a| a["id"] == "hot").cloned();
    hot.map_or_else(HotMailbox::default, |hot| HotMailbox {
        depth: hot["mailbox_depth"].as_i64().unwrap(),
        peak: hot["mailbox_peak"].as_i64().unwrap(),
    })
}

/// Both views are read while the load runs. The depth is a gauge read between the engine's turns,
/// and the engine may have drained the mailbox at every reading (it did, in CI); the peak is what
/// shows the burst whatever the moment of reading.
#[actix_rt::test]
async fn a_hot_products_mailbox_is_seen_filling_during_a_load() {
    const BUYERS: usize = 3_000;
    let shop = spawn_shop(Backend::Postgres).await;
    let product = product_with_items(&shop.engine, "hot", 1_000, BUYERS).await;
    let names: Vec<String> = (0..BUYERS).map(|b| format!("hot{b}")).collect();
    fund_all(&shop.engine, &names, 1_000).await;
    let load = spawn_hot_load(&shop.engine, &product, names);
    let (mut in_metrics, mut in_ops) = (Vec::new(), Vec::new());
    while !load.is_finished() {
        in_metrics.push(hot_mailbox_in_metrics(&shop).await);
        in_ops.push(hot_mailbox_in_ops(&shop).await);
    }
    load.await.unwrap();
    let (after_metrics, after_ops) = (hot_mailbox_in_metrics(&shop).await, hot_mailbox_in_ops(&shop).await);
    let peak_while_loading = |views: &[HotMailbox]| views.iter().map(|v| v.peak).max().unwrap_or(0);
    assert!(peak_while_loading(&in_metrics) > 0, "/metrics never showed the mailbox holding messages: {in_metrics:?}");
    assert!(peak_while_loading(&in_ops) > 0, "nor /ops/actors: {in_ops:?}");
    for view in [after_metrics, after_ops] {
        assert_eq!(view.depth, 0, "every message was handled");
        assert!(view.peak >= peak_while_loading(&in_ops), "the peak never falls: {view:?}");
        assert!(view.peak <= BUYERS as i64, "a buyer has one message at a time in the mailbox: {view:?}");
    }
    assert_eq!(after_metrics.peak, after_ops.peak, "one count, two views");

    let m = scrape(&shop).await;
    assert!(
        m[r#"warung_actor_messages_handled_total{kind="product"}"#] >= BUYERS as f64 * 2.0,
        "reserve and commit each"
    );
    // Sales are counted when committed, and every purchase was answered after its commit.
    assert_eq!(m["warung_sales_total"], BUYERS as f64);
    assert_eq!(m["warung_revenue_rupiah_total"], (BUYERS * 1_000) as f64);
    shop.finish().await;
}

#[actix_rt::test]
async fn ops_lists_actors_by_depth_or_rate_and_shows_one_without_its_items() {
    let shop = spawn_shop(Backend::Sqlite).await;
    product_with_items(&shop.engine, "viu", 15_000, 3).await;
    fund(&shop.engine, "6281300", 100_000).await;
    shop.ask("6281300", "beli viu", 1).await;
    let get = |path: &str| {
        let url = format!("{}{path}", shop.ops_address);
        let client = shop.client.clone();
        async move {
            let response = client.get(url).send().await.unwrap();
            (response.status().as_u16(), response.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };
    let (status, by_rate) = get("/ops/actors?sort=rate&limit=1").await;
    assert_eq!(status, 200);
    assert_eq!(by_rate["actors"].as_array().unwrap().len(), 1);
    assert!(by_rate["actors"][0]["messages_per_s"].as_f64().unwrap() > 0.0);
    assert_eq!(get("/ops/actors?sort=colour").await.0, 400);

    let (status, product) = get("/ops/actors/product/viu").await;
    assert_eq!(status, 200, "{product}");
    assert_eq!((product["state"]["sold"].as_i64(), product["state"]["available"].as_i64()), (Some(1), Some(2)));
    assert_eq!(product["actor"]["kind"], "product");
    assert!(!product.to_string().contains("viu-item-"), "item contents are never shown: {product}");
    let (status, wallet) = get("/ops/actors/wallet/6281300").await;
    assert_eq!(status, 200, "{wallet}");
    assert_eq!(wallet["state"]["balance"], "85000");
    assert!(!wallet.to_string().contains("6281300"), "the phone number is masked: {wallet}");
    assert_eq!(get("/ops/actors/product/nothing").await.0, 404);
    assert_eq!(get("/ops/actors/robot/x").await.0, 404);
    let page = shop.client.get(format!("{}/ops", shop.ops_address)).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("deepest mailboxes"));
    shop.finish().await;
}

#[actix_rt::test]
async fn every_metric_the_grafana_dashboard_plots_is_exported() {
    let shop =
        spawn_shop_with(Backend::Sqlite, StandIns::Accepting, |s| s.redis.url = Some("redis://127.0.0.1:6379".into()))
            .await;
    product_with_items(&shop.engine, "viu", 15_000, 1).await;
    shop.say("6281400", "produk").await;
    shop.replies("6281400", 1).await;
    let names: std::collections::HashSet<String> =
        scrape(&shop).await.keys().map(|series| series.split('{').next().unwrap().to_string()).collect();
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../../ops/grafana/warung-dashboard.json")).expect("the dashboard is JSON");
    let mut plotted = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            assert!(expr.contains(r#"instance=~"$instance""#), "{expr} does not follow the instance variable");
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if word.starts_with("warung_") || word.starts_with("process_") {
                    plotted += 1;
                    assert!(names.contains(word), "the dashboard plots {word}, which /metrics does not export");
                }
            }
        }
    }
    assert!(plotted >= 20, "only {plotted} metrics plotted");
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    assert!(variables.iter().any(|v| v["name"] == "instance" && v["includeAll"] == true), "an instance variable");
    let titles: Vec<&str> =
        dashboard["panels"].as_array().unwrap().iter().filter_map(|p| p["title"].as_str()).collect();
    for wanted in ["Sales per second", "Refusals per second, by reason", "Revenue", "HTTP errors"] {
        assert!(titles.iter().any(|t| t.starts_with(wanted)), "a panel for {wanted}: {titles:?}");
    }
    shop.finish().await;
}

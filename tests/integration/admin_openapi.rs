//! The running admin API against its own OpenAPI document. Schemathesis (from PyPI; scripts/test
//! installs it) reads the document the app serves, sends requests it generates from it (valid
//! ones and broken ones) to the app on 127.0.0.1 only, and checks that every answer has a
//! documented status, content type and schema, and that none is a server error.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use warung_actors::domain::Money;
use warung_actors::journal::StockKind;
use warung_actors::product::{ProductCommand, Restock};

use crate::helpers::*;

/// Requests generated per operation and phase: enough to reach each documented answer.
const EXAMPLES_PER_OPERATION: &str = "25";

/// The whole run takes about 15 s; past this it is stopped and the test fails.
const SCHEMATHESIS_SECS_MAX: u64 = 300;

/// Every answer's status, content type and body are documented, and none is a server error.
const CHECKS: &str = "status_code_conformance,content_type_conformance,response_schema_conformance,not_a_server_error";

/// One request's limit, in seconds.
const REQUEST_SECS_MAX: &str = "10";

#[actix_rt::test]
async fn the_admin_api_answers_as_its_openapi_document_says() {
    let engine = TestEngine::start(Backend::Sqlite).await;
    let viu = product_with_items(&engine, "viu", 15_000, 8).await;
    let pulsa = code("pulsa");
    engine.catalog.create(&pulsa, "Pulsa 10k", Money::rupiah(10_000), StockKind::Counted).await.unwrap();
    let stock =
        ProductCommand::Restock { reference: reference("pulsa-1"), stock: Restock::Count(50), actor: "test".into() };
    engine.lanes.product(&pulsa, stock).await.unwrap().unwrap();
    fund(&engine, "budi", 100_000).await;
    let paid = engine.checkout.buy_with_saldo(&customer("budi"), &viu, 1).await.unwrap().order;
    let awaiting = engine.checkout.buy_with_external(&customer("siti"), &pulsa, 2).await.unwrap().order;
    let app = spawn_app(&engine);
    let large = reqwest::Client::new()
        .put(format!("{}/admin/api/products/viu/price", app.address))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"price": "90000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(large.status().as_u16(), 202, "a price request to confirm");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schemathesis.toml"), config(&[paid.as_str(), awaiting.as_str()])).unwrap();
    let run = tokio::process::Command::new("python3")
        .args(["-m", "schemathesis.cli", "--no-color", "--config-file", "schemathesis.toml", "run"])
        .arg(format!("{}/admin/api/openapi.json", app.address))
        .args(["--url", &app.address])
        .args(["-H", &format!("Authorization: Bearer {ADMIN_TOKEN}")])
        .args(["--checks", CHECKS])
        .args(["--max-examples", EXAMPLES_PER_OPERATION, "--workers", "1", "--request-timeout", REQUEST_SECS_MAX])
        .args(["--generation-database", "none"])
        // Its caches go to the temporary directory, not the repository.
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("schemathesis (python3 -m pip install 'schemathesis>=4,<5'; scripts/test installs it)");
    let out = tokio::time::timeout(Duration::from_secs(SCHEMATHESIS_SECS_MAX), run.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("schemathesis ran past {SCHEMATHESIS_SECS_MAX} s and was stopped"))
        .unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "schemathesis found answers the document does not describe:\n{said}");
    assert!(said.contains("30 selected / 30 total"), "every operation was tested:\n{said}");
    engine.finish().await;
}

/// Known ids, so that generated requests also reach existing orders, customers and products
/// rather than only being told they do not exist.
fn config(orders: &[&str]) -> String {
    let orders = orders.iter().map(|o| format!("{o:?}")).collect::<Vec<_>>().join(", ");
    format!(
        r#"[dictionaries.orders]
values = [{orders}]
[dictionaries.customers]
values = ["budi", "siti"]
[dictionaries.products]
values = ["viu", "pulsa"]

[parameters]
"path.code" = {{ dictionary = "products", probability = 0.7 }}
"path.customer" = {{ dictionary = "customers", probability = 0.7 }}
"body.customer" = {{ dictionary = "customers", probability = 0.7 }}
"body.product" = {{ dictionary = "products", probability = 0.7 }}

[[operations]]
include-path-regex = "^/admin/api/orders/"
parameters = {{ "path.id" = {{ dictionary = "orders", probability = 0.7 }} }}

[[operations]]
include-path-regex = "^/admin/api/customers/"
parameters = {{ "path.id" = {{ dictionary = "customers", probability = 0.7 }} }}
"#
    )
}

//! Logs as an ops engineer reads them: JSON lines, and an HTTP request's id on what the actors
//! log while handling it.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::*;

#[actix_rt::test]
async fn an_http_requests_id_is_on_the_log_lines_the_actors_write_for_it() {
    let db = TestDb::new(Backend::Sqlite).await;
    let (mut child, base) = spawn_with_json_logs(&db).await;
    let client = reqwest::Client::new();
    let create = json!({"code": "viu", "name": "Viu", "price": "15000"});
    client.post(format!("{base}/admin/api/products")).bearer_auth(ADMIN_TOKEN).json(&create).send().await.unwrap();
    let stock = json!({"reference": "s1", "items": ["secret-login-1"]});
    let answer = client
        .post(format!("{base}/admin/api/products/viu/stock"))
        .bearer_auth(ADMIN_TOKEN)
        .header("X-Request-Id", "req-trace-42")
        .json(&stock)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let (out, err) = stop_and_read(&mut child);
    let lines: Vec<Value> = format!("{out}{err}").lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let restock = lines
        .iter()
        .find(|l| l["fields"]["command"] == "restock")
        .unwrap_or_else(|| panic!("no restock line in:\n{out}{err}"));
    assert_eq!(restock["span"]["request_id"], "req-trace-42", "{restock}");
    assert_eq!(restock["fields"]["product"], "viu");
    assert!(!format!("{out}{err}").contains("secret-login-1"), "item secrets are never logged");
    db.remove().await;
}

#[actix_rt::test]
async fn a_phone_number_in_a_request_path_never_reaches_the_logs() {
    let db = TestDb::new(Backend::Sqlite).await;
    let (mut child, base) = spawn_with_json_logs(&db).await;
    let client = reqwest::Client::new();
    let phone = "6281234567890";
    let top_up = json!({"payment_id": "bca-77", "amount": "1000"});
    let answer = client
        .post(format!("{base}/admin/api/wallets/{phone}/top-ups"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&top_up)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let answer =
        client.get(format!("{base}/admin/api/customers/{phone}")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let (out, err) = stop_and_read(&mut child);
    let logs = format!("{out}{err}");
    assert!(logs.contains("/admin/api/wallets/{customer}/top-ups"), "the route is logged by its pattern:\n{logs}");
    let request = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["fields"]["message"] == "request" && l["fields"]["route"] == "/admin/api/customers/{id}")
        .unwrap_or_else(|| panic!("no request line for the customer's page:\n{logs}"));
    let fields = &request["fields"];
    assert_eq!((fields["method"].as_str(), fields["status"].as_u64()), (Some("GET"), Some(200)), "{request}");
    assert!(fields["latency_ms"].as_f64().is_some() && fields["request_id"].as_str().is_some(), "{request}");
    assert!(!logs.contains(phone), "a full phone number was logged:\n{logs}");
    db.remove().await;
}

/// `warung serve` on a free port with JSON logs (actors at debug), once it is ready.
async fn spawn_with_json_logs(db: &TestDb) -> (Child, String) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_warung"))
        .args(["serve", "--database-url", &db.url])
        .env("WARUNG_HTTP__BIND", format!("127.0.0.1:{port}"))
        .env("WARUNG_HTTP__OPS_BIND", "127.0.0.1:0")
        .env("WARUNG_ADMIN__TOKEN", ADMIN_TOKEN)
        .env("WARUNG_LOG__FORMAT", "json")
        .env("RUST_LOG", "info,sqlx=warn,warung_actors=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !client.get(format!("{base}/ready")).send().await.is_ok_and(|r| r.status().is_success()) {
        assert!(Instant::now() < deadline, "warung did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (child, base)
}

/// Stops the child and returns what it wrote to stdout and stderr.
fn stop_and_read(child: &mut Child) -> (String, String) {
    let _ = child.kill();
    let _ = child.wait();
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (out, err)
}

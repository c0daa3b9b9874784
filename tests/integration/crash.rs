//! The real binary runs a flash sale, is killed with SIGKILL in the middle, and restarts:
//! every acknowledged purchase is stored, nothing is sold twice, reservations keep their expiry.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::join_all;
use futures::StreamExt;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};

use crate::helpers::*;

const BUYERS: usize = 3_000;
const HOT_ITEMS: usize = 3_000;
const PAYMENT_TTL_SECS: u64 = 8;

struct Server {
    child: Child,
    base: String,
}

/// A failed assertion must not leave a server running.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db: &TestDb) -> Server {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let journal = serde_json::to_value(db.journal).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_warung"))
        .args(["serve", "--database-url", &db.url])
        .env("WARUNG_DATABASE__JOURNAL", journal.as_str().unwrap())
        .env("WARUNG_HTTP__BIND", format!("127.0.0.1:{port}"))
        .env("WARUNG_HTTP__OPS_BIND", "127.0.0.1:0")
        .env("WARUNG_ADMIN__TOKEN", ADMIN_TOKEN)
        .env("WARUNG_ENGINE__PAYMENT_TTL_SECS", PAYMENT_TTL_SECS.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    Server { child, base: format!("http://127.0.0.1:{port}") }
}

async fn get(client: &reqwest::Client, url: String) -> Value {
    client.get(url).bearer_auth(ADMIN_TOKEN).send().await.unwrap().json().await.unwrap()
}

/// Top-ups in flight at once while the test sets up its wallets.
const SETUP_IN_FLIGHT: usize = 200;

/// A product `hot` with `units` items, and `buyers` wallets `{prefix}{n}` holding its price.
async fn stock_and_fund(client: &reqwest::Client, base: &str, units: usize, prefix: &str, buyers: usize) {
    admin_post(client, format!("{base}/admin/api/products"), json!({"code": "hot", "name": "Hot", "price": "10000"}))
        .await
        .unwrap();
    let items: Vec<String> = (0..units).map(|i| format!("hot-{i}")).collect();
    admin_post(client, format!("{base}/admin/api/products/hot/stock"), json!({"reference": "s1", "items": items}))
        .await
        .unwrap();
    let top_ups = (0..buyers).map(|b| {
        admin_post(
            client,
            format!("{base}/admin/api/wallets/{prefix}{b}/top-ups"),
            json!({"payment_id": format!("p{b}"), "amount": "10000"}),
        )
    });
    // The setup is not the storm: at most `SETUP_IN_FLIGHT` at once. Three thousand at once on
    // a slow host left some waiting past the server's request timeout (408) or the pool's (503),
    // both answers that store nothing.
    let answers: Vec<_> = futures::stream::iter(top_ups).buffer_unordered(SETUP_IN_FLIGHT).collect().await;
    let refused: Vec<_> = answers.iter().filter(|r| !matches!(r, Ok((200, _)))).collect();
    assert!(refused.is_empty(), "{} of {buyers} top-ups refused, first: {:?}", refused.len(), refused.first());
}

/// Every buyer buys one `hot` at once; after 40 purchases are acknowledged the server gets
/// `signal`. Returns the acknowledged purchases: (order, item).
async fn buy_until_signalled(
    client: &reqwest::Client,
    server: &Server,
    prefix: &str,
    buyers: usize,
    signal: Signal,
) -> Vec<(String, String)> {
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let purchases = (0..buyers).map(|b| {
        let (client, base, acknowledged) = (client.clone(), server.base.clone(), acknowledged.clone());
        async move {
            if let Ok((200, body)) = admin_post(
                &client,
                format!("{base}/admin/api/purchases"),
                json!({"customer": format!("{prefix}{b}"), "product": "hot"}),
            )
            .await
            {
                let item = body["items"][0].as_str().unwrap().to_string();
                acknowledged.lock().unwrap().push((body["order"].as_str().unwrap().to_string(), item));
            }
        }
    });
    let signaller = {
        let acknowledged = acknowledged.clone();
        let pid = Pid::from_raw(server.child.id() as i32);
        async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            while acknowledged.lock().unwrap().len() < 40 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            kill(pid, signal).unwrap();
        }
    };
    futures::join!(join_all(purchases), signaller);
    let acknowledged = acknowledged.lock().unwrap().clone();
    acknowledged
}

async fn a_flash_sale_killed_with_sigkill_loses_no_acknowledged_purchase(backend: Backend) {
    let db = TestDb::new(backend).await;
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    let mut server = start(&db);
    wait_ready(&client, &server.base).await;
    let base = server.base.clone();

    stock_and_fund(&client, &base, HOT_ITEMS, "buyer", BUYERS).await;
    admin_post(
        &client,
        format!("{base}/admin/api/products"),
        json!({"code": "slow", "name": "Slow", "price": "5000", "counted": true}),
    )
    .await
    .unwrap();
    let (status, body) =
        admin_post(&client, format!("{base}/admin/api/products/slow/stock"), json!({"reference": "s1", "count": 10}))
            .await
            .unwrap();
    assert_eq!(status, 200, "{body}");
    let mut awaiting = Vec::new();
    for e in 0..5 {
        let (status, body) = admin_post(
            &client,
            format!("{base}/admin/api/orders"),
            json!({"customer": format!("ext{e}"), "product": "slow"}),
        )
        .await
        .unwrap();
        assert_eq!(status, 201, "opening an order awaiting payment: {status} {body}");
        awaiting.push((body["order"].as_str().unwrap().to_string(), body["expires_at_ms"].as_i64().unwrap()));
    }

    let acknowledged = buy_until_signalled(&client, &server, "buyer", BUYERS, Signal::SIGKILL).await;
    server.child.wait().unwrap();
    assert!(
        acknowledged.len() >= 40 && acknowledged.len() < HOT_ITEMS,
        "killed mid-sale after {} purchases",
        acknowledged.len()
    );

    let mut server = start(&db);
    wait_ready(&client, &server.base).await;
    let base = server.base.clone();
    for (order, item) in &acknowledged {
        let stored = get(&client, format!("{base}/admin/api/orders/{order}")).await;
        assert_eq!(stored["state"], json!("paid"), "acknowledged order {order} is stored as paid");
        let delivered =
            db.store().await.delivered_items(&warung_actors::domain::OrderId::parse(order).unwrap()).await.unwrap();
        assert_eq!(delivered.iter().map(|i| i.expose()).collect::<Vec<_>>(), vec![item.as_str()]);
    }

    // Reservations resume their expiry: still awaiting until their time, then expired, stock back.
    let deadline = Instant::now() + Duration::from_secs(PAYMENT_TTL_SECS + 30);
    for (order, expires_at) in &awaiting {
        loop {
            let stored = get(&client, format!("{base}/admin/api/orders/{order}")).await;
            assert_eq!(stored["expires_at_ms"].as_i64(), Some(*expires_at), "the expiry survived the restart");
            if stored["state"] == json!("expired") {
                let now_ms =
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
                assert!(now_ms >= *expires_at, "expired on time, not early");
                break;
            }
            assert_eq!(stored["state"], json!("awaiting_payment"));
            assert!(Instant::now() < deadline, "order {order} never expired");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let slow = get(&client, format!("{base}/admin/api/products/slow")).await;
    assert_eq!((slow["available"].as_i64(), slow["reserved"].as_i64()), (Some(10), Some(0)));

    // The sale goes on after the restart.
    let (status, body) =
        admin_post(&client, format!("{base}/admin/api/purchases"), json!({"customer": "buyer999", "product": "hot"}))
            .await
            .unwrap();
    assert!(status == 200 || body["code"] == json!("insufficient_balance"), "{status} {body}");

    kill(Pid::from_raw(server.child.id() as i32), Signal::SIGTERM).unwrap();
    assert!(server.child.wait().unwrap().success(), "a SIGTERM is a clean exit");
    let audit = Command::new(env!("CARGO_BIN_EXE_warung")).args(["audit", "--database-url", &db.url]).output().unwrap();
    assert!(audit.status.success(), "{}", String::from_utf8_lossy(&audit.stdout));
    db.remove().await;
}

on_both_backends!(a_flash_sale_killed_with_sigkill_loses_no_acknowledged_purchase);

/// SIGTERM in the middle of a sale: the server stops taking requests, finishes those in progress,
/// flushes the journal and exits 0; every purchase it acknowledged is stored; the audit is clean.
#[actix_rt::test]
async fn a_sigterm_during_a_flash_sale_exits_cleanly_and_keeps_every_acknowledged_purchase() {
    const SHOPPERS: usize = 2_000;
    let db = TestDb::new(Backend::Postgres).await;
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    let mut server = start(&db);
    wait_ready(&client, &server.base).await;
    let base = server.base.clone();
    stock_and_fund(&client, &base, SHOPPERS, "shopper", SHOPPERS).await;
    let acknowledged = buy_until_signalled(&client, &server, "shopper", SHOPPERS, Signal::SIGTERM).await;
    let status = server.child.wait().unwrap();
    assert!(status.success(), "a SIGTERM under load is a clean exit: {status}");
    assert!(acknowledged.len() >= 40, "only {} purchases before the stop", acknowledged.len());

    let store = db.store().await;
    for (order, item) in &acknowledged {
        let id = warung_actors::domain::OrderId::parse(order).unwrap();
        let stored = store.order(&id).await.unwrap().unwrap_or_else(|| panic!("acknowledged order {order} is missing"));
        assert_eq!(stored.state, warung::checkout::OrderState::Paid, "{order}");
        let delivered = store.delivered_items(&id).await.unwrap();
        assert_eq!(delivered.iter().map(|i| i.expose()).collect::<Vec<_>>(), vec![item.as_str()]);
    }
    store.close().await;
    let audit = Command::new(env!("CARGO_BIN_EXE_warung")).args(["audit", "--database-url", &db.url]).output().unwrap();
    assert!(audit.status.success(), "{}", String::from_utf8_lossy(&audit.stdout));
    db.remove().await;
}

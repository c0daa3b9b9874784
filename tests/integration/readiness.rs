//! `/ready` as a load balancer sees it: not ready while the database refuses connections, ready
//! again once it is back, with Redis and the providers reported.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;
use crate::shop::*;

async fn ready(shop: &Shop) -> (u16, Value) {
    let response = shop.client.get(format!("{}/ready", shop.ops_address)).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

async fn wait_for(shop: &Shop, status: u16) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (now, body) = ready(shop).await;
        if now == status {
            return body;
        }
        assert!(tokio::time::Instant::now() < deadline, "/ready never answered {status}: {now} {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn admin(sql: String) {
    let admin = sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&admin).await.unwrap();
    admin.close().await;
}

#[actix_rt::test]
async fn ready_goes_unready_while_the_database_refuses_connections_and_comes_back() {
    let shop = spawn_shop(Backend::Postgres).await;
    let (status, body) = ready(&shop).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["migrations"], "applied");
    assert_eq!(body["redis"], "not configured");
    assert_eq!((body["whatsapp"].as_str(), body["midtrans"].as_str()), (Some("live"), Some("live")));

    admin(format!("ALTER DATABASE {} ALLOW_CONNECTIONS false", shop.db.name)).await;
    cut_every_connection(&shop.db.name).await;
    let down = wait_for(&shop, 503).await;
    assert_ne!(down["store"], "ok", "{down}");
    let health = shop.client.get(format!("{}/health", shop.address)).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200, "the process itself is still up");

    admin(format!("ALTER DATABASE {} ALLOW_CONNECTIONS true", shop.db.name)).await;
    let back = wait_for(&shop, 200).await;
    assert_eq!(back["store"], "ok");
    shop.finish().await;
}

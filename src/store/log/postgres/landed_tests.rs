//! What an append whose commit's answer was lost learns of its record (`landed`), on a database
//! of its own on the test's Postgres, migrated as the engine's.

use std::time::Duration;

use sqlx::postgres::PgPool;
use sqlx::Connection;
use warung_actors::journal::SinkError;

use super::landed;
use crate::store::log::projector::{settle_append, Landed};

const SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// A migrated database of its own, and its name (dropped by `remove`).
async fn scratch() -> (PgPool, String) {
    let name = format!("warung_landed_{:016x}", rand::random::<u64>());
    let admin = PgPool::connect(&format!("{SERVER}/postgres")).await.expect("the test's Postgres");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
    admin.close().await;
    let url = format!("{SERVER}/{name}");
    let store = crate::store::connect(&url, 2).await.unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    (PgPool::connect(&url).await.unwrap(), name)
}

async fn remove(pool: PgPool, name: String) {
    pool.close().await;
    let admin = PgPool::connect(&format!("{SERVER}/postgres")).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).execute(&admin).await.unwrap();
    admin.close().await;
}

const APPEND: &str = "INSERT INTO journal_log (key, record, appended_at) VALUES ($1, '\\x01', 1) RETURNING position";

#[tokio::test]
async fn a_committed_record_is_found_and_a_missing_one_did_not_land() {
    let (pool, name) = scratch().await;
    let position: i64 = sqlx::query_scalar(APPEND).bind(7_i64).fetch_one(&pool).await.unwrap();
    assert_eq!(landed(&pool, 7).await.unwrap(), Landed::At(position));
    assert_eq!(landed(&pool, 8).await.unwrap(), Landed::Not);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM journal_log").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 1, "the probe leaves nothing behind");
    remove(pool, name).await;
}

/// A backend still committing the record (its client gone, as after a cut connection) is waited
/// for: a plain read sees nothing yet, which the check before this one took for "did not
/// commit", and the record then committed all the same.
#[tokio::test]
async fn a_record_still_committing_is_waited_for() {
    let (pool, name) = scratch().await;
    for commits in [true, false] {
        let key: i64 = if commits { 21 } else { 22 };
        let mut writer = pool.acquire().await.unwrap().detach();
        let mut open = writer.begin().await.unwrap();
        let position: i64 = sqlx::query_scalar(APPEND).bind(key).fetch_one(&mut *open).await.unwrap();
        let plain: Option<i64> = sqlx::query_scalar("SELECT position FROM journal_log WHERE key = $1")
            .bind(key)
            .fetch_optional(&pool)
            .await
            .unwrap();
        assert_eq!(plain, None, "a plain read cannot see a record still committing");

        let probe = tokio::spawn({
            let pool = pool.clone();
            async move { landed(&pool, key).await.unwrap() }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!probe.is_finished(), "the probe waits for the transaction writing the key");
        match commits {
            true => open.commit().await.unwrap(),
            false => open.rollback().await.unwrap(),
        }
        let expected = if commits { Landed::At(position) } else { Landed::Not };
        assert_eq!(probe.await.unwrap(), expected);
        writer.close().await.unwrap();
    }
    remove(pool, name).await;
}

#[tokio::test]
async fn an_outcome_the_store_cannot_tell_stops_the_writes() {
    let lost = Err(sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset)));
    let settled = settle_append(lost, std::future::ready(Landed::Unknown)).await;
    assert!(matches!(settled, Err(SinkError::Fenced(_))), "{settled:?}");
    let lost = Err(sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset)));
    let settled = settle_append(lost, std::future::ready(Landed::Not)).await;
    assert!(matches!(settled, Err(SinkError::Unavailable(_))), "{settled:?}");
}

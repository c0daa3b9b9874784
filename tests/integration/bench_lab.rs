//! `warung bench flash-sale` with small numbers: every strategy runs, the JSON says what the
//! issue promises, and every correct strategy is reported correct.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;

const BUYERS: u64 = 400;
const STOCK: u64 = 50;

/// A Redis of the test's own that logs every write and fsyncs it before answering, on a free
/// port; killed when dropped.
struct FsyncRedis {
    _server: tokio::process::Child,
    _dir: tempfile::TempDir,
    url: String,
}

async fn start_fsync_redis() -> FsyncRedis {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let server = tokio::process::Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", ""])
        .args(["--appendonly", "yes", "--appendfsync", "always", "--dir"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-server is installed");
    let url = format!("redis://127.0.0.1:{port}");
    let client = redis::Client::open(url.as_str()).unwrap();
    for _ in 0..100 {
        if let Ok(mut connection) = client.get_multiplexed_async_connection().await {
            let pong: Result<String, _> = redis::cmd("PING").query_async(&mut connection).await;
            if pong.is_ok() {
                return FsyncRedis { _server: server, _dir: dir, url };
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the test's Redis did not start on port {port}");
}

#[actix_rt::test]
async fn the_flash_sale_lab_runs_every_strategy_and_reports_each_correct() {
    let db = TestDb::new(Backend::Postgres).await;
    let fsync_redis = start_fsync_redis().await;
    let dir = tempfile::tempdir().unwrap();
    let (json_path, html_path) = (dir.path().join("lab.json"), dir.path().join("lab.html"));
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_warung"))
        .args(["bench", "flash-sale", "--strategy", "all", "--concurrency", "8", "--funded-fraction", "0.8"])
        .args(["--buyers", &BUYERS.to_string(), "--stock", &STOCK.to_string()])
        .args(["--database-url", &db.url, "--redis-url", "redis://127.0.0.1:6379"])
        .args(["--redis-fsync-url", &fsync_redis.url])
        .arg("--sqlite-dir")
        .arg(dir.path())
        .arg("--json")
        .arg(&json_path)
        .arg("--report")
        .arg(&html_path)
        .env("WARUNG_DATABASE__MAX_CONNECTIONS", "8")
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("pg-row-lock") && stdout.contains("correct"), "{stdout}");
    assert!(stdout.contains("durable NO: redis-lua: "), "said plainly that Redis is not durable: {stdout}");
    assert!(!stdout.contains("durable NO: redis-lua-fsync"), "the test's Redis fsyncs: {stdout}");

    let report: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    assert!(report["machine"]["cores"].as_u64().unwrap() >= 1, "{}", report["machine"]);
    assert_eq!(report["params"]["stock"], STOCK);
    assert_eq!(report["params"]["stop"]["buyers"], BUYERS);
    let runs = report["runs"].as_array().unwrap();
    let names: Vec<&str> = runs.iter().map(|r| r["strategy"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["actor", "actor-sqlite", "pg-row-lock", "pg-atomic", "sqlite-tx", "redis-lua", "redis-lua-fsync"]
    );
    for run in runs {
        let name = run["strategy"].as_str().unwrap();
        assert_eq!(run["attempted"], BUYERS, "{name}");
        assert_eq!(run["sold"], STOCK, "{name}: 320 buyers can pay for 50 units");
        assert_eq!(run["sold_in_store"], STOCK, "{name}");
        let refused = run["refused_sold_out"].as_u64().unwrap() + run["refused_insufficient"].as_u64().unwrap();
        assert_eq!(refused, BUYERS - STOCK, "{name}");
        assert_eq!(run["oversold"], 0, "{name}");
        assert_eq!(run["negative_wallets"], 0, "{name}");
        assert_eq!(run["money_conserved"], true, "{name}: {}", run["money_difference"]);
        assert_eq!(run["duplicate_deliveries"], 0, "{name}");
        assert_eq!(run["correct"], true, "{name}: {run}");
        assert!(run["throughput_per_s"].as_f64().unwrap() > 0.0, "{name}");
        for quantile in ["p50", "p90", "p99", "p999", "max"] {
            assert!(run["latency_ms"][quantile].as_f64().is_some(), "{name} {quantile}");
        }
        assert_eq!(run["durable"], name != "redis-lua", "{name}");
        assert_eq!(run["latency_percentiles_ms"].as_array().unwrap().len(), 9, "{name}: p50 to p99.99");
        let timed: u64 =
            run["latency_histogram_ms"].as_array().unwrap().iter().map(|bucket| bucket[1].as_u64().unwrap()).sum();
        assert_eq!(timed, BUYERS, "{name}: every slot's attempts are in the one latency histogram");
        let over_time = run["throughput_over_time"].as_array().unwrap();
        assert!(!over_time.is_empty(), "{name}: throughput over time");
        let attempts: f64 = {
            let mut at = 0.0;
            over_time.iter().map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap())).fold(0.0, |sum, (t, rate)| {
                let step = t - at;
                at = t;
                sum + rate * step
            })
        };
        assert!((attempts - BUYERS as f64).abs() < 1.0, "{name}: the steps add up to every attempt: {attempts}");
    }
    assert_eq!(runs[2]["vs_pg_row_lock"], 1.0);
    let page = std::fs::read_to_string(&html_path).unwrap();
    assert!(page.contains("<svg") && names.iter().all(|n| page.contains(n)), "a page with charts");
    for chart in ["Throughput over time", "Latency percentiles", "p99.99", "attempts per second"] {
        assert!(page.contains(chart), "the page has {chart}");
    }
    assert!(dir.path().join("warung_bench_actor.db").exists(), "actor-sqlite's database is kept for the audit");
    assert!(!dir.path().join("sqlite_tx.db").exists(), "the peer's database is removed");

    let admin = sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await.unwrap();
    let drop = format!("DROP DATABASE IF EXISTS {}_bench_actor WITH (FORCE)", db.name);
    sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&admin).await.unwrap();
    admin.close().await;
    db.remove().await;
}

#[actix_rt::test]
async fn the_durable_redis_strategy_on_a_redis_that_does_not_fsync_is_reported_not_durable() {
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("lab.json");
    let args = ["--strategy", "redis-lua-fsync", "--concurrency", "4", "--buyers", "50", "--stock", "10"];
    let (output, stdout, stderr) =
        small_lab(&args, &["--redis-fsync-url", "redis://127.0.0.1:6379"], dir.path(), &json_path).await;
    assert!(output.status.success(), "it ran correctly, only not durably: {stdout}\n{stderr}");
    assert!(stderr.contains("redis-lua-fsync: NOT DURABLE: appendonly is \"no\""), "loudly, at once: {stderr}");
    assert!(stdout.contains("durable NO: redis-lua-fsync: the server is not configured to fsync"), "{stdout}");
    let report: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    assert_eq!(report["runs"][0]["durable"], false);
    assert!(report["runs"][0]["not_durable_because"].as_str().unwrap().contains("appendfsync"), "{report}");
}

#[actix_rt::test]
async fn several_rounds_run_every_strategy_in_turn_and_report_each_ones_median() {
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("lab.json");
    let args = ["--strategy", "redis-lua,sqlite-tx", "--concurrency", "4", "--buyers", "60", "--stock", "20"];
    let (output, stdout, stderr) =
        small_lab(&args, &["--rounds", "3", "--redis-url", "redis://127.0.0.1:6379"], dir.path(), &json_path).await;
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let order: Vec<&str> = stdout.lines().filter(|l| l.starts_with("round ")).collect();
    assert_eq!(order, ["round 1 of 3:", "round 2 of 3:", "round 3 of 3:"], "{stdout}");
    let summary = stdout.split("median of 3 rounds").nth(1).expect("the medians after the rounds");
    for strategy in ["redis-lua", "sqlite-tx"] {
        let line = summary.lines().find(|l| l.starts_with(strategy)).unwrap_or_else(|| panic!("{summary}"));
        assert!(line.contains("3 of 3"), "correct in every round: {line}");
        assert_eq!(line.split(" / ").count(), 3, "each round's rate: {line}");
    }
    let report: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let rounds = report["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 3);
    for round in rounds {
        let names: Vec<&str> = round.as_array().unwrap().iter().map(|r| r["strategy"].as_str().unwrap()).collect();
        assert_eq!(names, ["redis-lua", "sqlite-tx"], "the strategies in turn, every round");
    }
    assert_eq!(report["runs"], rounds[2], "`runs` holds the last round, as with one");
}

/// Runs `warung bench flash-sale` with `args` and `more`, its SQLite files in `dir`, its JSON to
/// `json`: the output, and its stdout and stderr as text.
async fn small_lab(
    args: &[&str],
    more: &[&str],
    dir: &std::path::Path,
    json: &std::path::Path,
) -> (std::process::Output, String, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_warung"))
        .args(["bench", "flash-sale"])
        .args(args)
        .args(more)
        .arg("--sqlite-dir")
        .arg(dir)
        .arg("--json")
        .arg(json)
        .output()
        .await
        .unwrap();
    let (stdout, stderr) =
        (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned());
    (output, stdout, stderr)
}

#[actix_rt::test]
async fn a_second_lab_run_on_the_same_database_is_refused_before_it_touches_anything() {
    let db = TestDb::new(Backend::Postgres).await;
    let running = warung::bench::lab_lock::take(&db.url).await.expect("the first run's lock");
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("lab.json");
    let args = ["--strategy", "actor,pg-row-lock", "--concurrency", "4", "--buyers", "20", "--stock", "10"];
    let (output, stdout, stderr) = small_lab(&args, &["--database-url", &db.url], dir.path(), &json_path).await;
    assert!(!output.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("another `warung bench flash-sale` is running on this database"), "{stderr}");
    let engines: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname LIKE $1")
        .bind(format!("{}_bench_actor", db.name))
        .fetch_one(&sqlx::PgPool::connect(&db.url).await.unwrap())
        .await
        .unwrap();
    assert_eq!(engines, 0, "no database made or dropped");
    drop(running);
    db.remove().await;
}

#[actix_rt::test]
async fn a_second_lab_run_in_the_same_sqlite_dir_is_refused_before_it_touches_anything() {
    let dir = tempfile::tempdir().unwrap();
    let running = warung::bench::lab_lock::take_sqlite_dir(dir.path()).expect("the first run's lock");
    let engine_file = dir.path().join("warung_bench_actor.db");
    std::fs::write(&engine_file, b"the first run's").unwrap();
    let json_path = dir.path().join("lab.json");
    let args = ["--strategy", "actor-sqlite,sqlite-tx", "--concurrency", "4", "--buyers", "20", "--stock", "10"];
    let (output, stdout, stderr) = small_lab(&args, &[], dir.path(), &json_path).await;
    assert!(!output.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("another `warung bench flash-sale` is running in"), "{stderr}");
    assert_eq!(std::fs::read(&engine_file).unwrap(), b"the first run's", "no file removed or made");
    drop(running);
}

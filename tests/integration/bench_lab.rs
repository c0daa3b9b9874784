//! `warung bench flash-sale` with small numbers: every strategy runs, the JSON says what the
//! issue promises, and every correct strategy is reported correct.

use serde_json::Value;

use crate::helpers::*;

const BUYERS: u64 = 400;
const STOCK: u64 = 50;

#[actix_rt::test]
async fn the_flash_sale_lab_runs_every_strategy_and_reports_each_correct() {
    let db = TestDb::new(Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let (json_path, html_path) = (dir.path().join("lab.json"), dir.path().join("lab.html"));
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_warung"))
        .args(["bench", "flash-sale", "--strategy", "all", "--concurrency", "8", "--funded-fraction", "0.8"])
        .args(["--buyers", &BUYERS.to_string(), "--stock", &STOCK.to_string()])
        .args(["--database-url", &db.url, "--redis-url", "redis://127.0.0.1:6379"])
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
    assert!(stdout.contains("durable NO: redis-lua"), "said plainly that Redis is not durable: {stdout}");

    let report: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    assert!(report["machine"]["cores"].as_u64().unwrap() >= 1, "{}", report["machine"]);
    assert_eq!(report["params"]["stock"], STOCK);
    assert_eq!(report["params"]["stop"]["buyers"], BUYERS);
    let runs = report["runs"].as_array().unwrap();
    let names: Vec<&str> = runs.iter().map(|r| r["strategy"].as_str().unwrap()).collect();
    assert_eq!(names, ["actor", "pg-row-lock", "pg-atomic", "redis-lua"]);
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
    }
    assert_eq!(runs[1]["vs_pg_row_lock"], 1.0);
    let page = std::fs::read_to_string(&html_path).unwrap();
    assert!(page.contains("<svg") && names.iter().all(|n| page.contains(n)), "a page with charts");

    let admin = sqlx::PgPool::connect(POSTGRES_ADMIN_URL).await.unwrap();
    let drop = format!("DROP DATABASE IF EXISTS {}_bench_actor WITH (FORCE)", db.name);
    sqlx::query(sqlx::AssertSqlSafe(drop)).execute(&admin).await.unwrap();
    admin.close().await;
    db.remove().await;
}

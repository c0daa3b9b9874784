//! Real `warung serve` processes as the nodes of one cluster on the test's database and the
//! machine's NATS, a client that buys through any of them, and the history it records.

use std::net::TcpListener;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};

use crate::helpers::*;

pub const HEARTBEAT_MS: u64 = 250;
pub const TTL_MS: u64 = 1_500;
/// The exit status of a node fenced out of its cluster (`warung::cli::EXIT_FENCED`).
pub const EXIT_FENCED: i32 = 75;

pub struct Node {
    pub id: String,
    pub base: String,
    db_url: String,
    /// The database's journal (`WARUNG_DATABASE__JOURNAL`): the nodes share the log.
    journal: &'static str,
    cluster: String,
    port: u16,
    child: Option<Child>,
}

/// A failed assertion must not leave a node running.
impl Drop for Node {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGCONT);
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Node {
    pub fn start(db: &TestDb, id: &str) -> Node {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut node = Node {
            id: id.to_string(),
            base: format!("http://127.0.0.1:{port}"),
            db_url: db.url.clone(),
            journal: match db.journal {
                warung::store::JournalMode::Tables => "tables",
                warung::store::JournalMode::Log => "log",
            },
            cluster: db.name.clone(),
            port,
            child: None,
        };
        node.spawn();
        node
    }

    fn spawn(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_warung"))
            .args(["serve", "--database-url", &self.db_url])
            .env("WARUNG_HTTP__BIND", format!("127.0.0.1:{}", self.port))
            .env("WARUNG_HTTP__OPS_BIND", "127.0.0.1:0")
            .env("WARUNG_ADMIN__TOKEN", ADMIN_TOKEN)
            .env("WARUNG_DATABASE__MAX_CONNECTIONS", "6")
            .env("WARUNG_DATABASE__JOURNAL", self.journal)
            .env("WARUNG_CLUSTER__ENABLED", "true")
            .env("WARUNG_CLUSTER__NAME", &self.cluster)
            .env("WARUNG_CLUSTER__NODE_ID", &self.id)
            .env("WARUNG_CLUSTER__HEARTBEAT_MS", HEARTBEAT_MS.to_string())
            .env("WARUNG_CLUSTER__TTL_MS", TTL_MS.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// Starts the node again (a process supervisor's restart): a new incarnation.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "restarting a node that runs");
        self.spawn();
    }

    pub fn signal(&self, signal: Signal) {
        let child = self.child.as_ref().expect("a running node");
        kill(Pid::from_raw(child.id() as i32), signal).unwrap();
    }

    /// Waits up to `within` for the process to end, and reaps it.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            let child = self.child.as_mut().expect("a node to wait for");
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub async fn wait_ready(&self, client: &reqwest::Client) {
        wait_ready(client, &self.base).await;
    }
}

/// The database's view of the cluster, read directly.
pub struct Tables {
    pub pool: sqlx::PgPool,
}

impl Tables {
    pub async fn open(db: &TestDb) -> Tables {
        Tables { pool: sqlx::PgPool::connect(&db.url).await.unwrap() }
    }

    /// Shards owned by a node that is up (not dead, not taken over).
    /// Waits until the journal's log is empty: every record any node acknowledged is in the
    /// tables (at once on the tables' journal, whose log stays empty).
    pub async fn until_log_projected(&self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let (left,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM journal_log").fetch_one(&self.pool).await.unwrap();
            if left == 0 {
                return;
            }
            assert!(Instant::now() < deadline, "{left} log records still not projected after {within:?}");
            // Polling other processes' projectors: no event to await here.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn shards_served(&self) -> i64 {
        let (served,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM cluster_shards s JOIN cluster_nodes n \
               ON n.node_id = s.owner AND n.incarnation = s.owner_incarnation AND n.state = 'up'",
        )
        .fetch_one(&self.pool)
        .await
        .unwrap();
        served
    }

    /// Waits until all 256 shards are served; returns how long it took.
    pub async fn until_every_shard_served(&self, within: Duration) -> Duration {
        let started = Instant::now();
        while self.shards_served().await < 256 {
            assert!(started.elapsed() < within, "shards not all served within {within:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        started.elapsed()
    }

    /// Waits until every shard is served by a node other than `node` (taken over or handed
    /// off); returns how long it took.
    pub async fn until_served_without(&self, node: &str, within: Duration) -> Duration {
        let started = Instant::now();
        loop {
            let (held,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cluster_shards WHERE owner = $1")
                .bind(node)
                .fetch_one(&self.pool)
                .await
                .unwrap();
            if held == 0 && self.shards_served().await == 256 {
                return started.elapsed();
            }
            assert!(started.elapsed() < within, "{node}'s shards not served by others within {within:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// From now on, every committed transaction that wrote the shop's tables under the fence is
    /// noted with its writer (`warung.writer`, set by `warung_fence`: node and incarnation) and
    /// the time of its last write, on the database's clock.
    pub async fn note_writers(&self) {
        sqlx::raw_sql(NOTE_WRITERS).execute(&self.pool).await.unwrap();
    }

    /// (writes noted, transactions of an incarnation that committed a write after its fencing).
    /// An incarnation is fenced by the event that moved its node's row past it: its takeover
    /// ('fenced'), or the node joining again as a later one.
    pub async fn writes_after_fencing(&self) -> (i64, Vec<String>) {
        let (noted,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM chaos_writes").fetch_one(&self.pool).await.unwrap();
        let late: Vec<(String,)> = sqlx::query_as(
            "SELECT w.writer || ' wrote at ' || w.at || ', fenced at ' || f.at FROM chaos_writes w \
             CROSS JOIN LATERAL (SELECT min(e.at) AS at FROM cluster_events e \
                WHERE e.node_id = substring(w.writer FROM '^(.*):[0-9]+$') \
                  AND ((e.kind = 'fenced' AND e.incarnation = substring(w.writer FROM ':([0-9]+)$')::bigint) \
                    OR (e.kind = 'joined' AND e.incarnation > substring(w.writer FROM ':([0-9]+)$')::bigint))) f \
             WHERE w.at > f.at",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap();
        (noted, late.into_iter().map(|(l,)| l).collect())
    }

    pub async fn owner_of_product(&self, code: &str) -> String {
        let (owner,): (Option<String>,) =
            sqlx::query_as("SELECT owner FROM cluster_shards WHERE shard = warung_shard('p', $1)")
                .bind(code)
                .fetch_one(&self.pool)
                .await
                .unwrap();
        owner.expect("the product's shard has an owner")
    }
}

/// A statement-level trigger on every table of the shop (not the cluster's own): one row per
/// transaction written under the fence, with the time of its last write.
const NOTE_WRITERS: &str = "
    CREATE TABLE chaos_writes (txid BIGINT PRIMARY KEY, writer TEXT NOT NULL, at TIMESTAMPTZ NOT NULL);
    CREATE FUNCTION chaos_note_writer() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE writer TEXT := current_setting('warung.writer', true);
    BEGIN
        IF writer IS NOT NULL AND writer <> '' THEN
            INSERT INTO chaos_writes VALUES (txid_current(), writer, clock_timestamp())
                ON CONFLICT (txid) DO UPDATE SET at = GREATEST(chaos_writes.at, EXCLUDED.at);
        END IF;
        RETURN NULL;
    END $$;
    DO $$
    DECLARE t TEXT;
    BEGIN
        FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public'
                   AND tablename NOT LIKE 'cluster_%' AND tablename NOT IN ('chaos_writes', '_sqlx_migrations')
        LOOP
            EXECUTE format('CREATE TRIGGER chaos_note_writer AFTER INSERT OR UPDATE OR DELETE ON %I '
                           'FOR EACH STATEMENT EXECUTE FUNCTION chaos_note_writer()', t);
        END LOOP;
    END $$;";

/// What one purchase attempt came to, as the buyer saw it.
#[derive(Clone, Debug)]
pub enum Seen {
    /// 200: bought, with its order and item.
    Bought { order: String, item: String },
    /// A definite refusal (4xx): nothing was taken.
    Refused(String),
    /// 503: the engine promises nothing was taken, "try again".
    TryAgain(String),
    /// No answer (connection refused or cut, a timeout): it may or may not have happened.
    NoAnswer,
}

#[derive(Clone, Debug)]
pub struct Attempt {
    pub buyer: String,
    pub node: String,
    pub seen: Seen,
}

#[derive(Clone, Default)]
pub struct History(Arc<Mutex<Vec<Attempt>>>);

impl History {
    pub fn record(&self, attempt: Attempt) {
        self.0.lock().unwrap().push(attempt);
    }

    pub fn attempts(&self) -> Vec<Attempt> {
        self.0.lock().unwrap().clone()
    }

    pub fn bought(&self) -> usize {
        self.0.lock().unwrap().iter().filter(|a| matches!(a.seen, Seen::Bought { .. })).count()
    }
}

/// One saldo purchase of `product` by `buyer` through the node at `base`.
pub async fn buy_once(client: &reqwest::Client, base: &str, node: &str, buyer: &str, product: &str) -> Attempt {
    let answer = client
        .post(format!("{base}/admin/api/purchases"))
        .bearer_auth(ADMIN_TOKEN)
        .timeout(Duration::from_secs(15))
        .json(&json!({"customer": buyer, "product": product}))
        .send()
        .await;
    let seen = match answer {
        // Never sent: the node is down (or not up yet).
        Err(error) if error.is_connect() => Seen::TryAgain("unreachable".to_string()),
        Err(_) => Seen::NoAnswer,
        Ok(response) => {
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let code = body["code"].as_str().unwrap_or("").to_string();
            match status {
                200 => Seen::Bought {
                    order: body["order"].as_str().unwrap().to_string(),
                    item: body["items"][0].as_str().unwrap().to_string(),
                },
                503 => Seen::TryAgain(code),
                400..=499 => Seen::Refused(format!("{status} {code}")),
                _ => Seen::NoAnswer,
            }
        }
    };
    Attempt { buyer: buyer.to_string(), node: node.to_string(), seen }
}

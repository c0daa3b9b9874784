//! Three real nodes on one Postgres and NATS sell one hot product through all three while the
//! nemesis kills the hot product's owner (SIGKILL), freezes another node past its TTL (SIGSTOP,
//! then SIGCONT: it must exit as fenced, having written nothing), and restarts them. A checker
//! then holds the recorded history against the database. A second test restarts every node in
//! turn with SIGTERM under load. Both run on 127.0.0.1 only, are bounded, and stop what they
//! started (a failed assertion kills the nodes as they drop).

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use nix::sys::signal::Signal;
use serde_json::json;

use crate::cluster_nodes::*;
use crate::helpers::*;

const PRICE: &str = "10000";
/// Purchases in flight at once, spread over the nodes.
const IN_FLIGHT: usize = 32;
/// Tries per buyer: "try again" and no answer move on to the next node.
const ATTEMPTS_MAX: usize = 8;
/// Every shard is served again within the TTL plus this, after a node dies or freezes.
const FAILOVER_MARGIN: Duration = Duration::from_secs(2);

fn ttl() -> Duration {
    Duration::from_millis(TTL_MS)
}

/// The seed: `WARUNG_CHAOS_SEED` to replay one, else the clock.
fn seed() -> u64 {
    std::env::var("WARUNG_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos() as u64)
}

/// A tiny deterministic generator (SplitMix64), so a seed replays the same run.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

async fn start_cluster(db: &TestDb, client: &reqwest::Client) -> (Vec<Node>, Tables) {
    let nodes: Vec<Node> = (0..3).map(|i| Node::start(db, &format!("n{i}"))).collect();
    for node in &nodes {
        node.wait_ready(client).await;
    }
    let tables = Tables::open(db).await;
    tables.until_every_shard_served(Duration::from_secs(30)).await;
    (nodes, tables)
}

/// The hot product with `items` items, and `buyers` wallets holding its price once.
async fn stock_and_fund(client: &reqwest::Client, nodes: &[Node], items: usize, buyers: &[String]) {
    let base = &nodes[0].base;
    let (status, body) =
        admin_post(client, format!("{base}/admin/api/products"), json!({"code": "hot", "name": "Hot", "price": PRICE}))
            .await
            .unwrap();
    assert_eq!(status, 201, "{body}");
    let secrets: Vec<String> = (0..items).map(|i| format!("hot-{i}")).collect();
    let (status, body) = admin_post(
        client,
        format!("{base}/admin/api/products/hot/stock"),
        json!({"reference": "s1", "items": secrets}),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");
    // A top-up names its payment, so one sent again (to another node, if one is restarting or
    // was replaced under load) is credited once.
    let top_ups = futures::stream::iter(buyers.iter().enumerate().map(|(i, buyer)| async move {
        let mut last = None;
        for attempt in 0..ATTEMPTS_MAX {
            let base = &nodes[(i + attempt) % nodes.len()].base;
            let answer = admin_post(
                client,
                format!("{base}/admin/api/wallets/{buyer}/top-ups"),
                json!({"payment_id": format!("fund-{buyer}"), "amount": PRICE}),
            )
            .await;
            if matches!(answer, Ok((200, _))) {
                return Ok(());
            }
            last = Some(format!("{answer:?}"));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(last)
    }))
    .buffer_unordered(IN_FLIGHT)
    .collect::<Vec<_>>()
    .await;
    let refused: Vec<_> = top_ups.iter().filter(|r| r.is_err()).collect();
    assert!(refused.is_empty(), "{} top-ups refused, first: {:?}", refused.len(), refused.first());
}

/// Each buyer buys one `hot`, trying node after node until bought or refused.
async fn sale(client: &reqwest::Client, bases: &[(String, String)], buyers: Vec<String>, history: &History) {
    futures::stream::iter(buyers.into_iter().enumerate().map(|(b, buyer)| async move {
        for attempt in 0..ATTEMPTS_MAX {
            let (node, base) = &bases[(b + attempt) % bases.len()];
            let seen = buy_once(client, base, node, &buyer, "hot").await;
            let done = matches!(seen.seen, Seen::Bought { .. } | Seen::Refused(_));
            history.record(seen);
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }))
    .buffer_unordered(IN_FLIGHT)
    .collect::<Vec<_>>()
    .await;
}

/// What the checker found, for the test's report.
#[derive(Debug, Default)]
struct Verdict {
    bought: usize,
    refused: usize,
    try_again: usize,
    no_answer: usize,
    /// Purchases acknowledged by each node.
    bought_by_node: std::collections::BTreeMap<String, usize>,
    /// Answers other than "bought", by their code.
    answers: std::collections::BTreeMap<String, usize>,
}

/// Holds the history against the store: every purchase acknowledged is stored with its item, no
/// item is in two orders, a buyer who saw only definite answers that were not "bought" paid for
/// nothing, and the audit (stock and money conserved) is clean.
async fn check(db: &TestDb, tables: &Tables, history: &History) -> Verdict {
    // The checker reads the tables directly: on the log, once every node's projection has caught
    // up with what it acknowledged.
    tables.until_log_projected(Duration::from_secs(15)).await;
    let mut verdict = Verdict::default();
    let mut items = HashSet::new();
    let mut by_buyer: HashMap<String, Vec<Seen>> = HashMap::new();
    for attempt in history.attempts() {
        match &attempt.seen {
            Seen::Bought { order, item } => {
                verdict.bought += 1;
                *verdict.bought_by_node.entry(attempt.node.clone()).or_default() += 1;
                assert!(items.insert(item.clone()), "item {item} acknowledged twice");
                let stored: Option<(String, String)> = sqlx::query_as(
                    "SELECT o.state, i.secret FROM orders o JOIN items i ON i.order_id = o.id AND i.status = 'sold' WHERE o.id = $1",
                )
                .bind(order)
                .fetch_optional(&tables.pool)
                .await
                .unwrap();
                assert_eq!(stored, Some(("paid".to_string(), item.clone())), "acknowledged order {order} is stored");
            }
            Seen::Refused(code) => {
                verdict.refused += 1;
                *verdict.answers.entry(format!("refused: {code}")).or_default() += 1;
            }
            Seen::TryAgain(code) => {
                verdict.try_again += 1;
                *verdict.answers.entry(format!("try again: {code}")).or_default() += 1;
            }
            Seen::NoAnswer => verdict.no_answer += 1,
        }
        by_buyer.entry(attempt.buyer.clone()).or_default().push(attempt.seen.clone());
    }
    for (buyer, seen) in &by_buyer {
        let definite_and_empty = seen.iter().all(|s| matches!(s, Seen::Refused(_) | Seen::TryAgain(_)));
        if definite_and_empty {
            let (paid,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orders WHERE customer = $1 AND state = 'paid'")
                .bind(buyer)
                .fetch_one(&tables.pool)
                .await
                .unwrap();
            assert_eq!(paid, 0, "{buyer} was told nothing was bought, yet paid: {seen:?}");
        }
    }
    let (twice,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM (SELECT secret FROM items WHERE status = 'sold' GROUP BY secret HAVING COUNT(*) > 1) t",
    )
    .fetch_one(&tables.pool)
    .await
    .unwrap();
    assert_eq!(twice, 0, "an item was sold twice");
    let audit = Command::new(env!("CARGO_BIN_EXE_warung")).args(["audit", "--database-url", &db.url]).output().unwrap();
    assert!(audit.status.success(), "{}", String::from_utf8_lossy(&audit.stdout));
    verdict
}

async fn stop_all(nodes: &mut [Node]) {
    for node in nodes.iter() {
        node.signal(Signal::SIGTERM);
    }
    for node in nodes.iter_mut() {
        let status = node.wait_exit(Duration::from_secs(30)).expect("a node stops on SIGTERM");
        assert!(status.success(), "node {} stopped with {status}", node.id);
    }
}

#[actix_rt::test]
async fn killing_and_freezing_nodes_mid_sale_loses_nothing_and_sells_nothing_twice() {
    kill_and_freeze(Backend::Postgres).await
}

/// On the log, a node killed or frozen may leave acknowledged sales in the log only: the nodes
/// taking its shards project them first.
#[actix_rt::test]
async fn killing_and_freezing_nodes_on_the_log_mid_sale_loses_nothing_and_sells_nothing_twice() {
    kill_and_freeze(Backend::PostgresLog).await
}

async fn kill_and_freeze(backend: Backend) {
    const ITEMS: usize = 400;
    const BUYERS: usize = 600;
    /// Buyers whose one purchase goes to the frozen node only: once resumed, it may hand them to
    /// the shards' new owners (its lease has lapsed, so it serves nothing from its own memory),
    /// or fail them; it must not store anything itself.
    const FROZEN_BUYERS: usize = 12;
    let seed = seed();
    eprintln!("chaos seed {seed} (WARUNG_CHAOS_SEED={seed} replays it)");
    let mut dice = Dice(seed);
    let db = TestDb::new(backend).await;
    let client = reqwest::Client::builder().pool_max_idle_per_host(IN_FLIGHT).build().unwrap();
    let (mut nodes, tables) = start_cluster(&db, &client).await;
    tables.note_writers().await;
    let mut buyers: Vec<String> = (0..BUYERS).map(|b| format!("buyer{b}")).collect();
    let frozen_buyers: Vec<String> = (0..FROZEN_BUYERS).map(|b| format!("frozen{b}")).collect();
    stock_and_fund(&client, &nodes, ITEMS, &[buyers.clone(), frozen_buyers.clone()].concat()).await;
    for i in (1..buyers.len()).rev() {
        buyers.swap(i, dice.below(i as u64 + 1) as usize);
    }

    let history = History::default();
    let bases: Vec<(String, String)> = nodes.iter().map(|n| (n.id.clone(), n.base.clone())).collect();
    let kill_after = 40 + dice.below(80) as usize;
    let freeze_pick = dice.below(2) as usize;
    let load = sale(&client, &bases, buyers, &history);
    let nemesis = async {
        while history.bought() < kill_after {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // SIGKILL the hot product's owner.
        let owner = tables.owner_of_product("hot").await;
        let killed = nodes.iter().position(|n| n.id == owner).unwrap();
        nodes[killed].signal(Signal::SIGKILL);
        let killed_at = Instant::now();
        nodes[killed].wait_exit(Duration::from_secs(5)).expect("SIGKILL ends a node");
        let after_kill = tables.until_served_without(&owner, ttl() + FAILOVER_MARGIN).await;
        eprintln!("SIGKILL of {owner}: every shard served again after {after_kill:?}");

        // SIGSTOP another past its TTL; buyers send to it alone meanwhile; then SIGCONT.
        let others: Vec<usize> = (0..3).filter(|&i| i != killed).collect();
        let frozen = others[freeze_pick];
        nodes[frozen].signal(Signal::SIGSTOP);
        let frozen_base = nodes[frozen].base.clone();
        let frozen_node = nodes[frozen].id.clone();
        let to_frozen = frozen_buyers.iter().map(|buyer| {
            let (client, base, node, history) = (&client, frozen_base.clone(), frozen_node.clone(), &history);
            async move { history.record(buy_once(client, &base, &node, buyer, "hot").await) }
        });
        let frozen_purchases = futures::future::join_all(to_frozen);
        let failover = async {
            let after_stop = tables.until_served_without(&frozen_node, ttl() + FAILOVER_MARGIN).await;
            eprintln!("SIGSTOP of {frozen_node}: every shard served again after {after_stop:?}");
            tokio::time::sleep(Duration::from_millis(TTL_MS)).await;
            nodes[frozen].signal(Signal::SIGCONT);
        };
        futures::join!(frozen_purchases, failover);
        let status = nodes[frozen].wait_exit(Duration::from_secs(15)).expect("the frozen node exits once resumed");
        assert_eq!(status.code(), Some(EXIT_FENCED), "the frozen node exits as fenced: {status}");
        eprintln!("killed after {:?}; frozen node exited fenced", killed_at.elapsed());

        // A process supervisor restarts both, as new incarnations.
        for i in [killed, frozen] {
            nodes[i].restart();
            nodes[i].wait_ready(&client).await;
        }
    };
    futures::join!(load, nemesis);
    tables.until_every_shard_served(Duration::from_secs(30)).await;

    let to_frozen: Vec<Seen> =
        history.attempts().into_iter().filter(|a| a.buyer.starts_with("frozen")).map(|a| a.seen).collect();
    eprintln!("purchases sent to the frozen node: {to_frozen:?}");
    let verdict = check(&db, &tables, &history).await;
    eprintln!("chaos seed {seed}: {verdict:?}");
    assert!(verdict.bought >= kill_after, "{verdict:?}");
    let (incarnations,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cluster_events WHERE kind = 'fenced'")
        .fetch_one(&tables.pool)
        .await
        .unwrap();
    assert!(incarnations >= 2, "both the killed and the frozen node were taken over");
    let (noted, late) = tables.writes_after_fencing().await;
    eprintln!("{noted} fenced transactions noted; written after their incarnation's fencing: {late:?}");
    assert!(noted > 0, "the writers were noted");
    assert!(late.is_empty(), "an incarnation wrote after it was fenced: {late:?}");
    stop_all(&mut nodes).await;
    tables.pool.close().await;
    db.remove().await;
}

#[actix_rt::test]
async fn a_rolling_restart_under_load_loses_no_purchase_and_refuses_none() {
    rolling_restart(Backend::Postgres).await
}

/// On the log, each node hands its shards off only once the tables show its sales.
#[actix_rt::test]
async fn a_rolling_restart_on_the_log_under_load_loses_no_purchase_and_refuses_none() {
    rolling_restart(Backend::PostgresLog).await
}

async fn rolling_restart(backend: Backend) {
    const BUYERS: usize = 450;
    let db = TestDb::new(backend).await;
    let client = reqwest::Client::builder().pool_max_idle_per_host(IN_FLIGHT).build().unwrap();
    let (mut nodes, tables) = start_cluster(&db, &client).await;
    let buyers: Vec<String> = (0..BUYERS).map(|b| format!("buyer{b}")).collect();
    // Stock for every buyer: any refusal would be a false one.
    stock_and_fund(&client, &nodes, BUYERS, &buyers).await;

    let history = History::default();
    let bases: Vec<(String, String)> = nodes.iter().map(|n| (n.id.clone(), n.base.clone())).collect();
    let load = sale(&client, &bases, buyers, &history);
    let roll = async {
        for (i, node) in nodes.iter_mut().enumerate() {
            while history.bought() < 30 * (i + 1) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let started = Instant::now();
            node.signal(Signal::SIGTERM);
            let status = node.wait_exit(Duration::from_secs(30)).expect("a node stops on SIGTERM");
            assert!(status.success(), "node {} stopped with {status}", node.id);
            node.restart();
            node.wait_ready(&client).await;
            tables.until_every_shard_served(Duration::from_secs(15)).await;
            eprintln!("rolled {} in {:?}", node.id, started.elapsed());
        }
    };
    futures::join!(load, roll);
    let verdict = check(&db, &tables, &history).await;
    eprintln!("rolling restart: {verdict:?}");
    assert_eq!(verdict.refused, 0, "false refusals during a rolling restart: {verdict:?}");
    stop_all(&mut nodes).await;
    tables.pool.close().await;
    db.remove().await;
}

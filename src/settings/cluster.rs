//! The cluster's settings (`WARUNG_CLUSTER__*`) and their checks.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{SecretUrl, Settings};

/// Several nodes on one Postgres (docs/cluster.md). Off by default: one node, exactly as before.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSettings {
    pub enabled: bool,
    /// The cluster's name: the prefix of its NATS subjects, so clusters can share a server.
    pub name: String,
    /// Unset: derived from the host name and the public port (`ClusterSettings::node_id`).
    pub node_id: Option<String>,
    /// `nats://host:port`, or `tls://host:port` over TLS; a `user:password@` never prints.
    pub nats_url: SecretUrl,
    pub heartbeat_ms: u64,
    /// A node whose heartbeat is this old (by the database's clock) is taken over.
    pub ttl_ms: u64,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            enabled: false,
            name: "warung".to_string(),
            node_id: None,
            nats_url: SecretUrl::new("nats://127.0.0.1:4222"),
            heartbeat_ms: 1_000,
            ttl_ms: 5_000,
        }
    }
}

impl ClusterSettings {
    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms)
    }

    pub fn ttl(&self) -> Duration {
        Duration::from_millis(self.ttl_ms)
    }

    /// How long a call looks for the owner of a shard before answering "try again": a takeover
    /// takes up to the TTL, and acquiring and recovering the shard a little more.
    pub fn route_deadline(&self) -> Duration {
        self.ttl() + Duration::from_secs(2)
    }

    /// This node's name: the one configured, else `<host>-<public port>`.
    pub fn node_id(&self, http_bind: &str) -> String {
        if let Some(id) = self.node_id.as_deref().filter(|id| !id.trim().is_empty()) {
            return id.trim().to_string();
        }
        let host = std::env::var("HOSTNAME")
            .ok()
            .filter(|h| !h.is_empty())
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_string()))
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "warung".to_string());
        let port = http_bind.rsplit(':').next().unwrap_or("0");
        format!("{host}-{port}")
    }
}

impl Settings {
    /// A cluster needs Postgres, and a heartbeat well inside its TTL.
    pub(super) fn check_cluster(&self, problems: &mut Vec<String>) {
        let cluster = &self.cluster;
        if !cluster.enabled {
            return;
        }
        if !self.database.url.expose().starts_with("postgres://")
            && !self.database.url.expose().starts_with("postgresql://")
        {
            problems.push(
                "cluster.enabled (WARUNG_CLUSTER__ENABLED) needs a Postgres store (WARUNG_DATABASE__URL=postgres://...): \
                 SQLite is one process's file, and several nodes share one database"
                    .to_string(),
            );
        }
        if cluster.heartbeat_ms == 0 || cluster.ttl_ms < cluster.heartbeat_ms * 3 {
            problems.push(format!(
                "cluster.ttl_ms (WARUNG_CLUSTER__TTL_MS, {}) must be at least three heartbeats \
                 (WARUNG_CLUSTER__HEARTBEAT_MS, {}), so one slow renewal does not end a node",
                cluster.ttl_ms, cluster.heartbeat_ms
            ));
        }
        if !cluster.nats_url.expose().starts_with("nats://") && !cluster.nats_url.expose().starts_with("tls://") {
            problems.push(format!(
                "cluster.nats_url (WARUNG_CLUSTER__NATS_URL) must be nats://host:port, got {}",
                cluster.nats_url
            ));
        }
    }
}

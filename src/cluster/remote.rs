//! How a call reaches the owner of another node's shard: a NATS request on the shard's subject,
//! answered by the owner's intake (`serve.rs`). An actor command is idempotent by its id, so a
//! lost answer is "not owner" and the caller asks again; a customer's flow is never sent twice
//! once taken, so a lost answer is "outcome unknown".

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use warung_actors::runtime::CallError;

use super::node::OwnedShards;
use super::shard::Shard;
use super::wire::{self, Answer, Request};

/// How long one remote call may take before it is sent again (the command's id makes that safe):
/// an owner that stopped answering (paused, dead, cut off) costs a caller this long per try.
const REMOTE_CALL_TIMEOUT_MS: u64 = 2_000;
/// A customer's flow sent to the customer's owner makes a few actor calls, each of which may look
/// for an owner for the route deadline: it is waited for this many deadlines. It is never sent
/// twice, so an answer lost after it was taken is "outcome unknown", not "try again".
pub const FLOW_DEADLINES_MAX: u32 = 3;

/// How calls reach the owners of other shards.
pub struct Remote {
    pub client: async_nats::Client,
    /// The cluster's subject prefix.
    pub cluster: String,
    pub owned: Arc<OwnedShards>,
    /// A call that finds no owner keeps trying this long (a takeover takes up to the TTL).
    pub deadline: Duration,
    pub counters: Arc<RemoteCounters>,
}

impl Remote {
    /// One call to the shard's owner. "No responders" (no owner subscribed) and a lost answer
    /// are `NotOwner`: the caller asks again until its deadline.
    pub(super) async fn call(&self, shard: Shard, request: &Request) -> Result<serde_json::Value, CallError> {
        self.ask(shard, request, Duration::from_millis(REMOTE_CALL_TIMEOUT_MS), Asked::ActorCall).await
    }

    /// One customer's flow on its owner: sent again only if no owner took it.
    pub(super) async fn run_flow(&self, shard: Shard, request: &Request) -> Result<serde_json::Value, CallError> {
        self.ask(shard, request, self.deadline * FLOW_DEADLINES_MAX, Asked::Flow).await
    }

    /// Sends `request` to the shard's owner and waits up to `timeout`; "no responders" is
    /// `NotOwner`, an answer lost or unreadable after sending is as `asked` says.
    async fn ask(
        &self,
        shard: Shard,
        request: &Request,
        timeout: Duration,
        asked_for: Asked,
    ) -> Result<serde_json::Value, CallError> {
        let lost = |reason: String| asked_for.lost(reason);
        let payload = serde_json::to_vec(request).map_err(|e| CallError::Corrupt { reason: e.to_string() })?;
        let subject = wire::subject(&self.cluster, shard);
        // The client's own timeout (10 s by default) is set past ours, so ours decides.
        let asked = async_nats::client::Request::new().payload(payload.into()).timeout(Some(timeout * 2));
        let asked = self.client.send_request(subject, asked);
        let counters = &self.counters;
        let message = match tokio::time::timeout(timeout, asked).await {
            Ok(Ok(message)) => message,
            Ok(Err(error)) if error.kind() == async_nats::RequestErrorKind::NoResponders => {
                return Err(counters.count(&counters.no_responders, CallError::NotOwner));
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, %shard, "remote call failed");
                return Err(counters.count(&counters.failed, lost(error.to_string())));
            }
            Err(_) => {
                let waited = format!("no answer from shard {shard}'s node within {} ms", timeout.as_millis());
                return Err(counters.count(&counters.timed_out, lost(waited)));
            }
        };
        let answer: Answer = serde_json::from_slice(&message.payload).map_err(|e| match asked_for {
            Asked::ActorCall => CallError::Corrupt { reason: e.to_string() },
            Asked::Flow => lost(format!("an unreadable answer: {e}")),
        })?;
        match answer {
            Answer::Done(value) => {
                counters.done.fetch_add(1, Ordering::Relaxed);
                Ok(value)
            }
            Answer::NotOwner => Err(counters.count(&counters.not_owner, CallError::NotOwner)),
            Answer::Busy => Err(counters.count(&counters.busy, CallError::Busy)),
            Answer::Malformed(reason) => Err(counters.count(&counters.failed, CallError::Corrupt { reason })),
        }
    }
}

/// What was sent, which decides what a lost answer means.
#[derive(Clone, Copy)]
enum Asked {
    /// An actor command, idempotent by its id: sent again (`NotOwner`) until the deadline.
    ActorCall,
    /// A customer's flow, never sent twice once taken: its outcome is unknown.
    Flow,
}

impl Asked {
    fn lost(self, reason: String) -> CallError {
        match self {
            Asked::ActorCall => CallError::NotOwner,
            Asked::Flow => CallError::OutcomeUnknown { reason },
        }
    }
}

/// Remote calls by outcome, for `/metrics` (`warung_cluster_remote_calls_total`).
#[derive(Debug, Default)]
pub struct RemoteCounters {
    pub done: AtomicU64,
    pub not_owner: AtomicU64,
    pub no_responders: AtomicU64,
    pub busy: AtomicU64,
    pub timed_out: AtomicU64,
    pub failed: AtomicU64,
}

impl RemoteCounters {
    fn count(&self, counter: &AtomicU64, error: CallError) -> CallError {
        counter.fetch_add(1, Ordering::Relaxed);
        error
    }
}

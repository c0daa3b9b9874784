//! Who this process writes as, when it is one node of a cluster (docs/cluster.md, "The fence").
//!
//! Once a node has joined, every journal batch and every write made on a shard's behalf calls
//! `warung_fence(node, incarnation)` in the same transaction or statement as its rows: the batch
//! commits only while the node's row still has the incarnation this process joined with. A node
//! that was taken over (its heartbeat expired) or replaced by a restart of the same name has a
//! new incarnation, so nothing this process sends after that is stored, however late it arrives.
//!
//! A process that never joins (one node, the default) is never fenced and writes as before.

use std::sync::OnceLock;

use tokio::sync::watch;

/// The SQLSTATE `warung_fence` raises (migration 0006).
pub const FENCED_SQLSTATE: &str = "WF001";

/// A fenced transaction idle this long belongs to a process that stalled mid-write (paused,
/// swapped out, cut off): Postgres ends it, releasing the share lock on its node's row that the
/// takeover of that node waits for. A live batch is idle only while the one before it commits,
/// milliseconds; one held longer than this is failed ("try again"), which a stalled database
/// would do anyway. Set by the fencing statement itself, so one node (never fenced) keeps
/// Postgres's default.
pub const FENCED_IDLE_IN_TRANSACTION_TIMEOUT: &str = "2s";

/// The fencing call, as a statement's select list: the fence, and the idle limit for the rest of
/// the transaction (`set_config(.., true)` is `SET LOCAL`). Placeholders `$a`, `$b`.
pub fn fencing_select(a: usize, b: usize) -> String {
    format!(
        "SELECT warung_fence(${a}, ${b}), \
         set_config('idle_in_transaction_session_timeout', '{FENCED_IDLE_IN_TRANSACTION_TIMEOUT}', true)"
    )
}

/// A node's name and the incarnation it joined with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FenceId {
    pub node: String,
    pub incarnation: i64,
}

/// The fence of one process: set once, when it joins; tripped when the database refuses a write
/// as fenced. The cluster's node watches `tripped` and stops the process.
#[derive(Debug)]
pub struct WriterFence {
    id: OnceLock<FenceId>,
    tripped: watch::Sender<bool>,
}

impl Default for WriterFence {
    fn default() -> Self {
        WriterFence { id: OnceLock::new(), tripped: watch::channel(false).0 }
    }
}

impl WriterFence {
    /// Every write from now on is checked as `id`. A process joins once: a second call is a bug.
    pub fn arm(&self, id: FenceId) {
        assert!(self.id.set(id).is_ok(), "a process joins the cluster once");
    }

    pub fn id(&self) -> Option<&FenceId> {
        self.id.get()
    }

    /// The database refused a write of this process as fenced: it must stop serving.
    pub fn trip(&self) {
        self.tripped.send_replace(true);
    }

    pub fn is_tripped(&self) -> bool {
        *self.tripped.borrow()
    }

    /// Resolves once the fence has tripped.
    pub async fn tripped(&self) {
        let mut rx = self.tripped.subscribe();
        let _ = rx.wait_for(|tripped| *tripped).await;
    }
}

/// Whether the database refused a statement because its writer was fenced.
pub fn is_fenced(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some(FENCED_SQLSTATE))
}

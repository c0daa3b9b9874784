//! Who this process writes as, when it is one node of a cluster (docs/cluster.md, "The fence").
//!
//! Once a node has joined, every journal batch and every write made on a shard's behalf checks
//! the fence (`fencing_select`) in the same transaction or statement as its rows: the batch
//! commits only while the node's row still has the incarnation this process joined with. A node
//! that was taken over (its heartbeat expired) or replaced by a restart of the same name has a
//! new incarnation, so nothing this process sends after that is stored, however late it arrives.
//!
//! A process that never joins (one node, the default) is never fenced and writes as before.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use tokio::sync::watch;

/// The SQLSTATE `warung_fence` and `warung_fenced` raise (migrations 0006, 0007).
pub const FENCED_SQLSTATE: &str = "WF001";

/// A fenced transaction idle this long belongs to a process that stalled mid-write (paused,
/// swapped out, cut off): Postgres ends it, releasing the share lock on its node's row (or on a
/// lone writer's epoch, `lone_writer`) that the takeover waits for. A live batch is idle only
/// while the one before it commits, milliseconds; one held longer than this is failed ("try
/// again"), which a stalled database would do anyway. Set by the check itself, so a store that
/// checks nothing (it writes no journal) keeps Postgres's default.
pub const FENCED_IDLE_IN_TRANSACTION_TIMEOUT: &str = "2s";

/// What a fencing statement opens: a statement that is its transaction (the journal's one
/// round trip), or a transaction of several statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fenced {
    Statement,
    Transaction,
}

/// The fencing call, as a statement's select list, with placeholders `$a` (node) and `$b`
/// (incarnation). It share-locks the node's row only while the row has this incarnation and is
/// not dead, and raises `WF001` otherwise (`warung_fenced`, called only then). It names the
/// writer for the rest of the transaction (`warung.writer`, read only by audit triggers such as
/// the chaos test's). A transaction of several statements also gets the idle limit; a lone
/// statement is never idle in a transaction, so it is spared that setting.
///
/// Plain SQL rather than a PL/pgSQL function: measured interleaved with pgbench on a
/// journal-shaped statement, this form adds 0.026 ms to it, `SELECT warung_fence(..)` with the
/// idle limit 0.050 ms (docs/benchmarks.md). `set_config(.., true)` is `SET LOCAL`.
pub fn fencing_select(a: usize, b: usize, fenced: Fenced) -> String {
    let idle = match fenced {
        Fenced::Statement => String::new(),
        Fenced::Transaction => {
            format!(", set_config('idle_in_transaction_session_timeout', '{FENCED_IDLE_IN_TRANSACTION_TIMEOUT}', true)")
        }
    };
    format!(
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM cluster_nodes WHERE node_id = ${a} AND incarnation = ${b} \
           AND state <> 'dead' FOR SHARE) THEN true ELSE warung_fenced(${a}, ${b}) END, \
         set_config('warung.writer', ${a} || ':' || ${b}, true){idle}"
    )
}

/// A node's name and the incarnation it joined with.
/// Why a process's writes stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trip {
    /// The database refused one of its writes as fenced: another process took over its work.
    Refused,
    /// A journal commit's outcome could not be learned: its record may be in the log, and only
    /// a start, which projects the log before anything else, can go on after it.
    OutcomeUnknown,
}

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
    /// Why it tripped, when not for a write the database refused as fenced.
    why: OnceLock<Trip>,
    /// Cleared only by the lab, to measure the fence's cost by turning it off and on within one
    /// run (`warung bench flash-sale --fence alternate`); a node never clears it.
    checking: AtomicBool,
}

impl Default for WriterFence {
    fn default() -> Self {
        WriterFence {
            id: OnceLock::new(),
            tripped: watch::channel(false).0,
            why: OnceLock::new(),
            checking: AtomicBool::new(true),
        }
    }
}

impl WriterFence {
    /// Every write from now on is checked as `id`. A process joins once: a second call is a bug.
    pub fn arm(&self, id: FenceId) {
        assert!(self.id.set(id).is_ok(), "a process joins the cluster once");
    }

    /// Who this process writes as, when its writes are fenced.
    pub fn id(&self) -> Option<&FenceId> {
        self.id.get().filter(|_| self.checking.load(Ordering::Relaxed))
    }

    /// Whether this process has joined a cluster, whether or not the lab has turned the checks
    /// off: what the log stores with a record, and how it projects orders, follow it.
    pub fn is_armed(&self) -> bool {
        self.id.get().is_some()
    }

    /// The lab's switch (see `checking`): writes from now on are fenced, or not.
    pub fn set_checking(&self, on: bool) {
        self.checking.store(on, Ordering::Relaxed);
    }

    /// The database refused a write of this process as fenced: it must stop serving.
    pub fn trip(&self) {
        self.trip_because(Trip::Refused);
    }

    /// This process must write nothing more, for `why`, and stop serving.
    pub fn trip_because(&self, why: Trip) {
        let _ = self.why.set(why);
        self.tripped.send_replace(true);
    }

    /// Why the fence tripped (the first reason given), if it has.
    pub fn why(&self) -> Option<Trip> {
        self.why.get().copied()
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

/// Whether the database refused a statement because its writer was fenced: out of its cluster
/// (WF001), or, writing the journal alone, replaced by another process (WF002, `lone_writer`).
pub fn is_fenced(error: &sqlx::Error) -> bool {
    let fenced = [FENCED_SQLSTATE, crate::store::lone_writer::REPLACED_SQLSTATE];
    matches!(error, sqlx::Error::Database(db) if db.code().is_some_and(|code| fenced.contains(&code.as_ref())))
}

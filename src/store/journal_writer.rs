//! Who a journal's writes are checked as, chosen in one place for the log's appends and
//! projections, the tables journal's batches and a node's writes on a shard's behalf: a cluster's
//! node by its fence (`fence`), a process that writes alone by its epoch (`lone_writer`).
//!
//! A write carries one check, its transaction's first statement or its lone statement's main
//! query. The check share-locks the writer's row until the commit, so whoever takes the journal
//! over waits for the writes in flight and refuses every one after.

use sqlx::postgres::{PgConnection, PgPool};

use super::fence::{self, FenceId, Fenced, WriterFence};
use super::lone_writer::{self, LoneWriter};

/// Who a write is checked as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Writer<'a> {
    /// A cluster's node: its name and incarnation, fenced.
    Node(&'a FenceId),
    /// A process that writes the journal alone: its epoch.
    Alone(i64),
}

impl<'a> Writer<'a> {
    /// A node's fence once it has joined (or a process the lab fences): the fence keeps nodes
    /// apart, and a node's epoch only shuts a lone process out. Else a lone process's epoch,
    /// taken on first use. None for a node whose checks the lab has turned off, or a store that
    /// writes no journal.
    pub(crate) async fn of(
        fence: &'a WriterFence,
        lone: &LoneWriter,
        pool: &PgPool,
    ) -> Result<Option<Writer<'a>>, sqlx::Error> {
        if let Some(id) = fence.id() {
            return Ok(Some(Writer::Node(id)));
        }
        Ok(lone.checked(pool).await?.map(Writer::Alone))
    }

    /// The lone writer's epoch, which an append that is one statement checks inside it.
    pub(crate) fn epoch(self) -> Option<i64> {
        match self {
            Writer::Alone(epoch) => Some(epoch),
            Writer::Node(_) => None,
        }
    }

    /// The check as a statement's main query, its placeholders numbered from `$n`: a node's name
    /// and incarnation, or a lone writer's epoch, in that order.
    pub(crate) fn select(self, n: usize, fenced: Fenced) -> String {
        match self {
            Writer::Node(_) => fence::fencing_select(n, n + 1, fenced),
            Writer::Alone(_) => lone_writer::guard_select(n, fenced),
        }
    }

    /// Runs the check as the first statement of a transaction of several.
    pub(crate) async fn check(self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        let query = sqlx::query(sqlx::AssertSqlSafe(self.select(1, Fenced::Transaction)));
        let query = match self {
            Writer::Node(id) => query.bind(id.node.as_str()).bind(id.incarnation),
            Writer::Alone(epoch) => query.bind(epoch),
        };
        query.execute(tx).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_checked_by_its_fence_and_a_lone_process_by_its_epoch() {
        let id = FenceId { node: "a".into(), incarnation: 7 };
        let node = Writer::Node(&id).select(3, Fenced::Statement);
        assert!(node.contains("node_id = $3 AND incarnation = $4"), "{node}");
        let alone = Writer::Alone(42).select(3, Fenced::Transaction);
        assert!(alone.contains("epoch = $3") && alone.contains("idle_in_transaction"), "{alone}");
        assert_eq!(Writer::Node(&id).epoch(), None);
        assert_eq!(Writer::Alone(42).epoch(), Some(42));
    }
}

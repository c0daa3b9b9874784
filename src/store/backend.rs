//! The store on either backend: one pool for the reads, which every consumer's statements share
//! (`sql`), and the journal's writer, which is each backend's own (`postgres`, `sqlite`).

use std::sync::Arc;

use futures::future::BoxFuture;
use warung_actors::journal::{Earlier, Entries, Entry, Sink, SinkError};

use super::counters::ShopCounters;
use super::fence::{self, WriterFence};
use super::journal_writer::Writer;
use super::log::cluster::LogHandOver;
use super::log::projection::Projection;
use super::postgres::{self, PgJournal};
use super::sql::{Backend, Pool, Tx};
use super::sqlite::{self, SqliteJournal};
use super::{JournalOptions, PoolUse, StoreError, Writers};
use crate::records::ShopRecord;

/// A Postgres store, as the cluster's membership sees it (see `SqlStore::cluster_access`).
#[derive(Clone)]
pub struct ClusterAccess {
    pub pool: sqlx::PgPool,
    pub fence: Arc<WriterFence>,
    /// With the journal's log: what joining, acquiring and handing off shards need of it.
    pub log: Option<LogHandOver>,
}

pub struct SqlStore {
    pub(crate) pool: Pool,
    journal: Journal,
    /// What the committed batches recorded, for `/metrics`.
    pub(crate) counters: Arc<ShopCounters>,
}

/// How each backend commits a journal batch.
enum Journal {
    Postgres(PgJournal),
    Sqlite(SqliteJournal),
}

impl SqlStore {
    pub async fn connect_postgres(
        url: &str,
        max_connections: u32,
        journal: JournalOptions,
        writers: Writers,
    ) -> Result<SqlStore, StoreError> {
        let (pool, journal) = postgres::connect(url, max_connections, journal, writers).await?;
        let projection = journal.log.as_ref().map(|log| log.projection.clone());
        let mut pool = Pool::new(Backend::Postgres(pool), projection);
        if journal.log.is_some() && writers == Writers::ClusterNodes {
            pool = pool.waiting_for_other_writers(journal.fence.clone());
        }
        Ok(SqlStore { pool, journal: Journal::Postgres(journal), counters: Arc::default() })
    }

    pub async fn connect_sqlite(url: &str, journal: JournalOptions, writers: Writers) -> Result<SqlStore, StoreError> {
        let (pool, journal) = sqlite::connect(url, journal, writers).await?;
        let projection = journal.log.as_ref().map(|log| log.projection.clone());
        Ok(SqlStore {
            pool: Pool::new(Backend::Sqlite(pool), projection),
            journal: Journal::Sqlite(journal),
            counters: Arc::default(),
        })
    }

    /// With the journal's log: how far the tables are behind it.
    pub(crate) fn projection(&self) -> Option<&Arc<Projection>> {
        match &self.journal {
            Journal::Postgres(journal) => journal.log.as_ref().map(|log| &log.projection),
            Journal::Sqlite(journal) => journal.log.as_ref().map(|log| &log.projection),
        }
    }

    /// With the journal's log: projects what a crash left in it (after migrating, before any
    /// read).
    pub(crate) async fn project_leftovers(&self) -> Result<(), StoreError> {
        match &self.journal {
            Journal::Postgres(journal) => journal.project_leftovers().await,
            Journal::Sqlite(journal) => journal.project_leftovers().await,
        }
    }

    pub(crate) fn pool_use(&self) -> Vec<PoolUse> {
        match &self.journal {
            Journal::Postgres(journal) => vec![self.pool.pool_use("read"), journal.pool_use()],
            Journal::Sqlite(_) => vec![self.pool.pool_use("sqlite")],
        }
    }

    /// What the cluster needs of a Postgres store: its pool and the journal's fence. None on
    /// SQLite, where a cluster cannot run.
    pub(crate) fn cluster_access(&self) -> Option<ClusterAccess> {
        match (&self.pool.backend, &self.journal) {
            (Backend::Postgres(pool), Journal::Postgres(journal)) => Some(ClusterAccess {
                pool: pool.clone(),
                fence: journal.fence.clone(),
                log: journal.log.as_ref().map(|log| LogHandOver {
                    pool: pool.clone(),
                    fence: journal.fence.clone(),
                    projection: log.projection.clone(),
                }),
            }),
            _ => None,
        }
    }

    /// Whether this process writes as a cluster node (its fence is armed).
    pub(crate) fn is_fenced_writer(&self) -> bool {
        matches!(&self.journal, Journal::Postgres(journal) if journal.fence.id().is_some())
    }

    /// A transaction for a write made on a shard's behalf outside the journal (a message
    /// answered, an outbox entry, a charge's move): in a cluster it opens with the fence, so a
    /// node taken over cannot answer a customer twice or move a charge the new owner moves.
    pub(crate) async fn begin_fenced(&self) -> Result<Tx, StoreError> {
        let mut tx = self.pool.begin().await?;
        if let (Journal::Postgres(journal), Tx::Postgres(pg)) = (&self.journal, &mut tx) {
            if let Some(id) = journal.fence.id() {
                if let Err(error) = Writer::Node(id).check(pg).await {
                    if fence::is_fenced(&error) {
                        journal.fence.trip();
                    }
                    return Err(error.into());
                }
            }
        }
        Ok(tx)
    }

    /// Runs one write made on a shard's behalf: in a cluster in a fenced transaction of its own,
    /// alone as one statement (as before there was a cluster).
    pub(crate) async fn execute_fenced(&self, query: super::sql::Query) -> Result<u64, StoreError> {
        if !self.is_fenced_writer() {
            return Ok(query.execute(&self.pool).await?);
        }
        let mut tx = self.begin_fenced().await?;
        let done = query.execute_in(&mut tx).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Closes the journal's connections, then the reads'.
    pub(crate) async fn close_pools(&self) {
        match &self.journal {
            Journal::Postgres(journal) => journal.close().await,
            Journal::Sqlite(journal) => journal.close().await,
        }
        self.pool.close().await;
    }
}

impl Sink<ShopRecord> for SqlStore {
    fn commit<'a>(
        &'a self,
        entries: &'a Entries<ShopRecord>,
        earlier: Earlier,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        let commit = match &self.journal {
            Journal::Postgres(journal) => journal.commit(entries, earlier),
            Journal::Sqlite(journal) => journal.commit(entries, earlier),
        };
        Box::pin(async move {
            commit.await?;
            let records = entries.iter().filter_map(|entry| match entry {
                Entry::Attached(record) => Some(record),
                Entry::Event(_) => None,
            });
            self.counters.committed(records);
            Ok(())
        })
    }
}

//! One statement, either backend. Both drivers take `$N` placeholders, so a statement is written
//! once; its values are bound by type (`Value`), and only money binds differently: NUMERIC on
//! Postgres, exact decimal text on SQLite. Money is read back as text (`CAST(... AS TEXT)`), so
//! one row type (a tuple of strings and integers, `Record`) decodes the rows of both.

use std::borrow::Cow;

use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArguments, PgPool, PgRow, Postgres};
use sqlx::sqlite::{Sqlite, SqliteArguments, SqlitePool, SqliteRow};
use sqlx::{Arguments, AssertSqlSafe, FromRow, Transaction};
use warung_actors::domain::Money;
use warung_actors::journal::ActorKey;

use std::sync::Arc;

use super::fence::WriterFence;
use super::log::cluster::others_projected;
use super::log::projection::Projection;
use super::PoolUse;

/// A row both drivers decode: a tuple of `String`, `i64` and their `Option`s.
pub(crate) trait Record: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin {}

impl<T> Record for T where T: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin {}

/// A bound value.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Money(Option<Money>),
    /// A list of integers: an array on Postgres (`$N::bigint[]`), JSON text on SQLite
    /// (`json_each($N)`).
    Ints(Vec<i64>),
    /// A list of strings, bound as `Ints` are (`$N::text[]`, `json_each($N)`).
    Texts(Vec<String>),
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(Some(v.to_string()))
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(Some(v.clone()))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(Some(v))
    }
}

impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Value {
        Value::Text(v.map(str::to_string))
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Value {
        Value::Text(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(Some(v))
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Value {
        Value::Int(v)
    }
}

impl From<Money> for Value {
    fn from(v: Money) -> Value {
        Value::Money(Some(v))
    }
}

impl From<Option<Money>> for Value {
    fn from(v: Option<Money>) -> Value {
        Value::Money(v)
    }
}

/// The reads' connections, on either backend. With the journal's log, every statement first
/// waits until the tables show each change acknowledged before it began (`Projection::fresh`):
/// nobody reads an acknowledged change as missing. An actor's activation waits only for its own
/// changes (`for_activation_of`); a read of rows written with the log record waits for nothing
/// (`of_rows_written_with_the_log`).
#[derive(Clone, Debug)]
pub(crate) struct Pool {
    pub(crate) backend: Backend,
    projection: Option<Arc<Projection>>,
    waits_for: Waits,
    /// With the log in a cluster: this node's fence. A read that waits for everything also waits
    /// for the records other nodes had committed (`log::cluster::others_projected`).
    other_writers: Option<Arc<WriterFence>>,
}

/// What a read waits for the tables to show, with the journal's log.
#[derive(Clone, Debug)]
enum Waits {
    /// Every change acknowledged before it began.
    Everything,
    /// The changes of these actors acknowledged before it began: all their activations read back.
    ChangesOf(Vec<ActorKey>),
    /// Nothing: the rows it reads are committed with the log record, not projected (payments).
    Nothing,
}

#[derive(Clone, Debug)]
pub(crate) enum Backend {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// A transaction on either backend: committed by `commit`, rolled back when dropped.
pub(crate) enum Tx {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
}

impl Pool {
    pub(crate) fn new(backend: Backend, projection: Option<Arc<Projection>>) -> Pool {
        Pool { backend, projection, waits_for: Waits::Everything, other_writers: None }
    }

    /// The same connections for a node of a cluster on the log (see `other_writers`).
    pub(crate) fn waiting_for_other_writers(self, fence: Arc<WriterFence>) -> Pool {
        Pool { other_writers: Some(fence), ..self }
    }

    /// The same connections for an actor's activation: its reads wait only until the tables show
    /// that actor's own acknowledged changes, which are all the rows it reads back.
    pub(crate) fn for_activation_of(&self, actor: ActorKey) -> Pool {
        self.for_activation_of_all(vec![actor])
    }

    /// As `for_activation_of`, for several actors activated together.
    pub(crate) fn for_activation_of_all(&self, actors: Vec<ActorKey>) -> Pool {
        Pool { waits_for: Waits::ChangesOf(actors), ..self.clone() }
    }

    /// The same connections for reading payments: their rows are written in the log record's own
    /// transaction, before any reply (they are the exactly-once guard), so nothing is to wait for.
    pub(crate) fn of_rows_written_with_the_log(&self) -> Pool {
        Pool { waits_for: Waits::Nothing, ..self.clone() }
    }

    /// The connections, once the tables show what was acknowledged before this call.
    pub(crate) async fn fresh(&self) -> Result<&Backend, sqlx::Error> {
        if let Some(projection) = &self.projection {
            let reached = match &self.waits_for {
                Waits::Everything => projection.fresh().await,
                Waits::ChangesOf(actors) => projection.fresh_for(actors).await,
                Waits::Nothing => Ok(()),
            };
            reached.map_err(|behind| sqlx::Error::Protocol(behind.to_string()))?;
        }
        if let (Waits::Everything, Some(fence), Backend::Postgres(pool)) =
            (&self.waits_for, &self.other_writers, &self.backend)
        {
            if let Some(me) = fence.id() {
                others_projected(pool, me).await?;
            }
        }
        Ok(&self.backend)
    }

    pub(crate) async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self.fresh().await? {
            Backend::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            Backend::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
        })
    }

    /// A read-only transaction that sees one moment of the store throughout: Postgres's repeatable
    /// read; on SQLite, a deferred transaction, whose first read fixes the snapshot its later reads
    /// see (write-ahead-log mode). Waits as `begin` does.
    pub(crate) async fn begin_snapshot(&self) -> Result<Tx, sqlx::Error> {
        let mut tx = self.begin().await?;
        if let Tx::Postgres(tx) = &mut tx {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut **tx).await?;
        }
        Ok(tx)
    }

    /// A read-only transaction in which Postgres reads rows in an index's order rather than sort
    /// them (`enable_sort` off), waiting as `begin` does. For a read of the newest few of many rows
    /// by an index that holds them in order: on a table never analyzed (autovacuum off) the
    /// planner guesses a handful of matches and prefers to fetch them all and sort, which for a
    /// product with a million sales reads a million rows (seen at activation: over a second).
    /// SQLite's planner already takes the order from such an index.
    pub(crate) async fn begin_in_index_order(&self) -> Result<Tx, sqlx::Error> {
        let mut tx = self.begin().await?;
        if let Tx::Postgres(tx) = &mut tx {
            // One round trip for both settings (a simple query may hold several statements).
            sqlx::raw_sql("SET TRANSACTION READ ONLY; SET LOCAL enable_sort = off").execute(&mut **tx).await?;
        }
        Ok(tx)
    }

    pub(crate) fn pool_use(&self, name: &'static str) -> PoolUse {
        match &self.backend {
            Backend::Postgres(pool) => PoolUse { pool: name, open: pool.size(), idle: pool.num_idle() },
            Backend::Sqlite(pool) => PoolUse { pool: name, open: pool.size(), idle: pool.num_idle() },
        }
    }

    pub(crate) async fn close(&self) {
        match &self.backend {
            Backend::Postgres(pool) => pool.close().await,
            Backend::Sqlite(pool) => pool.close().await,
        }
    }
}

impl Tx {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Postgres(tx) => tx.commit().await,
            Tx::Sqlite(tx) => tx.commit().await,
        }
    }
}

/// A statement and its values, in the order of its placeholders.
#[derive(Clone, Debug)]
pub(crate) struct Query {
    sql: Cow<'static, str>,
    values: Vec<Value>,
    /// Kept prepared on its connection (the default), or planned again at each run with its
    /// values (`planned_each_run`).
    prepared: bool,
}

impl Query {
    pub(crate) fn new(sql: &'static str) -> Query {
        Query { sql: Cow::Borrowed(sql), values: Vec::new(), prepared: true }
    }

    /// A statement put together from this crate's literals (column lists, filters), never from
    /// input: every value is bound.
    pub(crate) fn assembled(sql: String) -> Query {
        Query { sql: Cow::Owned(sql), values: Vec::new(), prepared: true }
    }

    /// Planned at each run, knowing its values, instead of kept prepared. For a statement over a
    /// list of keys (`= ANY($1)`): Postgres may cache a generic plan for it, and one made while
    /// the table was nearly empty scans the whole table, for as long as the connection lives if
    /// no `ANALYZE` comes to replace it (seen: a million customers' wallets read by sequential
    /// scans, each read taking 0.3 s).
    pub(crate) fn planned_each_run(self) -> Query {
        Query { prepared: false, ..self }
    }

    pub(crate) fn bind(mut self, value: impl Into<Value>) -> Query {
        self.values.push(value.into());
        self
    }

    pub(crate) async fn fetch_all<T: Record>(self, pool: &Pool) -> Result<Vec<T>, sqlx::Error> {
        match pool.fresh().await? {
            Backend::Postgres(pool) => self.postgres_as()?.fetch_all(pool).await,
            Backend::Sqlite(pool) => self.sqlite_as()?.fetch_all(pool).await,
        }
    }

    pub(crate) async fn fetch_optional<T: Record>(self, pool: &Pool) -> Result<Option<T>, sqlx::Error> {
        match pool.fresh().await? {
            Backend::Postgres(pool) => self.postgres_as()?.fetch_optional(pool).await,
            Backend::Sqlite(pool) => self.sqlite_as()?.fetch_optional(pool).await,
        }
    }

    pub(crate) async fn fetch_one<T: Record>(self, pool: &Pool) -> Result<T, sqlx::Error> {
        match pool.fresh().await? {
            Backend::Postgres(pool) => self.postgres_as()?.fetch_one(pool).await,
            Backend::Sqlite(pool) => self.sqlite_as()?.fetch_one(pool).await,
        }
    }

    /// Runs the statement; the number of rows it changed.
    pub(crate) async fn execute(self, pool: &Pool) -> Result<u64, sqlx::Error> {
        Ok(match pool.fresh().await? {
            Backend::Postgres(pool) => self.postgres()?.execute(pool).await?.rows_affected(),
            Backend::Sqlite(pool) => self.sqlite()?.execute(pool).await?.rows_affected(),
        })
    }

    pub(crate) async fn fetch_all_in<T: Record>(self, tx: &mut Tx) -> Result<Vec<T>, sqlx::Error> {
        match tx {
            Tx::Postgres(tx) => self.postgres_as()?.fetch_all(&mut **tx).await,
            Tx::Sqlite(tx) => self.sqlite_as()?.fetch_all(&mut **tx).await,
        }
    }

    pub(crate) async fn fetch_optional_in<T: Record>(self, tx: &mut Tx) -> Result<Option<T>, sqlx::Error> {
        match tx {
            Tx::Postgres(tx) => self.postgres_as()?.fetch_optional(&mut **tx).await,
            Tx::Sqlite(tx) => self.sqlite_as()?.fetch_optional(&mut **tx).await,
        }
    }

    /// Runs the statement inside `tx`; the number of rows it changed.
    pub(crate) async fn execute_in(self, tx: &mut Tx) -> Result<u64, sqlx::Error> {
        Ok(match tx {
            Tx::Postgres(tx) => self.postgres()?.execute(&mut **tx).await?.rows_affected(),
            Tx::Sqlite(tx) => self.sqlite()?.execute(&mut **tx).await?.rows_affected(),
        })
    }

    fn postgres(self) -> Result<sqlx::query::Query<'static, Postgres, PgArguments>, sqlx::Error> {
        let arguments = postgres_arguments(self.values);
        Ok(sqlx::query_with(AssertSqlSafe(self.sql), arguments.map_err(sqlx::Error::Encode)?).persistent(self.prepared))
    }

    fn postgres_as<T: Record>(self) -> Result<sqlx::query::QueryAs<'static, Postgres, T, PgArguments>, sqlx::Error> {
        let arguments = postgres_arguments(self.values);
        Ok(sqlx::query_as_with(AssertSqlSafe(self.sql), arguments.map_err(sqlx::Error::Encode)?)
            .persistent(self.prepared))
    }

    fn sqlite(self) -> Result<sqlx::query::Query<'static, Sqlite, SqliteArguments>, sqlx::Error> {
        let arguments = sqlite_arguments(self.values);
        Ok(sqlx::query_with(AssertSqlSafe(self.sql), arguments.map_err(sqlx::Error::Encode)?).persistent(self.prepared))
    }

    fn sqlite_as<T: Record>(self) -> Result<sqlx::query::QueryAs<'static, Sqlite, T, SqliteArguments>, sqlx::Error> {
        let arguments = sqlite_arguments(self.values);
        Ok(sqlx::query_as_with(AssertSqlSafe(self.sql), arguments.map_err(sqlx::Error::Encode)?)
            .persistent(self.prepared))
    }
}

fn postgres_arguments(values: Vec<Value>) -> Result<PgArguments, BoxDynError> {
    let mut arguments = PgArguments::default();
    for value in values {
        match value {
            Value::Text(v) => arguments.add(v)?,
            Value::Int(v) => arguments.add(v)?,
            Value::Money(v) => arguments.add(v.map(|m| m.amount()))?,
            Value::Ints(v) => arguments.add(v)?,
            Value::Texts(v) => arguments.add(v)?,
        }
    }
    Ok(arguments)
}

fn sqlite_arguments(values: Vec<Value>) -> Result<SqliteArguments, BoxDynError> {
    let mut arguments = SqliteArguments::default();
    for value in values {
        match value {
            Value::Text(v) => arguments.add(v)?,
            Value::Int(v) => arguments.add(v)?,
            Value::Money(v) => arguments.add(v.map(sqlite_money))?,
            Value::Ints(v) => arguments.add(serde_json::to_string(&v)?)?,
            Value::Texts(v) => arguments.add(serde_json::to_string(&v)?)?,
        }
    }
    Ok(arguments)
}

/// Money as SQLite keeps it: exact decimal text. The journal's SQLite writer binds it the same way.
pub(crate) fn sqlite_money(m: Money) -> String {
    m.amount().to_string()
}

//! Several statements sent as one: each is a part of a `WITH` statement, so a journal batch
//! costs one round trip to Postgres instead of one per table. With small batches (tens of sales
//! at a time) the round trips, not the rows, set the pace.

use sqlx::postgres::{PgArguments, PgConnection, Postgres};
use sqlx::{Arguments, Encode, Type};

use super::fence::Fenced;
use super::journal_writer::Writer;

#[derive(Default)]
pub(crate) struct Combined {
    parts: Vec<String>,
    /// The statement's main query, when it is not `SELECT 1`: the writer's fence (see `fence`).
    main: Option<String>,
    arguments: PgArguments,
    /// The first value that could not be encoded; the statement then fails before it is sent.
    error: Option<sqlx::error::BoxDynError>,
}

/// One part being given its values, in the order of its placeholders.
pub(crate) struct Part<'c> {
    combined: &'c mut Combined,
}

impl Combined {
    /// A statement that will carry about `bytes` of values: its buffer is made that size once,
    /// instead of doubling (and copying) its way up to a log record of a hundred kilobytes.
    pub(crate) fn with_room_for(bytes: usize) -> Combined {
        let mut combined = Combined::default();
        combined.arguments.reserve(0, bytes);
        combined
    }

    /// Adds a statement whose placeholders are numbered from `$1`; they are renumbered to follow
    /// the parts before it.
    pub(crate) fn part(&mut self, sql: &str) -> Part<'_> {
        let offset = self.arguments.len();
        self.parts.push(renumber(sql, offset));
        Part { combined: self }
    }

    /// Makes the statement's main query the check of its writer (`journal_writer`): the statement
    /// then writes nothing unless the check passed. A raise aborts the whole statement, whichever
    /// part ran first; and since Postgres runs the main query before the parts nothing reads, the
    /// writer's row is share-locked before any row is written, so a takeover waits for the batch
    /// rather than the batch finding out at its end.
    pub(crate) fn check(&mut self, writer: Writer<'_>, fenced: Fenced) {
        assert!(self.main.is_none(), "one check per statement");
        self.main = Some(writer.select(self.arguments.len() + 1, fenced));
        let values = self.part_values();
        match writer {
            Writer::Node(id) => values.bind(id.node.as_str()).bind(id.incarnation),
            Writer::Alone(epoch) => values.bind(epoch),
        };
    }

    /// The name the next part will have in the `WITH` statement, for a later part to read what
    /// it returns (only once there are two parts or more: a lone part is sent as it is).
    pub(crate) fn next_part_name(&self) -> String {
        format!("w{}", self.parts.len())
    }

    fn part_values(&mut self) -> Part<'_> {
        Part { combined: self }
    }

    /// Makes the statement's main query `sql` (placeholders from `$1`, renumbered like a part's),
    /// whose one value `fetch_one` returns: a statement of its own that the parts go with (the
    /// log's record, with the rows that must be refused before it is acknowledged).
    pub(crate) fn returning(&mut self, sql: &str) -> Part<'_> {
        assert!(self.main.is_none(), "one main query per statement");
        self.main = Some(renumber(sql, self.arguments.len()));
        Part { combined: self }
    }

    /// The statement to send: None when there is nothing to run.
    fn statement(parts: Vec<String>, main: Option<String>) -> Option<String> {
        match (parts.len(), main) {
            (0, None) => None,
            (0, Some(main)) => Some(main),
            (1, None) => parts.into_iter().next(),
            (_, main) => {
                let parts: Vec<String> =
                    parts.iter().enumerate().map(|(i, part)| format!("w{i} AS ({part})")).collect();
                Some(format!("WITH {} {}", parts.join(", "), main.as_deref().unwrap_or("SELECT 1")))
            }
        }
    }

    /// Runs the parts: nothing, one plain statement, or one `WITH` statement; with a fence, at
    /// least the fence.
    pub(crate) async fn execute(self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        if let Some(error) = self.error {
            return Err(sqlx::Error::Encode(error));
        }
        let Some(sql) = Combined::statement(self.parts, self.main) else {
            return Ok(());
        };
        sqlx::query_with(sqlx::AssertSqlSafe(sql), self.arguments).execute(conn).await?;
        Ok(())
    }

    /// Runs the parts and the main query set by `returning`, and returns its one value.
    pub(crate) async fn fetch_one<T>(self, conn: &mut PgConnection) -> Result<T, sqlx::Error>
    where
        T: for<'r> sqlx::Decode<'r, Postgres> + Type<Postgres> + Send + Unpin,
    {
        if let Some(error) = self.error {
            return Err(sqlx::Error::Encode(error));
        }
        assert!(self.main.is_some(), "a value is returned by the main query `returning` sets");
        let sql = Combined::statement(self.parts, self.main).expect("a main query");
        sqlx::query_scalar_with(sqlx::AssertSqlSafe(sql), self.arguments).fetch_one(conn).await
    }
}

impl Part<'_> {
    pub(crate) fn bind<'t, T>(self, value: T) -> Self
    where
        T: Encode<'t, Postgres> + Type<Postgres>,
    {
        if let Err(error) = self.combined.arguments.add(value) {
            self.combined.error.get_or_insert(error);
        }
        self
    }
}

/// `$n` becomes `$(n + offset)`. Our statements hold no `$` inside string literals.
fn renumber(sql: &str, offset: usize) -> String {
    if offset == 0 {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '$' {
            let mut digits = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
            match digits.parse::<usize>() {
                Ok(n) => out.push_str(&(n + offset).to_string()),
                Err(_) => out.push_str(&digits),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fence::FenceId;

    #[test]
    fn placeholders_follow_the_parts_before() {
        assert_eq!(renumber("VALUES ($1, $12, $12)", 0), "VALUES ($1, $12, $12)");
        assert_eq!(renumber("VALUES ($1, $12::bigint[], $2)", 10), "VALUES ($11, $22::bigint[], $12)");
    }

    #[test]
    fn parts_number_their_values_in_order() {
        let mut c = Combined::default();
        c.part("INSERT INTO a SELECT $1, $2").bind(1_i64).bind(2_i64);
        c.part("INSERT INTO b SELECT $1").bind(3_i64);
        assert_eq!(c.parts, vec!["INSERT INTO a SELECT $1, $2".to_string(), "INSERT INTO b SELECT $3".to_string()]);
        assert_eq!(c.arguments.len(), 3);
    }

    #[test]
    fn a_returning_main_query_numbers_its_values_after_the_parts() {
        let mut c = Combined::default();
        c.part("INSERT INTO a SELECT $1").bind(1_i64);
        c.returning("INSERT INTO b VALUES ($1, $2) RETURNING id").bind(2_i64).bind(3_i64);
        let sql = Combined::statement(c.parts, c.main).unwrap();
        assert_eq!(sql, "WITH w0 AS (INSERT INTO a SELECT $1) INSERT INTO b VALUES ($2, $3) RETURNING id");
    }

    #[test]
    fn a_fence_is_the_main_query_and_the_parts_number_after_it() {
        let mut c = Combined::default();
        c.check(Writer::Node(&FenceId { node: "a".into(), incarnation: 7 }), Fenced::Statement);
        c.part("INSERT INTO a SELECT $1").bind(1_i64);
        let main = c.main.as_deref().unwrap();
        assert!(main.contains("node_id = $1 AND incarnation = $2") && main.contains("warung_fenced($1, $2)"), "{main}");
        assert!(!main.contains("idle_in_transaction"), "a lone statement is never idle in a transaction");
        assert_eq!(c.parts, vec!["INSERT INTO a SELECT $3".to_string()]);
    }
}

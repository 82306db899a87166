//! One query path over two databases.
//!
//! Every query is written once, in SQL both SQLite and PostgreSQL understand
//! (`$1` placeholders, `ON CONFLICT`, `RETURNING`, CTEs, window functions),
//! collected with its arguments into an [`Sql`], and run by [`Db`] or [`Tx`]
//! on whichever backend was chosen at start. The only per-backend code is the
//! binding of arguments below and the connection set-up in `lib.rs`.

use std::borrow::Cow;

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::StoreError;

/// A bound value. Nulls carry their type: PostgreSQL needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Bool(Option<bool>),
    Bytes(Option<Vec<u8>>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<f64> for Arg {
    fn from(v: f64) -> Self {
        Arg::Real(Some(v))
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(Some(v))
    }
}
impl From<Option<bool>> for Arg {
    fn from(v: Option<bool>) -> Self {
        Arg::Bool(v)
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::Text(v.map(str::to_owned))
    }
}

/// A query and its arguments.
#[derive(Debug, Clone)]
pub struct Sql {
    text: Cow<'static, str>,
    args: Vec<Arg>,
    /// Whole columns bound as PostgreSQL arrays after `args` (a multi-row
    /// statement written with `UNNEST`, see [`Columns`]).
    columns: Vec<Column>,
}

/// Starts a query.
pub fn sql(text: impl Into<Cow<'static, str>>) -> Sql {
    Sql {
        text: text.into(),
        args: Vec::new(),
        columns: Vec::new(),
    }
}

impl Sql {
    #[must_use]
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    pub fn push_arg(&mut self, value: impl Into<Arg>) {
        self.args.push(value.into());
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// How many arguments are bound so far: the number of the last `$N`.
    pub fn arg_count(&self) -> usize {
        self.args.len()
    }

    /// The same arguments under a statement written after binding them
    /// (for queries whose filters add both).
    #[must_use]
    pub fn with_text(mut self, text: impl Into<Cow<'static, str>>) -> Self {
        self.text = text.into();
        self
    }
}

/// A row type both backends can decode.
pub trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// Binds every argument to a `sqlx` query or `query_as` of either backend.
macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Int(v) => query.bind(*v),
                Arg::Real(v) => query.bind(*v),
                Arg::Text(v) => query.bind(v.as_deref()),
                Arg::Bool(v) => query.bind(*v),
                Arg::Bytes(v) => query.bind(v.as_deref()),
            };
        }
        query
    }};
}

/// [`bind_all!`] for PostgreSQL: the arguments, then the whole columns as
/// arrays.
macro_rules! bind_pg {
    ($query:expr, $q:expr) => {{
        let mut query = bind_all!($query, &$q.args);
        for column in &$q.columns {
            query = match column {
                Column::Int(v) => query.bind(v.as_slice()),
                Column::Real(v) => query.bind(v.as_slice()),
                Column::Text(v) => query.bind(v.as_slice()),
                Column::Bool(v) => query.bind(v.as_slice()),
                Column::Bytes(v) => query.bind(v.as_slice()),
            };
        }
        query
    }};
}

/// SQLite finds a named parameter (`$7`) by a linear scan of the statement's
/// parameter list, so binding a multi-row `INSERT` with thousands of them
/// takes quadratic time (180 ms for 1,000 orders). When a statement's `$N`
/// run exactly 1, 2, …, n in order — as [`values_placeholders`] writes them —
/// the same statement with anonymous `?` binds in linear time.
fn sqlite_text(text: &str) -> Cow<'_, str> {
    if !text.contains("$1") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut expected = 1usize;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while let Some(&(j, d)) = chars.peek() {
            if d.is_ascii_digit() {
                end = j + 1;
                chars.next();
            } else {
                break;
            }
        }
        match text[start..end].parse::<usize>() {
            Ok(n) if n == expected => {
                out.push('?');
                expected += 1;
            }
            // Reused or out-of-order numbers: keep the named form.
            _ => return Cow::Borrowed(text),
        }
    }
    Cow::Owned(out)
}

/// Runs `$op` (`fetch_all`, `fetch_optional`, `fetch_one`) for a query on
/// either backend's executor.
macro_rules! run_as {
    ($backend:ident, $exec:expr, $q:expr, $op:ident) => {
        match $backend {
            Backend::Sqlite => {
                let text = sqlite_text(&$q.text);
                bind_all!(sqlx::query_as::<Sqlite, _>(text.as_ref()), &$q.args)
                    .$op($exec.sqlite())
                    .await
            }
            Backend::Postgres => {
                bind_pg!(sqlx::query_as::<Postgres, _>($q.text.as_ref()), $q)
                    .$op($exec.pg())
                    .await
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The pools. SQLite has one writer at a time, so writes go through a
/// single-connection pool and transactions start `IMMEDIATE`: no
/// `SQLITE_BUSY` surprises inside a transaction.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite { read: SqlitePool, write: SqlitePool },
    Postgres(PgPool),
}

struct PoolExec<'a> {
    db: &'a Db,
    write: bool,
}

impl<'a> PoolExec<'a> {
    fn sqlite(&self) -> &'a SqlitePool {
        match self.db {
            Db::Sqlite { read, write } => {
                if self.write {
                    write
                } else {
                    read
                }
            }
            Db::Postgres(_) => unreachable!("backend checked by the caller"),
        }
    }
    fn pg(&self) -> &'a PgPool {
        match self.db {
            Db::Postgres(pool) => pool,
            Db::Sqlite { .. } => unreachable!("backend checked by the caller"),
        }
    }
}

impl Db {
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    fn reader(&self) -> PoolExec<'_> {
        PoolExec {
            db: self,
            write: false,
        }
    }

    /// All rows.
    pub async fn all<T: Record>(&self, q: Sql) -> Result<Vec<T>, StoreError> {
        let backend = self.backend();
        let exec = self.reader();
        Ok(run_as!(backend, exec, q, fetch_all)?)
    }

    /// At most one row.
    pub async fn opt<T: Record>(&self, q: Sql) -> Result<Option<T>, StoreError> {
        let backend = self.backend();
        let exec = self.reader();
        Ok(run_as!(backend, exec, q, fetch_optional)?)
    }

    /// Exactly one row.
    pub async fn one<T: Record>(&self, q: Sql) -> Result<T, StoreError> {
        let backend = self.backend();
        let exec = self.reader();
        Ok(run_as!(backend, exec, q, fetch_one)?)
    }

    /// One row returned by a single writing statement (`INSERT … RETURNING`).
    pub async fn write_one<T: Record>(&self, q: Sql) -> Result<T, StoreError> {
        let backend = self.backend();
        let exec = PoolExec {
            db: self,
            write: true,
        };
        Ok(run_as!(backend, exec, q, fetch_one)?)
    }

    /// Every row returned by a single writing statement (`UPDATE …
    /// RETURNING`).
    pub async fn write_all<T: Record>(&self, q: Sql) -> Result<Vec<T>, StoreError> {
        let backend = self.backend();
        let exec = PoolExec {
            db: self,
            write: true,
        };
        Ok(run_as!(backend, exec, q, fetch_all)?)
    }

    /// At most one row returned by a single writing statement
    /// (`INSERT … ON CONFLICT DO NOTHING RETURNING`).
    pub async fn write_opt<T: Record>(&self, q: Sql) -> Result<Option<T>, StoreError> {
        let backend = self.backend();
        let exec = PoolExec {
            db: self,
            write: true,
        };
        Ok(run_as!(backend, exec, q, fetch_optional)?)
    }

    /// A single statement that writes, in its own transaction; rows affected.
    pub async fn exec(&self, q: Sql) -> Result<u64, StoreError> {
        let affected = match self {
            Db::Sqlite { write, .. } => {
                let text = sqlite_text(&q.text);
                bind_all!(sqlx::query::<Sqlite>(text.as_ref()), &q.args)
                    .execute(write)
                    .await?
                    .rows_affected()
            }
            Db::Postgres(pool) => bind_pg!(sqlx::query::<Postgres>(q.text.as_ref()), q)
                .execute(pool)
                .await?
                .rows_affected(),
        };
        Ok(affected)
    }

    /// The write connection, held by the caller for several transactions
    /// in a row (see [`Writer`]).
    pub async fn writer(&self) -> Result<Writer, StoreError> {
        Ok(match self {
            Db::Sqlite { write, .. } => Writer::Sqlite(write.acquire().await?),
            Db::Postgres(pool) => Writer::Postgres(pool.acquire().await?),
        })
    }

    /// Starts a read-only transaction whose statements all see the
    /// database as it was at its first read (SQLite's read transaction;
    /// PostgreSQL's repeatable read): for a reader that must not see a
    /// writer's commit between two of its statements.
    pub async fn snapshot(&self) -> Result<Tx<'static>, StoreError> {
        Ok(match self {
            Db::Sqlite { read, .. } => Tx::Sqlite(read.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .await?,
            ),
        })
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> Result<Tx<'static>, StoreError> {
        Ok(match self {
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }
}

/// A write connection held across consecutive transactions: a committer
/// with more work waiting keeps it rather than handing it back to the pool
/// and taking it again (on SQLite, where every write takes the one write
/// connection, each hand-back is a check of the connection and two waits
/// for a turn on a busy runtime). Dropped, it goes back to the pool.
pub enum Writer {
    Sqlite(sqlx::pool::PoolConnection<Sqlite>),
    Postgres(sqlx::pool::PoolConnection<Postgres>),
}

impl Writer {
    /// A write transaction on this connection that waits for a lock at
    /// most [`LOCK_WAIT`] (on SQLite the connection's busy timeout, as
    /// long): for writes a client sends again when refused, such as answer
    /// batches, which must not hold a connection for the minutes a rollups
    /// rebuild takes.
    pub async fn begin_impatient(&mut self) -> Result<Tx<'_>, StoreError> {
        use sqlx::Connection;
        Ok(match self {
            Writer::Sqlite(conn) => Tx::Sqlite(conn.begin_with("BEGIN IMMEDIATE").await?),
            Writer::Postgres(conn) => Tx::Postgres(
                conn.begin_with(format!(
                    "BEGIN; SET LOCAL lock_timeout = '{}ms'",
                    LOCK_WAIT.as_millis()
                ))
                .await?,
            ),
        })
    }
}

/// How long an impatient write waits for a lock.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// How many times a transaction is run when the database keeps aborting it.
pub const ABORTED_TRIES: u32 = 6;

/// Runs a whole transaction (`run` begins, works and commits it) again when
/// the database aborted it as a deadlock victim or a serialization failure
/// — PostgreSQL's way of letting one of two conflicting transactions
/// through; nothing of the aborted one was written — up to
/// [`ABORTED_TRIES`] times, after a short random pause that grows with each
/// try (so the same two do not collide again). Still aborted after that,
/// the error goes to the caller, whom [`StoreError::is_busy`] tells to send
/// the request again later.
pub async fn retry_aborted<T, F, Fut>(mut run: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut tries = 1;
    loop {
        match run().await {
            Err(e) if e.is_aborted() && tries < ABORTED_TRIES => {
                pause_after_abort(&e, tries).await;
                tries += 1;
            }
            other => return other,
        }
    }
}

/// The pause before running an aborted transaction again: 1–8 ms (jitter
/// from the clock) on the first retry, doubling with each.
pub(crate) async fn pause_after_abort(e: &StoreError, tries: u32) {
    tracing::debug!(error = %e, tries, "transaction aborted by the database; running it again");
    let jitter = u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
            % 8,
    );
    tokio::time::sleep(std::time::Duration::from_millis(
        (1 + jitter) << (tries - 1),
    ))
    .await;
}

/// A write transaction; dropped without [`Tx::commit`] it rolls back.
/// `'static` when it holds its connection (from the pool), shorter when
/// it borrows a [`Writer`]'s.
pub enum Tx<'c> {
    Sqlite(Transaction<'c, Sqlite>),
    Postgres(Transaction<'c, Postgres>),
}

struct TxExec<'a, 'c>(&'a mut Tx<'c>);

impl TxExec<'_, '_> {
    fn sqlite(&mut self) -> &mut sqlx::SqliteConnection {
        match self.0 {
            Tx::Sqlite(tx) => tx,
            Tx::Postgres(_) => unreachable!("backend checked by the caller"),
        }
    }
    fn pg(&mut self) -> &mut sqlx::PgConnection {
        match self.0 {
            Tx::Postgres(tx) => tx,
            Tx::Sqlite(_) => unreachable!("backend checked by the caller"),
        }
    }
}

impl Tx<'_> {
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn all<T: Record>(&mut self, q: Sql) -> Result<Vec<T>, StoreError> {
        let backend = self.backend();
        let mut exec = TxExec(self);
        Ok(run_as!(backend, exec, q, fetch_all)?)
    }

    pub async fn opt<T: Record>(&mut self, q: Sql) -> Result<Option<T>, StoreError> {
        let backend = self.backend();
        let mut exec = TxExec(self);
        Ok(run_as!(backend, exec, q, fetch_optional)?)
    }

    pub async fn one<T: Record>(&mut self, q: Sql) -> Result<T, StoreError> {
        let backend = self.backend();
        let mut exec = TxExec(self);
        Ok(run_as!(backend, exec, q, fetch_one)?)
    }

    pub async fn exec(&mut self, q: Sql) -> Result<u64, StoreError> {
        let affected = match self {
            Tx::Sqlite(tx) => {
                let text = sqlite_text(&q.text);
                bind_all!(sqlx::query::<Sqlite>(text.as_ref()), &q.args)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
            }
            Tx::Postgres(tx) => bind_pg!(sqlx::query::<Postgres>(q.text.as_ref()), q)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
        };
        Ok(affected)
    }

    /// Runs a script of several statements with no arguments (a migration;
    /// PostgreSQL's simple query protocol takes several at once).
    pub async fn exec_script(&mut self, script: &str) -> Result<(), StoreError> {
        use sqlx::Executor;
        match self {
            Tx::Sqlite(tx) => {
                tx.execute(script).await?;
            }
            Tx::Postgres(tx) => {
                tx.execute(script).await?;
            }
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await?,
            Tx::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// Rows per multi-row statement. Fixed, so that the statement text repeats
/// and both backends prepare it once per connection and reuse it.
pub const STATEMENT_ROWS: usize = 250;

/// IN-list sizes; a list is padded up to one of these by repeating its last
/// key (harmless in `IN`), so only a handful of statement texts exist.
const LIST_SIZES: [usize; 4] = [8, 32, 128, 500];

/// Appends `(…), (…)` value groups with numbered placeholders: `rows` groups
/// of `width` parameters, numbered from 1.
fn values_placeholders(out: &mut String, rows: usize, width: usize) {
    use std::fmt::Write;
    let mut n = 1;
    for r in 0..rows {
        out.push_str(if r > 0 { ", (" } else { "(" });
        for c in 0..width {
            if c > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "${n}");
            n += 1;
        }
        out.push(')');
    }
}

/// The statement of a multi-row `INSERT` — `head` ending in `VALUES`,
/// then `tail` — for `rows`, each bound by `bind` with `width` arguments.
///
/// On SQLite: `head (…), (…) tail` with a placeholder per value. On
/// PostgreSQL each column goes as one array — `head` without its `VALUES`,
/// `SELECT * FROM UNNEST($1::int8[], $2::text[], …) tail` — so one
/// statement text serves every row count: it is parsed and planned once
/// per connection instead of once per row count, and a group commit of 37
/// answers binds 8 arrays, not 296 values. Where a column's values are not
/// all of one type the placeholders are used on PostgreSQL too.
fn rows_statement<T>(
    backend: Backend,
    head: &str,
    width: usize,
    tail: &str,
    rows: &[T],
    bind: &impl Fn(&mut Sql, &T),
) -> Sql {
    let mut q = sql("");
    q.args.reserve(rows.len() * width);
    for row in rows {
        bind(&mut q, row);
    }
    debug_assert_eq!(
        q.args.len(),
        rows.len() * width,
        "{head}: {width} values a row"
    );
    if backend == Backend::Postgres {
        if let Some(insert) = head.trim_end().strip_suffix("VALUES") {
            if let Some(columns) = Column::split(&q.args, width) {
                use std::fmt::Write;
                let mut text = String::with_capacity(insert.len() + tail.len() + 32 + width * 12);
                text.push_str(insert);
                text.push_str("SELECT * FROM UNNEST(");
                for (i, column) in columns.iter().enumerate() {
                    if i > 0 {
                        text.push_str(", ");
                    }
                    let _ = write!(text, "${}::{}", i + 1, column.array_type());
                }
                text.push_str(") ");
                text.push_str(tail);
                q.text = text.into();
                q.args.clear();
                q.columns = columns;
                return q;
            }
        }
    }
    let mut text = String::with_capacity(head.len() + tail.len() + rows.len() * width * 6);
    text.push_str(head);
    text.push(' ');
    values_placeholders(&mut text, rows.len(), width);
    text.push(' ');
    text.push_str(tail);
    q.text = text.into();
    q
}

/// A column of a multi-row statement, bound to PostgreSQL as one array.
#[derive(Debug, Clone, PartialEq)]
enum Column {
    Int(Vec<Option<i64>>),
    Real(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
    Bool(Vec<Option<bool>>),
    Bytes(Vec<Option<Vec<u8>>>),
}

impl Column {
    /// `args` — rows of `width` values — as `width` columns; `None` when a
    /// column holds values of two types.
    fn split(args: &[Arg], width: usize) -> Option<Vec<Column>> {
        let rows = args.len() / width.max(1);
        let mut columns: Vec<Column> = args
            .iter()
            .take(width)
            .map(|first| match first {
                Arg::Int(_) => Column::Int(Vec::with_capacity(rows)),
                Arg::Real(_) => Column::Real(Vec::with_capacity(rows)),
                Arg::Text(_) => Column::Text(Vec::with_capacity(rows)),
                Arg::Bool(_) => Column::Bool(Vec::with_capacity(rows)),
                Arg::Bytes(_) => Column::Bytes(Vec::with_capacity(rows)),
            })
            .collect();
        for (i, arg) in args.iter().enumerate() {
            match (&mut columns[i % width], arg) {
                (Column::Int(c), Arg::Int(v)) => c.push(*v),
                (Column::Real(c), Arg::Real(v)) => c.push(*v),
                (Column::Text(c), Arg::Text(v)) => c.push(v.clone()),
                (Column::Bool(c), Arg::Bool(v)) => c.push(*v),
                (Column::Bytes(c), Arg::Bytes(v)) => c.push(v.clone()),
                _ => return None,
            }
        }
        Some(columns)
    }

    fn array_type(&self) -> &'static str {
        match self {
            Column::Int(_) => "int8[]",
            Column::Real(_) => "float8[]",
            Column::Text(_) => "text[]",
            Column::Bool(_) => "bool[]",
            Column::Bytes(_) => "bytea[]",
        }
    }
}

/// `$first, $first+1, …` for an `IN (…)` list of `count` parameters.
pub fn list_placeholders(out: &mut String, count: usize, first: usize) {
    use std::fmt::Write;
    for i in 0..count {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "${}", first + i);
    }
}

impl Tx<'_> {
    /// Runs `head (…), (…) tail` — a multi-row `INSERT` — for all `rows`, in
    /// statements of [`STATEMENT_ROWS`] rows; `bind` adds one row's `width`
    /// arguments. Returns the rows affected.
    pub async fn exec_rows<T>(
        &mut self,
        head: &str,
        width: usize,
        tail: &str,
        rows: &[T],
        bind: impl Fn(&mut Sql, &T),
    ) -> Result<u64, StoreError> {
        let mut affected = 0;
        for chunk in rows.chunks(STATEMENT_ROWS) {
            let q = rows_statement(self.backend(), head, width, tail, chunk, &bind);
            affected += self.exec(q).await?;
        }
        Ok(affected)
    }

    /// [`Tx::exec_rows`] for a statement that returns rows (`… RETURNING`):
    /// all the rows returned, chunk after chunk.
    pub async fn all_rows<R: Record, T>(
        &mut self,
        head: &str,
        width: usize,
        tail: &str,
        rows: &[T],
        bind: impl Fn(&mut Sql, &T),
    ) -> Result<Vec<R>, StoreError> {
        let mut out = Vec::new();
        for chunk in rows.chunks(STATEMENT_ROWS) {
            let q = rows_statement(self.backend(), head, width, tail, chunk, &bind);
            out.extend(self.all::<R>(q).await?);
        }
        Ok(out)
    }

    /// Runs `head (k1, k2, …) tail` — a writing statement with an `IN` list
    /// of `keys` — in chunks; returns the rows affected.
    pub async fn exec_in<K>(
        &mut self,
        head: &str,
        keys: &[K],
        tail: &str,
        bind: impl Fn(&mut Sql, &K),
    ) -> Result<u64, StoreError> {
        let mut affected = 0;
        for q in in_list_queries(head, keys, tail, bind) {
            affected += self.exec(q).await?;
        }
        Ok(affected)
    }

    /// Runs `head (k1, k2, …) tail` — a query with an `IN` list of `keys` —
    /// in chunks, and returns all the rows.
    pub async fn all_in<R: Record, K>(
        &mut self,
        head: &str,
        keys: &[K],
        tail: &str,
        bind: impl Fn(&mut Sql, &K),
    ) -> Result<Vec<R>, StoreError> {
        let mut rows = Vec::new();
        for q in in_list_queries(head, keys, tail, bind) {
            rows.extend(self.all::<R>(q).await?);
        }
        Ok(rows)
    }
}

impl Db {
    /// [`Tx::all_in`] outside a transaction, on the read connections.
    pub async fn all_in<R: Record, K>(
        &self,
        head: &str,
        keys: &[K],
        tail: &str,
        bind: impl Fn(&mut Sql, &K),
    ) -> Result<Vec<R>, StoreError> {
        let mut rows = Vec::new();
        for q in in_list_queries(head, keys, tail, bind) {
            rows.extend(self.all::<R>(q).await?);
        }
        Ok(rows)
    }
}

/// The statements of an `IN`-list query over `keys`: chunks padded up to
/// one of [`LIST_SIZES`] by repeating the last key (harmless in `IN`), so
/// only a handful of statement texts exist and each is prepared once.
fn in_list_queries<K>(head: &str, keys: &[K], tail: &str, bind: impl Fn(&mut Sql, &K)) -> Vec<Sql> {
    let largest = LIST_SIZES[LIST_SIZES.len() - 1];
    keys.chunks(largest)
        .map(|chunk| {
            let size = LIST_SIZES
                .iter()
                .copied()
                .find(|s| *s >= chunk.len())
                .unwrap_or(largest);
            let mut text = String::with_capacity(head.len() + tail.len() + size * 6);
            text.push_str(head);
            text.push_str(" (");
            list_placeholders(&mut text, size, 1);
            text.push_str(") ");
            text.push_str(tail);
            let mut q = sql(text);
            for key in chunk {
                bind(&mut q, key);
            }
            if let Some(last) = chunk.last() {
                for _ in chunk.len()..size {
                    bind(&mut q, last);
                }
            }
            q
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{rows_statement, sqlite_text, Arg, Backend, Column, Sql};

    fn bind(q: &mut Sql, row: &(i64, Option<&str>, Arg)) {
        q.push_arg(row.0);
        q.push_arg(row.1);
        q.push_arg(row.2.clone());
    }

    #[test]
    fn rows_go_to_postgres_as_one_array_per_column() {
        let rows = [
            (1, Some("a"), Arg::Bool(Some(true))),
            (2, None, Arg::Bool(None)),
        ];
        let q = rows_statement(
            Backend::Postgres,
            "INSERT INTO t (n, s, b) VALUES",
            3,
            "ON CONFLICT DO NOTHING",
            &rows,
            &bind,
        );
        assert_eq!(
            q.text(),
            "INSERT INTO t (n, s, b) SELECT * FROM UNNEST($1::int8[], $2::text[], $3::bool[]) ON CONFLICT DO NOTHING"
        );
        assert_eq!(q.arg_count(), 0);
        assert_eq!(
            q.columns,
            vec![
                Column::Int(vec![Some(1), Some(2)]),
                Column::Text(vec![Some("a".into()), None]),
                Column::Bool(vec![Some(true), None]),
            ]
        );
        // SQLite takes the values one by one.
        let q = rows_statement(
            Backend::Sqlite,
            "INSERT INTO t (n, s, b) VALUES",
            3,
            "",
            &rows,
            &bind,
        );
        assert_eq!(
            q.text(),
            "INSERT INTO t (n, s, b) VALUES ($1, $2, $3), ($4, $5, $6) "
        );
        assert_eq!(q.arg_count(), 6);
        // A column of two types cannot be one array: placeholders then.
        let mixed = [
            (1, Some("a"), Arg::Bool(Some(true))),
            (2, Some("b"), Arg::Int(Some(0))),
        ];
        let q = rows_statement(
            Backend::Postgres,
            "INSERT INTO t (n, s, b) VALUES",
            3,
            "",
            &mixed,
            &bind,
        );
        assert!(
            q.text().contains("VALUES ($1, $2, $3), ($4, $5, $6)"),
            "{}",
            q.text()
        );
        assert!(q.columns.is_empty());
    }

    #[test]
    fn numbered_in_order_becomes_anonymous() {
        assert_eq!(
            sqlite_text("INSERT INTO t VALUES ($1, $2), ($3, $4)"),
            "INSERT INTO t VALUES (?, ?), (?, ?)"
        );
        assert_eq!(sqlite_text("SELECT 1"), "SELECT 1");
        // Reused or out of order: left alone, the named form is right there.
        assert_eq!(
            sqlite_text("UPDATE t SET a = $1 WHERE b = $1"),
            "UPDATE t SET a = $1 WHERE b = $1"
        );
        assert_eq!(sqlite_text("SELECT $2, $1"), "SELECT $2, $1");
        assert_eq!(sqlite_text("SELECT $1, $2, $10"), "SELECT $1, $2, $10");
    }
}

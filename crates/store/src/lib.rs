//! Doorstep's storage: one [`Store`] over SQLite (the default, zero set-up)
//! and PostgreSQL (scale-out), with the same queries and the same migrations.

mod accounts;
pub mod calls;
pub mod db;
pub mod events;
pub mod helpdesk;
pub mod inspections;
pub mod jobs;
mod migrate;
mod orders;
mod privacy;
pub mod recordings;
pub mod refusals;
mod settings;
pub mod survey;
pub mod testing;
pub mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use accounts::{ApiToken, NewApiToken, SessionUser, User};
pub use db::{Backend, Db};
pub use orders::{
    BatchOutcome, CustomerView, DeliveryStatus, NpsBand, OrderFilter, OrderPage, OrderView,
    RowOutcome,
};
pub use privacy::{Erased, Erasee};
pub use survey::attachments::Attachment;
pub use survey::{
    Comment, NewResponse, ResponseOutcome, ResponseSummary, StoredAnswer, SurveyLink, SurveyRecord,
};

/// The schema's history, embedded in the binary. Never edit a released file:
/// add the next one. (Listed by hand rather than with `sqlx::migrate!`, which
/// would pull sqlx's whole macro crate into the build for one line.)
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/0001_foundation.sql"),
    ),
    (2, "surveys", include_str!("../migrations/0002_surveys.sql")),
    (
        3,
        "survey links",
        include_str!("../migrations/0003_survey_links.sql"),
    ),
    (
        4,
        "attachments",
        include_str!("../migrations/0004_attachments.sql"),
    ),
    (5, "rollups", include_str!("../migrations/0005_rollups.sql")),
    (6, "causes", include_str!("../migrations/0006_causes.sql")),
    (
        7,
        "deliveries",
        include_str!("../migrations/0007_deliveries.sql"),
    ),
    (
        8,
        "report schedules",
        include_str!("../migrations/0008_report_schedules.sql"),
    ),
    (
        9,
        "weekly rollups",
        include_str!("../migrations/0009_rollup_weeks.sql"),
    ),
    (
        10,
        "day builds",
        include_str!("../migrations/0010_day_builds.sql"),
    ),
    (
        11,
        "pending rollups",
        include_str!("../migrations/0011_rollup_pending.sql"),
    ),
    (
        12,
        "exactly once",
        include_str!("../migrations/0012_exactly_once.sql"),
    ),
    (
        13,
        "events, jobs and webhooks",
        include_str!("../migrations/0013_events_jobs_webhooks.sql"),
    ),
    (
        14,
        "helpdesk",
        include_str!("../migrations/0014_helpdesk.sql"),
    ),
    (
        15,
        "courier dimensions",
        include_str!("../migrations/0015_courier_dimensions.sql"),
    ),
    (
        16,
        "weeks by month",
        include_str!("../migrations/0016_weeks_by_month.sql"),
    ),
    (17, "sla", include_str!("../migrations/0017_sla.sql")),
    (
        18,
        "gateways",
        include_str!("../migrations/0018_gateways.sql"),
    ),
    (
        19,
        "notices",
        include_str!("../migrations/0019_notices.sql"),
    ),
    (
        20,
        "mailboxes",
        include_str!("../migrations/0020_mailboxes.sql"),
    ),
    (
        21,
        "support days",
        include_str!("../migrations/0021_support_days.sql"),
    ),
    (22, "calls", include_str!("../migrations/0022_calls.sql")),
    (
        23,
        "late orders",
        include_str!("../migrations/0023_late_orders.sql"),
    ),
    (
        24,
        "call reasons and agents",
        include_str!("../migrations/0024_call_reasons_agents.sql"),
    ),
    (
        25,
        "support contacted",
        include_str!("../migrations/0025_support_contacted.sql"),
    ),
    (
        26,
        "mass notices",
        include_str!("../migrations/0026_mass_notices.sql"),
    ),
    (
        27,
        "call slots",
        include_str!("../migrations/0027_call_slots.sql"),
    ),
    (
        28,
        "agent presence",
        include_str!("../migrations/0028_agent_presence.sql"),
    ),
    (
        29,
        "call days",
        include_str!("../migrations/0029_call_days.sql"),
    ),
    (
        30,
        "refusals",
        include_str!("../migrations/0030_refusals.sql"),
    ),
    (
        31,
        "inspections",
        include_str!("../migrations/0031_inspections.sql"),
    ),
    (
        32,
        "recordings",
        include_str!("../migrations/0032_recordings.sql"),
    ),
    (
        33,
        "refusal days",
        include_str!("../migrations/0033_refusal_days.sql"),
    ),
    (
        34,
        "late orders index",
        include_str!("../migrations/0034_late_orders_index.sql"),
    ),
    (
        35,
        "late facts",
        include_str!("../migrations/0035_late_facts.sql"),
    ),
];

/// The newest schema version this binary knows.
pub fn schema_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.0).max().unwrap_or(0)
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("{0:?} is not a database URL Doorstep knows (expected sqlite://FILE or postgres://USER@HOST/DB)")]
    UnknownScheme(String),
    #[error(
        "the database was upgraded by a newer Doorstep (schema version {database}, this binary knows up to {known}); \
         run the newer doorstep, or restore a backup taken before the upgrade"
    )]
    SchemaTooNew { database: i64, known: i64 },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the database holds something Doorstep did not write: {0}; `doorstep rollups rebuild` recomputes derived data")]
    Corrupt(String),
    #[error(
        "schema migration {version} ({description}) applied to this database differs from the one this binary carries \
         (a development build migrated it?); use the binary that migrated it, or restore a backup taken before"
    )]
    MigrationChanged { version: i64, description: String },
}

impl StoreError {
    /// True when a unique constraint refused the write (a duplicate login, …).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// True when the database aborted the transaction to let another go
    /// on (PostgreSQL's deadlock_detected and serialization_failure):
    /// nothing was written, and running the same transaction again is
    /// expected to succeed.
    pub fn is_aborted(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e))
            if matches!(e.code().as_deref(), Some("40P01" | "40001")))
    }

    /// True when the database was too busy to take the write in time (a
    /// lock held past [`db::LOCK_WAIT`] — by a rollups rebuild, say —,
    /// every connection in use, or a transaction aborted again and again
    /// by deadlocks): nothing was written, and the same request may be
    /// sent again.
    pub fn is_busy(&self) -> bool {
        if self.is_aborted() {
            return true;
        }
        match self {
            StoreError::Database(sqlx::Error::PoolTimedOut) => true,
            StoreError::Database(sqlx::Error::Database(e)) => {
                // PostgreSQL's lock_not_available; SQLite's BUSY and LOCKED
                // (extended codes keep the primary code in the low byte).
                let code = e.code();
                code.as_deref() == Some("55P03")
                    || code
                        .and_then(|c| c.parse::<i64>().ok())
                        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
            }
            _ => false,
        }
    }
}

/// The database, whichever it is.
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
    /// Built weeks' rollup rows, shared by every clone.
    weeks: std::sync::Arc<survey::week_cache::WeekCache>,
    /// The latest built days' rollup rows (the days of weeks not built yet).
    days: std::sync::Arc<survey::week_cache::WeekCache>,
    /// Whole built weeks' courier habits (the self-filling signals' sums).
    habits: std::sync::Arc<survey::day_builds::WeekSums<survey::day_builds::Habits>>,
    drivers: std::sync::Arc<survey::day_builds::WeekSums<survey::day_builds::DriverRow>>,
    /// Bumped when events may have been committed (see [`events`]).
    event_wake: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    /// Bumped when this process committed events (to announce them).
    local_events: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

impl Store {
    /// Connects by URL scheme and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Store::connect_at_schema(url, schema_version()).await
    }

    /// Connects and brings the schema up to `version` only: for tests of
    /// what a migration does to the data an older version left.
    #[doc(hidden)]
    pub async fn connect_at_schema(url: &str, version: i64) -> Result<Store, StoreError> {
        let db = if url.starts_with("sqlite:") {
            connect_sqlite(url).await?
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            // Plan each execution with its real arguments: a generic plan made
            // while a table was small (a fresh install, an import under way)
            // would keep scanning it whole once it has grown. No JIT: our
            // queries read index ranges in milliseconds, and a cost estimate
            // over its threshold had PostgreSQL compile them first — 265 ms
            // of the 917 the dashboard's told-first figures took over a
            // month of 3 million orders.
            let options = PgConnectOptions::from_str(url)?
                .options([("plan_cache_mode", "force_custom_plan"), ("jit", "off")]);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .after_release(|conn, _| Box::pin(async move { released_clean(conn).await }))
                .connect_with(options)
                .await?;
            Db::Postgres(pool)
        } else {
            return Err(StoreError::UnknownScheme(url.to_owned()));
        };
        let store = Store {
            db,
            weeks: std::sync::Arc::default(),
            days: std::sync::Arc::new(survey::week_cache::WeekCache::holding(
                survey::week_cache::MAX_DAY_ROWS,
            )),
            habits: std::sync::Arc::new(survey::day_builds::WeekSums::holding(
                survey::day_builds::HABIT_ROWS,
            )),
            drivers: std::sync::Arc::new(survey::day_builds::WeekSums::holding(
                survey::day_builds::DRIVER_ROWS,
            )),
            event_wake: std::sync::Arc::new(tokio::sync::watch::Sender::new(0)),
            local_events: std::sync::Arc::new(tokio::sync::watch::Sender::new(0)),
        };
        migrate::run(&store.db, version).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// The query layer, for modules that add their own queries.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db
            .one::<(i64,)>(db::sql("SELECT CAST(1 AS BIGINT)"))
            .await
            .map(|_| ())
    }

    /// Checks that a write can begin now (the write connection is free and
    /// not stuck, the database takes a write lock): a write transaction is
    /// opened and rolled back.
    pub async fn check_writable(&self) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        tx.one::<(i64,)>(db::sql("SELECT CAST(1 AS BIGINT)"))
            .await?;
        tx.rollback().await
    }

    /// Waits for in-flight work and closes every connection.
    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

async fn connect_sqlite(url: &str) -> Result<Db, StoreError> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(db::LOCK_WAIT)
        .foreign_keys(true)
        .pragma("cache_size", "-65536")
        .pragma("temp_store", "memory");
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let write = until_not_busy(|| {
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .after_release(|conn, _| Box::pin(async move { released_clean(conn).await }))
            .connect_with(options.clone())
    })
    .await?;
    // An in-memory database exists once per connection: read where we write.
    let read = if in_memory {
        write.clone()
    } else {
        let read_only = options.read_only(true).create_if_missing(false);
        until_not_busy(|| {
            SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(read_only.clone())
        })
        .await?
    };
    Ok(Db::Sqlite { read, write })
}

/// Opens a connection again while SQLite answers BUSY without waiting:
/// two processes opening a fresh file at once both try to turn it to WAL
/// mode, and SQLite refuses one at once (a lock upgrade that could
/// deadlock skips the busy handler). The other has switched it a moment
/// later; the next try finds WAL mode set.
async fn until_not_busy<F, Fut>(mut open: F) -> Result<SqlitePool, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<SqlitePool, sqlx::Error>>,
{
    let started = std::time::Instant::now();
    loop {
        match open().await.map_err(StoreError::from) {
            Err(e) if e.is_busy() && started.elapsed() < db::LOCK_WAIT => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => return other,
        }
    }
}

/// Whether a connection handed back to its pool may be used again: not if
/// it is still inside a transaction. A transaction dropped unfinished
/// queues its rollback, which the ping runs first; a connection whose
/// `BEGIN` ran but whose `Transaction` was never made (its future was
/// dropped in between) is still inside one after that, and is closed —
/// which rolls it back — rather than handed to the next request.
async fn released_clean<C: sqlx::Connection>(conn: &mut C) -> Result<bool, sqlx::Error> {
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!(
            "a connection came back inside a transaction: closed, its transaction rolled back"
        );
        return Ok(false);
    }
    Ok(true)
}

/// Milliseconds since the epoch, now.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

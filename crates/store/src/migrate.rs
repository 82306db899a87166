//! The schema's migrations, applied at connect — safely when several
//! processes start at once on one database.
//!
//! sqlx's own migrator applies each file in a transaction of its own and,
//! on SQLite, takes no lock at all: two processes starting together on a
//! fresh file both saw "nothing applied" and the second failed on `table
//! settings already exists`. Here every pending migration is applied in one
//! transaction that holds the database's write lock first (SQLite's `BEGIN
//! IMMEDIATE`, a transaction-scoped advisory lock on PostgreSQL), and the
//! list of applied migrations is read under that lock: the second process
//! waits, then finds everything applied. The bookkeeping table is sqlx's
//! (`_sqlx_migrations`, same columns and checksums), so databases migrated
//! by earlier versions carry on.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType};

use crate::db::{sql, Backend, Db};
use crate::{StoreError, MIGRATIONS};

/// The advisory lock key on PostgreSQL (any constant; "doorstep" in ASCII).
const LOCK_KEY: i64 = 0x646f_6f72_7374_6570;

/// How long a process waits for another one's migrations (SQLite keeps
/// asking while the other holds the write lock).
const WAIT_FOR_OTHERS: std::time::Duration = std::time::Duration::from_mins(10);

/// Brings the schema up to `up_to` (the newest known, except in tests).
pub(crate) async fn run(db: &Db, up_to: i64) -> Result<(), StoreError> {
    let known = MIGRATIONS.iter().map(|m| m.0).max().unwrap_or(0);
    let started = std::time::Instant::now();
    let mut tx = loop {
        match db.begin().await {
            Ok(tx) => break tx,
            // Another process is migrating (or writing): wait for it.
            Err(e) if e.is_busy() && started.elapsed() < WAIT_FOR_OTHERS => {
                tracing::info!("waiting for another process to finish with the database schema");
            }
            Err(e) => return Err(e),
        }
    };
    let table = match db.backend() {
        Backend::Postgres => {
            tx.exec(sql("SELECT pg_advisory_xact_lock($1)").bind(LOCK_KEY))
                .await?;
            "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
             installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, checksum BYTEA NOT NULL, \
             execution_time BIGINT NOT NULL)"
        }
        Backend::Sqlite => {
            "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
             installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, checksum BLOB NOT NULL, \
             execution_time BIGINT NOT NULL)"
        }
    };
    tx.exec(sql(table)).await?;
    let applied: Vec<(i64, Vec<u8>)> = tx
        .all(sql(
            "SELECT version, checksum FROM _sqlx_migrations ORDER BY version",
        ))
        .await?;
    if let Some(&(newest, _)) = applied.last() {
        if newest > known {
            return Err(StoreError::SchemaTooNew {
                database: newest,
                known,
            });
        }
    }
    for &(version, description, text) in MIGRATIONS.iter().filter(|m| m.0 <= up_to) {
        let migration = Migration::new(
            version,
            Cow::Borrowed(description),
            MigrationType::Simple,
            Cow::Borrowed(text),
            false,
        );
        if let Some((_, checksum)) = applied.iter().find(|(v, _)| *v == version) {
            if checksum.as_slice() != migration.checksum.as_ref() {
                return Err(StoreError::MigrationChanged {
                    version,
                    description: description.to_owned(),
                });
            }
            continue;
        }
        let began = std::time::Instant::now();
        tx.exec_script(text).await?;
        tx.exec(
            sql("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                 VALUES ($1, $2, TRUE, $3, $4)")
            .bind(version)
            .bind(description)
            .bind(crate::db::Arg::Bytes(Some(migration.checksum.to_vec())))
            .bind(began.elapsed().as_nanos() as i64),
        )
        .await?;
    }
    tx.commit().await
}

//! Background jobs that run once across every process on the database.
//!
//! A job is one row. A process claims the jobs that are due by taking a
//! lease on them (`locked_by` until `locked_until`): on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED`, so two processes claiming at once take
//! different jobs and never wait for each other; on SQLite the one writer
//! makes the claim atomic. A holder that dies (kill -9, a lost machine)
//! keeps its jobs only until the lease runs out; then another process takes
//! them. Finishing or failing a job is accepted only from its holder, so a
//! process whose lease expired mid-run cannot overwrite its successor's
//! record.

use crate::db::{sql, Backend};
use crate::{now_millis, Store, StoreError};

/// A claimed job: what to run, and how many times it was tried in a row
/// (this run included).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: String,
    pub kind: String,
    pub attempts: i64,
}

/// A job as an administrator sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobView {
    pub id: String,
    pub kind: String,
    pub run_after: i64,
    pub locked_by: Option<String>,
    pub locked_until: Option<i64>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub last_started_at: Option<i64>,
    pub last_finished_at: Option<i64>,
    pub last_ok_at: Option<i64>,
}

impl Store {
    /// Adds a job, due at `run_after`, unless one with this id exists.
    pub async fn ensure_job(&self, id: &str, kind: &str, run_after: i64) -> Result<(), StoreError> {
        self.db
            .exec(
                sql(
                    "INSERT INTO jobs (id, kind, run_after, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(id)
                .bind(kind)
                .bind(run_after)
                .bind(now_millis()),
            )
            .await?;
        Ok(())
    }

    /// Removes a job (its holder's finish is then refused).
    pub async fn remove_job(&self, id: &str) -> Result<(), StoreError> {
        self.db
            .exec(sql("DELETE FROM jobs WHERE id = $1").bind(id))
            .await?;
        Ok(())
    }

    /// Makes a job due now (unless it is running), so that it runs at the
    /// next claim rather than at its scheduled time.
    pub async fn wake_job(&self, id: &str) -> Result<(), StoreError> {
        let now = now_millis();
        self.db
            .exec(
                sql("UPDATE jobs SET run_after = $2 WHERE id = $1 AND run_after > $2")
                    .bind(id)
                    .bind(now),
            )
            .await?;
        Ok(())
    }

    /// Claims up to `limit` due jobs for `holder`, leased for `lease_ms`.
    pub async fn claim_jobs(
        &self,
        holder: &str,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        let now = now_millis();
        // Most looks find nothing due: asked on a read connection first, so
        // that they never take the write lock (SQLite's one writer) for
        // nothing.
        let due: Option<(String,)> = self
            .db
            .opt(
                sql("SELECT id FROM jobs WHERE run_after <= $1 \
                     AND (locked_until IS NULL OR locked_until < $1) LIMIT 1")
                .bind(now),
            )
            .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        let lock = match self.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        self.db
            .write_all(
                sql(format!(
                    "UPDATE jobs SET locked_by = $1, locked_until = $2, attempts = attempts + 1, last_started_at = $3 \
                     WHERE id IN (SELECT id FROM jobs WHERE run_after <= $3 \
                     AND (locked_until IS NULL OR locked_until < $3) ORDER BY run_after LIMIT $4 {lock}) \
                     RETURNING id, kind, attempts"
                ))
                .bind(holder)
                .bind(now + lease_ms)
                .bind(now)
                .bind(limit),
            )
            .await
    }

    /// Keeps a running job's lease for `lease_ms` more; false when the job
    /// is no longer this holder's (its lease ran out and another took it,
    /// or it was removed): the holder should stop.
    pub async fn extend_job(
        &self,
        id: &str,
        holder: &str,
        lease_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = self
            .db
            .exec(
                sql("UPDATE jobs SET locked_until = $3 WHERE id = $1 AND locked_by = $2")
                    .bind(id)
                    .bind(holder)
                    .bind(now_millis() + lease_ms),
            )
            .await?;
        Ok(n == 1)
    }

    /// Records a run that succeeded and releases the job, due next at
    /// `run_after`; false when the job was no longer this holder's.
    pub async fn job_done(
        &self,
        id: &str,
        holder: &str,
        run_after: i64,
    ) -> Result<bool, StoreError> {
        let now = now_millis();
        let n = self
            .db
            .exec(
                sql("UPDATE jobs SET locked_by = NULL, locked_until = NULL, attempts = 0, last_error = NULL, \
                     last_finished_at = $3, last_ok_at = $3, run_after = $4 WHERE id = $1 AND locked_by = $2")
                .bind(id)
                .bind(holder)
                .bind(now)
                .bind(run_after),
            )
            .await?;
        Ok(n == 1)
    }

    /// Records a run that failed and releases the job, to be tried again
    /// at `run_after`; `reset` starts its count of tries afresh (it was
    /// given up until its next regular run).
    pub async fn job_failed(
        &self,
        id: &str,
        holder: &str,
        error: &str,
        run_after: i64,
        reset: bool,
    ) -> Result<bool, StoreError> {
        let now = now_millis();
        let n = self
            .db
            .exec(
                sql("UPDATE jobs SET locked_by = NULL, locked_until = NULL, last_error = $3, last_finished_at = $4, \
                     run_after = $5, attempts = CASE WHEN $6 THEN 0 ELSE attempts END \
                     WHERE id = $1 AND locked_by = $2")
                .bind(id)
                .bind(holder)
                .bind(error)
                .bind(now)
                .bind(run_after)
                .bind(reset),
            )
            .await?;
        Ok(n == 1)
    }

    /// Every job, by id.
    pub async fn jobs(&self) -> Result<Vec<JobView>, StoreError> {
        self.db
            .all(sql(
                "SELECT id, kind, run_after, locked_by, locked_until, attempts, last_error, last_started_at, \
                 last_finished_at, last_ok_at FROM jobs ORDER BY id",
            ))
            .await
    }
}

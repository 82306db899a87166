//! Rebuilding the rollups from the raw answers, and telling when they
//! need it.

use doorstep_domain::time::local_day;
use jiff::tz::TimeZone;

use crate::db::{sql, Backend, Tx};
use crate::{Store, StoreError};

use super::{next_page, response_facts, Deltas, Reader};

/// Taken first by a rebuild that scans raw rows into daily `tables`, on
/// PostgreSQL: writers update those rows in their own transactions, and one
/// committing during the scan would be counted by the scan and again by its
/// own update (or deadlock with the rebuild's delete). Writers under way
/// finish first; new ones wait for the rebuild, then add to the rows it
/// wrote. Readers are not held up. (On SQLite the rebuild's transaction is
/// the one writer already.)
pub(crate) async fn hold_writers_off(tx: &mut Tx<'_>, tables: &str) -> Result<(), StoreError> {
    if tx.backend() == Backend::Postgres {
        tx.exec(sql(format!("LOCK TABLE {tables} IN EXCLUSIVE MODE")))
            .await?;
    }
    Ok(())
}

/// Drops every weekly row (the daily rows answer until they are built
/// again): for a rebuild of the daily rows.
pub(crate) async fn forget_weeks(tx: &mut Tx<'_>) -> Result<(), StoreError> {
    for table in [
        "rollup_week_state",
        "rollup_weeks",
        "rollup_courier_weeks",
        "rollup_courier_dim_weeks",
        "rollup_delivery_weeks",
    ] {
        tx.exec(sql(format!("DELETE FROM {table}"))).await?;
    }
    Ok(())
}

/// Rollup rows a rebuild gathers in memory before writing them (~60 MB).
pub(super) const REBUILD_ROWS_IN_MEMORY: usize = 300_000;

impl Store {
    /// Why the rollups must be counted again from the raw answers (an
    /// upgrade removed answers they had counted), or `None`.
    pub async fn rollups_stale(&self) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = self
            .db
            .opt(sql(
                "SELECT value FROM settings WHERE key = 'rollups_stale'",
            ))
            .await?;
        Ok(row.map(|r| r.0))
    }

    /// Recomputes both rollups from the raw answers, in the time zone given
    /// (after it changed, or to check them). Returns the responses counted.
    /// `progress` is told the responses read so far.
    pub async fn rebuild_rollups(
        &self,
        tz: &TimeZone,
        mut progress: impl FnMut(u64),
    ) -> Result<u64, StoreError> {
        let surveys = self.survey_versions().await?;
        let mut tx = self.db.begin().await?;
        hold_writers_off(&mut tx, "rollup_days, rollup_courier_days").await?;
        // Pending rows are SQLite's, whose single writer is this transaction
        // now: what they hold is counted again from the raw answers below.
        tx.exec(sql("DELETE FROM rollup_pending")).await?;
        tx.exec(sql("DELETE FROM settings WHERE key = 'rollups_stale'"))
            .await?;
        tx.exec(sql("DELETE FROM rollup_days")).await?;
        tx.exec(sql("DELETE FROM rollup_courier_days")).await?;
        forget_weeks(&mut tx).await?;
        crate::survey::day_builds::forget_days(&mut tx).await?;
        let mut seen = 0_u64;
        let mut after: Option<(i64, String)> = None;
        // Rollup rows are far fewer than responses: gathered in memory and
        // written once (or whenever they grow past a bound), not per page.
        let mut deltas = Deltas::default();
        loop {
            let page =
                next_page(&mut Reader::Tx(&mut tx), i64::MIN, i64::MAX, after.as_ref()).await?;
            let Some(last) = page.last() else { break };
            after = Some((last.0.finished_at, last.0.id.clone()));
            for (r, answers) in &page {
                let (day, month) = local_day(r.finished_at, tz);
                let (status, f) = response_facts(&surveys, r, answers);
                deltas.add(&r.key(day, month), status, &f);
            }
            if deltas.len() >= REBUILD_ROWS_IN_MEMORY {
                std::mem::take(&mut deltas).apply(&mut tx).await?;
            }
            seen += page.len() as u64;
            progress(seen);
        }
        deltas.apply(&mut tx).await?;
        tx.commit().await?;
        // Deliveries and refusals are filed by local day too.
        self.rebuild_deliveries(tz).await?;
        self.rebuild_refusal_days(tz).await?;
        // The late orders' facts (not filed by day: read by their window).
        self.rebuild_late_facts().await?;
        // Then the weekly rows of the weeks that have ended, from the new days.
        let (today, _) = local_day(jiff::Timestamp::now().as_millisecond(), tz);
        self.build_weeks(today).await?;
        // The days' habits and driver pairs are left to `build_days` (the
        // raw answers answer for them meanwhile).
        Ok(seen)
    }
}

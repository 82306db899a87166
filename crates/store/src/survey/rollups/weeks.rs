//! Week builds: weekly rows summed from the daily ones once a week has
//! ended, in short slices that never hold the writer for long, and the
//! marks that send a week back to its daily rows when a late answer
//! arrives for it.

use std::collections::{BTreeMap, BTreeSet};

use doorstep_domain::survey::metrics::Tally;
use doorstep_domain::time::week_start;

use crate::db::{sql, Arg, Backend, Sql, Tx};
use crate::{Store, StoreError};

use super::counters::{counter_names, push_tally};
use super::{fold_all_pending, summed_counters, Counters};

/// What a set of built rows covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Span {
    Week,
    Day,
    /// A day of the support figures (`support_days`).
    SupportDay,
}

impl Span {
    /// Its state table and key column.
    pub(crate) fn state(self) -> (&'static str, &'static str) {
        match self {
            Span::Week => ("rollup_week_state", "week"),
            Span::Day => ("rollup_day_state", "day"),
            Span::SupportDay => ("support_day_state", "day"),
        }
    }
}

/// A week's (or its part in one month's) sums for one row of `rollup_weeks`.
#[derive(sqlx::FromRow)]
pub(super) struct DimsWeek {
    month: i64,
    survey_id: String,
    city: String,
    partner: String,
    segment: String,
    channel: String,
    #[sqlx(flatten)]
    counters: Counters,
}

/// A week's (or its part in one month's) sums for one row of
/// `rollup_courier_weeks`.
#[derive(sqlx::FromRow)]
pub(super) struct CourierWeek {
    month: i64,
    courier_id: String,
    city: String,
    survey_id: String,
    partner: String,
    segment: String,
    channel: String,
    #[sqlx(flatten)]
    counters: Counters,
}

/// A row of `rollup_courier_dim_weeks`: the dimension's column, its value,
/// the month, courier and city.
type DimKey<'a> = (&'static str, &'a str, i64, &'a str, &'a str);

/// A week's courier rows summed over all dimensions but one, for each of
/// the survey, partner, segment and channel (see `rollup_courier_dim_weeks`).
fn by_one_dimension(rows: &[CourierWeek]) -> Vec<(DimKey<'_>, Tally)> {
    let mut sums: BTreeMap<DimKey<'_>, Tally> = BTreeMap::new();
    for r in rows {
        for (dim, value) in [
            ("survey_id", &r.survey_id),
            ("partner", &r.partner),
            ("segment", &r.segment),
            ("channel", &r.channel),
        ] {
            sums.entry((dim, value.as_str(), r.month, &r.courier_id, &r.city))
                .or_default()
                .merge(&r.counters.0);
        }
    }
    sums.into_iter().collect()
}

/// Marks the ended weeks of these local days as not built (an answer or a
/// delivery arriving late for a week whose weekly rows exist), in the
/// transaction that writes their daily rows: until the background step
/// builds the week again, its daily rows answer for it. "Ended" is judged
/// by the UTC day of `now_ms` with a day to spare, so that it covers every
/// week [`Store::build_weeks`] may have built, in any time zone. Call it
/// last before the commit: on PostgreSQL it locks the weeks' state rows,
/// so concurrent late writers for one week wait only for each other's
/// commit.
pub(crate) async fn mark_late_weeks(
    tx: &mut Tx<'_>,
    days: impl Iterator<Item = i64>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let today = now_ms.div_euclid(86_400_000) + 1;
    let weeks: BTreeSet<i64> = days.map(week_start).filter(|w| w + 7 <= today).collect();
    if weeks.is_empty() {
        return Ok(());
    }
    let weeks: Vec<i64> = weeks.into_iter().collect();
    mark_not_built(tx, Span::Week, &weeks).await.map(|_| ())
}

/// Marks weeks or days (`keys`, in ascending order: concurrent writers lock
/// them in one order) as not built, creating their state rows if need be,
/// under a new generation — which tells a build under way (see
/// [`SlicedBuild`]) that what it read is out of date. Returns the generation.
pub(crate) async fn mark_not_built(
    tx: &mut Tx<'_>,
    span: Span,
    keys: &[i64],
) -> Result<i64, StoreError> {
    let (table, column) = span.state();
    let generation = new_generation();
    tx.exec_rows(
        &format!("INSERT INTO {table} ({column}, built, generation) VALUES"),
        3,
        &format!(
            "ON CONFLICT ({column}) DO UPDATE SET built = FALSE, generation = excluded.generation"
        ),
        keys,
        |q, k| {
            q.push_arg(*k);
            q.push_arg(Arg::Bool(Some(false)));
            q.push_arg(generation);
        },
    )
    .await?;
    Ok(generation)
}

/// Rows written per transaction by a background build: a slice that holds
/// SQLite's one writer for some milliseconds, so that answers waiting for it
/// are not held up by background work for long.
pub(crate) const SLICE_ROWS: usize = 250;

/// A build of one week's or day's rows that never holds the writer for
/// long. It marks the span not built (under a generation of its own:
/// its ticket), reads what the rows are summed from on the read
/// connections, with no write lock held however long that takes, then
/// writes the rows in slices of [`SLICE_ROWS`] and finally marks the span
/// built — each a short transaction that first checks the span still holds
/// the ticket. A late answer or delivery for the span, stored meanwhile,
/// marks it again under another generation: the build stops there and the
/// span is built again by the next pass. Until it is built, readers count
/// the span from its finer rows, so the rows written in between are never
/// read.
pub(crate) struct SlicedBuild {
    span: Span,
    key: i64,
    ticket: i64,
}

impl SlicedBuild {
    /// Marks the span not built, folds every pending increment (so that the
    /// reads that follow see them) and deletes the span's rows in `tables`.
    pub(crate) async fn begin(
        db: &crate::Db,
        span: Span,
        key: i64,
        tables: &[&str],
    ) -> Result<SlicedBuild, StoreError> {
        // The answers' spans: most pending increments folded first, in
        // short transactions; the few left are folded below with the span
        // marked. (The support figures have none.)
        let answers = span != Span::SupportDay;
        if answers {
            super::pending::fold_pending_sliced(db).await?;
        }
        let mut tx = db.begin().await?;
        let ticket = mark_not_built(&mut tx, span, &[key]).await?;
        if answers {
            fold_all_pending(&mut tx).await?;
        }
        let (_, column) = span.state();
        for table in tables {
            tx.exec(sql(format!("DELETE FROM {table} WHERE {column} = $1")).bind(key))
                .await?;
        }
        tx.commit().await?;
        Ok(SlicedBuild { span, key, ticket })
    }

    /// Whether the span still holds this build's ticket (nothing was
    /// stored for it since the build began); on PostgreSQL the state row is
    /// locked until the transaction ends, so that a late writer waits for
    /// it and then marks the span again.
    pub(super) async fn still_ours(&self, tx: &mut Tx<'_>) -> Result<bool, StoreError> {
        let (table, column) = self.span.state();
        let lock = match tx.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        };
        let now: Option<(i64,)> = tx
            .opt(
                sql(format!(
                    "SELECT generation FROM {table} WHERE {column} = $1 AND built = FALSE{lock}"
                ))
                .bind(self.key),
            )
            .await?;
        Ok(now == Some((self.ticket,)))
    }

    /// Writes `rows` with `head` (an `INSERT … VALUES`) in slices; false
    /// when the span was marked again meanwhile (stop: it is built later).
    pub(crate) async fn write<T>(
        &self,
        db: &crate::Db,
        head: &str,
        width: usize,
        rows: &[T],
        bind: impl Fn(&mut Sql, &T),
    ) -> Result<bool, StoreError> {
        for slice in rows.chunks(SLICE_ROWS) {
            let mut tx = db.begin().await?;
            if !self.still_ours(&mut tx).await? {
                return Ok(false);
            }
            tx.exec_rows(head, width, "", slice, &bind).await?;
            tx.commit().await?;
        }
        Ok(true)
    }

    /// Marks the span built, under a new generation; false when it was
    /// marked again meanwhile.
    pub(crate) async fn finish(self, db: &crate::Db) -> Result<bool, StoreError> {
        let mut tx = db.begin().await?;
        if !self.still_ours(&mut tx).await? {
            return Ok(false);
        }
        let (table, column) = self.span.state();
        tx.exec(
            sql(format!(
                "UPDATE {table} SET built = TRUE, generation = $1 WHERE {column} = $2"
            ))
            .bind(new_generation())
            .bind(self.key),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// The first and last local day with answers or deliveries.
pub(crate) async fn data_days(db: &crate::Db) -> Result<Option<(i64, i64)>, StoreError> {
    let (first, last): (Option<i64>, Option<i64>) = db
        .one(sql(
            "SELECT MIN(d), MAX(d) FROM (SELECT MIN(day) AS d FROM rollup_days \
             UNION ALL SELECT MAX(day) FROM rollup_days \
             UNION ALL SELECT MIN(day) FROM rollup_delivery_days \
             UNION ALL SELECT MAX(day) FROM rollup_delivery_days) x",
        ))
        .await?;
    Ok(first.zip(last))
}

/// Whether week `week` (its Monday's day number) ended at least a whole
/// day before local day `today`, so its weekly rows may be built.
pub(super) fn week_closed(week: i64, today: i64) -> bool {
    week + 8 <= today
}

/// Builds one week's weekly rows from its daily rows, in slices (see
/// [`SlicedBuild`]); false when an answer or a delivery for the week arrived
/// meanwhile (it is built again by the next pass).
pub(super) async fn build_week(db: &crate::Db, week: i64) -> Result<bool, StoreError> {
    let build = SlicedBuild::begin(
        db,
        Span::Week,
        week,
        &[
            "rollup_weeks",
            "rollup_courier_weeks",
            "rollup_courier_dim_weeks",
            "rollup_delivery_weeks",
        ],
    )
    .await?;
    let (first, last) = (week, week + 6);
    let sums = summed_counters();
    let days: Vec<DimsWeek> = db
        .all(
            sql(format!(
                "SELECT month, survey_id, city, partner, segment, channel, {sums} FROM rollup_days \
                 WHERE day >= $1 AND day <= $2 GROUP BY month, survey_id, city, partner, segment, channel"
            ))
            .bind(first)
            .bind(last),
        )
        .await?;
    let couriers: Vec<CourierWeek> = db
        .all(
            sql(format!(
                "SELECT month, courier_id, city, survey_id, partner, segment, channel, {sums} \
                 FROM rollup_courier_days WHERE day >= $1 AND day <= $2 \
                 GROUP BY month, courier_id, city, survey_id, partner, segment, channel"
            ))
            .bind(first)
            .bind(last),
        )
        .await?;
    let deliveries: Vec<(i64, String, String, String, i64, i64)> = db
        .all(
            sql(
                "SELECT month, city, partner, courier_id, CAST(SUM(delivered) AS BIGINT), CAST(SUM(on_time) AS BIGINT) \
                 FROM rollup_delivery_days WHERE day >= $1 AND day <= $2 GROUP BY month, city, partner, courier_id",
            )
            .bind(first)
            .bind(last),
        )
        .await?;
    let written = build
        .write(
            db,
            "INSERT INTO rollup_weeks (week, month, survey_id, city, partner, segment, channel, tally) VALUES",
            8,
            &days,
            |q, r| {
                q.push_arg(week);
                q.push_arg(r.month);
                for v in [&r.survey_id, &r.city, &r.partner, &r.segment, &r.channel] {
                    q.push_arg(v.as_str());
                }
                q.push_arg(Arg::Bytes(Some(r.counters.0.to_bytes())));
            },
        )
        .await?
        && build
            .write(
                db,
                &format!(
                    "INSERT INTO rollup_courier_weeks \
                     (week, month, courier_id, city, survey_id, partner, segment, channel, {}) VALUES",
                    counter_names()
                ),
                8 + Tally::COUNTERS.len(),
                &couriers,
                |q, r| {
                    q.push_arg(week);
                    q.push_arg(r.month);
                    for v in [
                        &r.courier_id,
                        &r.city,
                        &r.survey_id,
                        &r.partner,
                        &r.segment,
                        &r.channel,
                    ] {
                        q.push_arg(v.as_str());
                    }
                    push_tally(q, &r.counters.0);
                },
            )
            .await?
        && build
            .write(
                db,
                &format!(
                    "INSERT INTO rollup_courier_dim_weeks \
                     (dim, value, week, courier_id, month, city, {}) VALUES",
                    counter_names()
                ),
                6 + Tally::COUNTERS.len(),
                &by_one_dimension(&couriers),
                |q, ((dim, value, month, courier, city), t)| {
                    q.push_arg(*dim);
                    q.push_arg(*value);
                    q.push_arg(week);
                    q.push_arg(*courier);
                    q.push_arg(*month);
                    q.push_arg(*city);
                    push_tally(q, t);
                },
            )
            .await?
        && build
            .write(
                db,
                "INSERT INTO rollup_delivery_weeks (week, month, city, partner, courier_id, delivered, on_time) VALUES",
                7,
                &deliveries,
                |q, (month, city, partner, courier, delivered, on_time)| {
                    q.push_arg(week);
                    q.push_arg(*month);
                    q.push_arg(city.as_str());
                    q.push_arg(partner.as_str());
                    q.push_arg(courier.as_str());
                    q.push_arg(*delivered);
                    q.push_arg(*on_time);
                },
            )
            .await?;
    if !written {
        return Ok(false);
    }
    build.finish(db).await
}

/// A new generation for rows just built: random, so never given before.
pub(crate) fn new_generation() -> i64 {
    i64::from_le_bytes(uuid::Uuid::new_v4().as_u64_pair().0.to_le_bytes())
}

impl Store {
    /// Builds the weekly rows of every week that ended at least a day
    /// before `today` (a local day number) and is not built yet, each in
    /// short slices (see [`SlicedBuild`]). Returns the weeks built (a week
    /// that got a late answer while it was built is left to the next call).
    pub async fn build_weeks(&self, today: i64) -> Result<usize, StoreError> {
        self.fold_pending().await?;
        let Some((first, last)) = data_days(&self.db).await? else {
            return Ok(0);
        };
        let built = self.built_weeks(i64::MIN, i64::MAX).await?;
        let mut count = 0;
        let mut week = week_start(first);
        while week <= last && week_closed(week, today) {
            if !built.contains_key(&week) && build_week(&self.db, week).await? {
                count += 1;
            }
            week += 7;
        }
        Ok(count)
    }
}

//! Daily rows built from the raw answers once a local day is over, for the
//! figures that pair answers within one response and so cannot be kept by
//! the ingesting transaction at a price ingestion can pay: the couriers'
//! habits (the self-filling signals) and the factor/NPS pairs (the key
//! drivers).
//!
//! A background step ([`Store::build_days`]) builds every past day not built
//! yet, each in its own transaction. An answer arriving for a past day marks
//! that day not built in the transaction storing it ([`mark_late_days`]);
//! until it is built again, the day is counted from the raw answers. A
//! period is read as its built days' rows plus its other days counted raw,
//! so a year of a large fleet reads thousands of rows, and the raw answers
//! are visited only for today (and days with answers just arrived).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use doorstep_domain::survey::drivers::PairSums;
use doorstep_domain::survey::signals::Pattern;
use doorstep_domain::time::{date_of_day, day_range, local_day, week_start};
use jiff::tz::TimeZone;

use crate::db::{sql, Tx};
use crate::survey::rollups::{
    data_days, days_query, mark_not_built, MetricsFilter, SlicedBuild, Span,
};
use crate::{Store, StoreError};

/// How long after local midnight a day is still left to the raw answers: an
/// ingesting transaction that began before midnight judged the day "today"
/// and did not mark it, so it must have committed before the day is built.
const SETTLE_MS: i64 = 10 * 60 * 1000;

/// The half-open instants `[start, end)` of local day `day`.
fn day_bounds(day: i64, tz: &TimeZone) -> (i64, i64) {
    let date = date_of_day(day);
    let (start, end) = day_range(date, date, tz);
    (start.as_millisecond(), end.as_millisecond())
}

/// The keys within `from..=to` of the spans of a kind that are built.
pub(crate) async fn built_spans(
    db: &crate::Db,
    span: Span,
    from: i64,
    to: i64,
) -> Result<BTreeSet<i64>, StoreError> {
    let (table, column) = span.state();
    let keys: Vec<(i64,)> = db
        .all(
            sql(format!(
                "SELECT {column} FROM {table} WHERE built = TRUE AND {column} >= $1 AND {column} <= $2"
            ))
            .bind(from)
            .bind(to),
        )
        .await?;
    Ok(keys.into_iter().map(|(k,)| k).collect())
}

/// Marks the past days among `days` (local day numbers; `today` is the local
/// day now) as not built: answers arrived for them. Call it last before the
/// commit: on PostgreSQL it locks the days' state rows, so a build of the
/// same day either finished before (and the day is built again later) or
/// waits for the commit (and counts the answers).
pub(crate) async fn mark_late_days(
    tx: &mut Tx<'_>,
    days: impl Iterator<Item = i64>,
    today: i64,
) -> Result<(), StoreError> {
    let days: Vec<i64> = days
        .filter(|d| *d < today)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    mark_not_built(tx, Span::Day, &days).await.map(|_| ())
}

/// Gives the built days among `days` (every day for `None`) a new
/// generation: their delivery rows changed, so rows held in memory for them
/// are stale, while their habits and driver sums are not (an order's
/// delivery time is not the answers'). Days not built are left alone: none
/// of their rows is held, and a build under way (whose ticket is the day's
/// generation) goes on.
pub(crate) async fn touch_days(tx: &mut Tx<'_>, days: Option<&[i64]>) -> Result<(), StoreError> {
    let generation = crate::survey::rollups::new_generation();
    match days {
        None => {
            tx.exec(
                sql("UPDATE rollup_day_state SET generation = $1 WHERE built = TRUE")
                    .bind(generation),
            )
            .await?;
        }
        Some(days) => {
            let mut days = days.to_vec();
            days.sort_unstable();
            days.dedup();
            for chunk in days.chunks(500) {
                let mut text = String::from(
                    "UPDATE rollup_day_state SET generation = $1 WHERE built = TRUE AND day IN (",
                );
                crate::db::list_placeholders(&mut text, chunk.len(), 2);
                text.push(')');
                let mut q = sql(text).bind(generation);
                for d in chunk {
                    q.push_arg(*d);
                }
                tx.exec(q).await?;
            }
        }
    }
    Ok(())
}

/// Drops every built day (the raw answers answer until they are built again):
/// for a rebuild, or after the time zone changed.
pub(crate) async fn forget_days(tx: &mut Tx<'_>) -> Result<(), StoreError> {
    for table in [
        "rollup_day_state",
        "rollup_courier_habits",
        "rollup_driver_days",
        "rollup_courier_driver_days",
    ] {
        tx.exec(sql(format!("DELETE FROM {table}"))).await?;
    }
    Ok(())
}

/// Each courier's habits over the completed responses finished within
/// `[$first, $first+1)` (the answer sequences counted over `[$first+2, $first+3)`: the same
/// instants, bound again), led by `lead` (a column list ending in a comma,
/// or nothing).
/// (A customer's rating of a support case is no courier's survey: the
/// support channel is left out of the habits.)
fn habits_select(lead: &str, first: usize) -> String {
    let (a, b, c, d) = (first, first + 1, first + 2, first + 3);
    // Both halves grouped by courier first, then joined: a join of the
    // raw rows to the grouped signatures lets a planner without statistics
    // yet (a database just loaded) group the signatures again for every
    // response — minutes for a busy day on PostgreSQL.
    format!(
        "WITH h AS MATERIALIZED ( \
           SELECT r.courier_id, COUNT(*) AS responses, \
           CAST(SUM(r.duration_ms) AS DOUBLE PRECISION) AS duration_sum, \
           COUNT(r.delivered_at) AS delay_n, \
           CAST(COALESCE(SUM(r.started_at - r.delivered_at), 0) AS DOUBLE PRECISION) AS delay_sum, \
           COUNT(a.number_value) AS nps_n, \
           CAST(COALESCE(SUM(CASE WHEN a.number_value = 10 THEN 1 ELSE 0 END), 0) AS BIGINT) AS tens, \
           CAST(COALESCE(SUM(CASE WHEN r.photo_asked THEN 1 ELSE 0 END), 0) AS BIGINT) AS photos_asked, \
           CAST(COALESCE(SUM(CASE WHEN r.photo_asked AND r.photo_taken THEN 1 ELSE 0 END), 0) AS BIGINT) AS photos_taken, \
           CAST(COALESCE(SUM(CASE WHEN r.recording_consent THEN 1 ELSE 0 END), 0) AS BIGINT) AS recordings_agreed, \
           CAST(COALESCE(SUM(CASE WHEN r.recording_consent AND rec.duration_ms * 2 >= r.duration_ms THEN 1 ELSE 0 END), 0) \
             AS BIGINT) AS recordings_kept \
           FROM responses r LEFT JOIN answers a \
             ON a.order_number = r.order_number AND a.response_id = r.id AND a.kind = 'nps' \
           LEFT JOIN recordings rec ON rec.order_number = r.order_number AND rec.response_id = r.id \
           WHERE r.status = 'completed' AND r.courier_id IS NOT NULL AND r.channel <> 'support' \
             AND r.finished_at >= ${a} AND r.finished_at < ${b} \
           GROUP BY r.courier_id), \
         s AS MATERIALIZED ( \
           SELECT courier_id, MAX(n) - 1 AS same FROM ( \
             SELECT courier_id, answer_signature, COUNT(*) AS n FROM responses \
             WHERE status = 'completed' AND courier_id IS NOT NULL AND answer_signature IS NOT NULL \
               AND channel <> 'support' \
               AND finished_at >= ${c} AND finished_at < ${d} \
             GROUP BY courier_id, answer_signature) bySignature \
           GROUP BY courier_id) \
         SELECT {lead}h.courier_id, h.responses, h.duration_sum, h.delay_n, h.delay_sum, h.nps_n, h.tens, \
         CAST(COALESCE(s.same, 0) AS BIGINT) AS same_answers, h.photos_asked, h.photos_taken, \
         h.recordings_agreed, h.recordings_kept \
         FROM h LEFT JOIN s ON s.courier_id = h.courier_id"
    )
}

/// The sums of each scale answer paired with the NPS answer of the same
/// completed response finished within `[$first, $first+1)`, grouped by `dims`
/// (columns of `responses r` and `answers f`, the factor's), led by `lead`;
/// `filter` is a further condition (` AND …`).
fn pairs_select(lead: &str, dims: &str, first: usize, filter: &str) -> String {
    let (a, b) = (first, first + 1);
    format!(
        "SELECT {lead}{dims}, COUNT(*) AS n, \
         SUM(f.number_value) AS sx, SUM(y.number_value) AS sy, \
         SUM(f.number_value * f.number_value) AS sxx, SUM(y.number_value * y.number_value) AS syy, \
         SUM(f.number_value * y.number_value) AS sxy \
         FROM responses r \
         JOIN answers y ON y.order_number = r.order_number AND y.response_id = r.id AND y.kind = 'nps' \
         JOIN answers f ON f.order_number = r.order_number AND f.response_id = r.id AND f.kind = 'scale' \
         WHERE r.status = 'completed' AND r.finished_at >= ${a} AND r.finished_at < ${b} \
         AND y.number_value IS NOT NULL AND f.number_value IS NOT NULL{filter} \
         GROUP BY {dims}"
    )
}

const DIMS_PAIRS: &str =
    "r.survey_id, r.survey_version, f.question_id, r.city, COALESCE(r.partner, ''), r.segment, r.channel";
const COURIER_PAIRS: &str = "r.courier_id, r.survey_id, r.survey_version, f.question_id, r.city";
const QUESTION_PAIRS: &str = "r.survey_id, r.survey_version, f.question_id";

/// A day's pairs by dimensions, as `pairs_select` over [`DIMS_PAIRS`] sums them.
type DimsPairs = (
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    f64,
    f64,
    f64,
    f64,
    f64,
);
/// A day's pairs by courier, over [`COURIER_PAIRS`].
type CourierPairs = (
    String,
    String,
    i64,
    String,
    String,
    i64,
    f64,
    f64,
    f64,
    f64,
    f64,
);

/// Builds one day's rows from the raw answers, in slices (see
/// [`SlicedBuild`]): the day's answers are summed on the read connections,
/// however long that takes, and only the sums are written. False when an
/// answer for the day arrived meanwhile (it is built again by the next pass).
async fn build_day(db: &crate::Db, day: i64, tz: &TimeZone) -> Result<bool, StoreError> {
    let build = SlicedBuild::begin(
        db,
        Span::Day,
        day,
        &[
            "rollup_courier_habits",
            "rollup_driver_days",
            "rollup_courier_driver_days",
        ],
    )
    .await?;
    let (start, end) = day_bounds(day, tz);
    let habits: Vec<Habits> = db
        .all(
            sql(habits_select("", 1))
                .bind(start)
                .bind(end)
                .bind(start)
                .bind(end),
        )
        .await?;
    let pairs: Vec<DimsPairs> = db
        .all(
            sql(pairs_select("", DIMS_PAIRS, 1, ""))
                .bind(start)
                .bind(end),
        )
        .await?;
    let courier_pairs: Vec<CourierPairs> = db
        .all(
            sql(pairs_select(
                "",
                COURIER_PAIRS,
                1,
                " AND r.courier_id IS NOT NULL",
            ))
            .bind(start)
            .bind(end),
        )
        .await?;
    let written = build
        .write(
            db,
            "INSERT INTO rollup_courier_habits (day, courier_id, responses, duration_sum, delay_n, \
             delay_sum, nps_n, tens, same_answers, photos_asked, photos_taken, recordings_agreed, \
             recordings_kept) VALUES",
            13,
            &habits,
            |q, h| {
                q.push_arg(day);
                q.push_arg(h.courier_id.as_str());
                q.push_arg(h.responses);
                q.push_arg(h.duration_sum);
                q.push_arg(h.delay_n);
                q.push_arg(h.delay_sum);
                q.push_arg(h.nps_n);
                q.push_arg(h.tens);
                q.push_arg(h.same_answers);
                q.push_arg(h.photos_asked);
                q.push_arg(h.photos_taken);
                q.push_arg(h.recordings_agreed);
                q.push_arg(h.recordings_kept);
            },
        )
        .await?
        && build
            .write(
                db,
                "INSERT INTO rollup_driver_days (day, survey_id, survey_version, question_id, city, \
                 partner, segment, channel, n, sx, sy, sxx, syy, sxy) VALUES",
                14,
                &pairs,
                |q, p| {
                    q.push_arg(day);
                    q.push_arg(p.0.as_str());
                    q.push_arg(p.1);
                    for v in [&p.2, &p.3, &p.4, &p.5, &p.6] {
                        q.push_arg(v.as_str());
                    }
                    q.push_arg(p.7);
                    for v in [p.8, p.9, p.10, p.11, p.12] {
                        q.push_arg(v);
                    }
                },
            )
            .await?
        && build
            .write(
                db,
                "INSERT INTO rollup_courier_driver_days (day, courier_id, survey_id, survey_version, \
                 question_id, city, n, sx, sy, sxx, syy, sxy) VALUES",
                12,
                &courier_pairs,
                |q, p| {
                    q.push_arg(day);
                    q.push_arg(p.0.as_str());
                    q.push_arg(p.1.as_str());
                    q.push_arg(p.2);
                    q.push_arg(p.3.as_str());
                    q.push_arg(p.4.as_str());
                    q.push_arg(p.5);
                    for v in [p.6, p.7, p.8, p.9, p.10] {
                        q.push_arg(v);
                    }
                },
            )
            .await?;
    if !written {
        return Ok(false);
    }
    build.finish(db).await
}

/// Runs of consecutive days, as inclusive ranges.
pub(crate) fn runs(days: impl IntoIterator<Item = i64>) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for d in days {
        match out.last_mut() {
            Some((_, end)) if *end + 1 == d => *end = d,
            _ => out.push((d, d)),
        }
    }
    out
}

/// A courier's habits as summed (see `habits_select`).
#[derive(Debug, Default, Clone, sqlx::FromRow)]
pub(crate) struct Habits {
    courier_id: String,
    responses: i64,
    duration_sum: f64,
    delay_n: i64,
    delay_sum: f64,
    nps_n: i64,
    tens: i64,
    same_answers: i64,
    photos_asked: i64,
    photos_taken: i64,
    recordings_agreed: i64,
    recordings_kept: i64,
}

/// A week's sums and the generations of its seven days when read.
type SummedWeek<T> = ([i64; 7], Arc<Vec<T>>);

/// Habit rows kept at most (about 120 bytes each): ten years of 500
/// couriers; past it the cache starts again empty.
pub(crate) const HABIT_ROWS: usize = 300_000;

/// Key-driver rows kept at most (about 200 bytes each): two years of a
/// large company's weeks (2,000 combinations of survey, question, city,
/// partner, segment and channel a week).
pub(crate) const DRIVER_ROWS: usize = 200_000;

/// Whole built weeks' sums of daily rows, held in memory and shared by
/// every clone of a store: a year of a fleet's self-filling signals or key
/// drivers then adds up 52 small sets instead of asking the database to
/// sum a row per day (and courier, or combination of dimensions). A week's
/// sums are good while each of its days keeps the generation it had when
/// they were read.
#[derive(Debug)]
pub(crate) struct WeekSums<T> {
    weeks: Mutex<HashMap<i64, SummedWeek<T>>>,
    /// Rows kept at most; past it the cache starts again empty.
    rows_kept: usize,
}

impl<T> WeekSums<T> {
    pub(crate) fn holding(rows_kept: usize) -> Self {
        WeekSums {
            weeks: Mutex::default(),
            rows_kept,
        }
    }

    fn get(&self, week: i64, generations: [i64; 7]) -> Option<Arc<Vec<T>>> {
        let weeks = self
            .weeks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        weeks
            .get(&week)
            .filter(|(g, _)| *g == generations)
            .map(|(_, rows)| Arc::clone(rows))
    }

    fn put(&self, week: i64, generations: [i64; 7], rows: Arc<Vec<T>>) {
        let mut weeks = self
            .weeks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let held: usize = weeks.values().map(|(_, r)| r.len()).sum();
        if held + rows.len() > self.rows_kept {
            weeks.clear();
        }
        weeks.insert(week, (generations, rows));
    }
}

/// A row of whole-week sums and the week it sums (its Monday's day).
#[derive(sqlx::FromRow)]
struct Weekly<T> {
    week: i64,
    #[sqlx(flatten)]
    row: T,
}

/// The habit columns summed, named as [`Habits`] reads them.
const HABIT_SUMS: &str = "CAST(SUM(responses) AS BIGINT) AS responses, \
     SUM(duration_sum) AS duration_sum, CAST(SUM(delay_n) AS BIGINT) AS delay_n, \
     SUM(delay_sum) AS delay_sum, CAST(SUM(nps_n) AS BIGINT) AS nps_n, \
     CAST(SUM(tens) AS BIGINT) AS tens, CAST(SUM(same_answers) AS BIGINT) AS same_answers, \
     CAST(SUM(photos_asked) AS BIGINT) AS photos_asked, \
     CAST(SUM(photos_taken) AS BIGINT) AS photos_taken, \
     CAST(SUM(recordings_agreed) AS BIGINT) AS recordings_agreed, \
     CAST(SUM(recordings_kept) AS BIGINT) AS recordings_kept";

impl Habits {
    fn merge(&mut self, o: &Habits) {
        self.responses += o.responses;
        self.duration_sum += o.duration_sum;
        self.delay_n += o.delay_n;
        self.delay_sum += o.delay_sum;
        self.nps_n += o.nps_n;
        self.tens += o.tens;
        self.same_answers += o.same_answers;
        self.photos_asked += o.photos_asked;
        self.photos_taken += o.photos_taken;
        self.recordings_agreed += o.recordings_agreed;
        self.recordings_kept += o.recordings_kept;
    }
}

impl From<Habits> for Pattern {
    fn from(h: Habits) -> Self {
        let mean = |sum: f64, n: i64| (n > 0).then(|| sum / n as f64);
        Pattern {
            duration_ms: mean(h.duration_sum, h.responses),
            delay_ms: mean(h.delay_sum, h.delay_n),
            delay_n: h.delay_n,
            courier_id: h.courier_id,
            responses: h.responses,
            nps_n: h.nps_n,
            tens: h.tens,
            same_answers: h.same_answers,
            photos_asked: h.photos_asked,
            photos_taken: h.photos_taken,
            recordings_agreed: h.recordings_agreed,
            recordings_kept: h.recordings_kept,
        }
    }
}

/// One scale question's pairs (x: its answer, y: the NPS answer), as summed.
#[derive(Debug, Clone, sqlx::FromRow)]
struct PairRow {
    survey_id: String,
    survey_version: i64,
    question_id: String,
    n: i64,
    sx: f64,
    sy: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
}

/// The pair columns summed, named as [`PairRow`] and [`DriverRow`] read them.
const PAIR_SUMS: &str = "CAST(SUM(n) AS BIGINT) AS n, SUM(sx) AS sx, SUM(sy) AS sy, \
     SUM(sxx) AS sxx, SUM(syy) AS syy, SUM(sxy) AS sxy";

/// A week's pairs of one scale question by the dimensions reports filter
/// by, summed from `rollup_driver_days`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct DriverRow {
    city: String,
    partner: String,
    segment: String,
    channel: String,
    #[sqlx(flatten)]
    pairs: PairRow,
}

/// One scale question of a survey version and its pairs with the NPS answer.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionPairs {
    pub survey_id: String,
    pub survey_version: i64,
    pub question_id: String,
    pub sums: PairSums,
}

impl Store {
    /// Builds the rows of every local day that ended (before `now_ms`, less
    /// a few minutes' grace) and is not built yet, each in short slices
    /// (see [`SlicedBuild`]); `progress` is told the days done so far and
    /// how many are to be. Returns the days built (a day that got a late
    /// answer while it was built is left to the next call).
    pub async fn build_days(
        &self,
        tz: &TimeZone,
        now_ms: i64,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<usize, StoreError> {
        self.fold_pending().await?;
        // Days with deliveries and no answers too: their delivery rows are
        // then kept in memory as well.
        let Some((first, last)) = data_days(&self.db).await? else {
            return Ok(0);
        };
        let last = last.min(local_day(now_ms - SETTLE_MS, tz).0 - 1);
        let built = self.built_days(first, last).await?;
        let todo: Vec<i64> = (first..=last).filter(|d| !built.contains(d)).collect();
        let mut count = 0;
        for (done, day) in todo.iter().enumerate() {
            if build_day(&self.db, *day, tz).await? {
                count += 1;
            }
            progress(done + 1, todo.len());
        }
        Ok(count)
    }

    /// The built days within `from..=to`.
    async fn built_days(&self, from: i64, to: i64) -> Result<BTreeSet<i64>, StoreError> {
        built_spans(&self.db, Span::Day, from, to).await
    }

    /// A period's days (local `from..=to`, narrowed to the days that have
    /// answers) split into runs of built days and the days to count raw.
    async fn split_days(
        &self,
        from: i64,
        to: i64,
    ) -> Result<(Vec<(i64, i64)>, Vec<i64>), StoreError> {
        self.fold_pending().await?;
        let (first, last): (Option<i64>, Option<i64>) = self
            .db
            .one(sql("SELECT MIN(day), MAX(day) FROM rollup_days"))
            .await?;
        let (Some(first), Some(last)) = (first, last) else {
            return Ok((Vec::new(), Vec::new()));
        };
        let (from, to) = (from.max(first), to.min(last));
        let built = self.built_days(from, to).await?;
        let raw = (from..=to).filter(|d| !built.contains(d)).collect();
        Ok((runs(built), raw))
    }

    /// Each courier's response pattern over the local days `from..=to`:
    /// built days from their rows (a whole built week's sums kept in
    /// memory for as long as its days keep their generations), the others
    /// from the raw answers.
    pub async fn courier_patterns(
        &self,
        from_day: i64,
        to_day: i64,
        tz: &TimeZone,
    ) -> Result<Vec<Pattern>, StoreError> {
        let (built, raw) = self.split_days(from_day, to_day).await?;
        let mut sums: BTreeMap<String, Habits> = BTreeMap::new();
        let mut add = |rows: &[Habits]| {
            for h in rows {
                sums.entry(h.courier_id.clone()).or_default().merge(h);
            }
        };
        let (weeks, rest) = self
            .whole_weeks(
                &built,
                &self.habits,
                &format!(
                    "SELECT day - ((day + 3) % 7) AS week, courier_id, {HABIT_SUMS} \
                     FROM rollup_courier_habits WHERE "
                ),
                "1, 2",
            )
            .await?;
        for rows in &weeks {
            add(rows);
        }
        if !rest.is_empty() {
            let q = days_query(
                &format!("SELECT courier_id, {HABIT_SUMS} FROM rollup_courier_habits WHERE "),
                &rest,
                &MetricsFilter::default(),
                "1",
            );
            let rows: Vec<Habits> = self.db.all(q).await?;
            add(&rows);
        }
        for day in raw {
            let (start, end) = day_bounds(day, tz);
            let rows: Vec<Habits> = self
                .db
                .all(
                    sql(habits_select("", 1))
                        .bind(start)
                        .bind(end)
                        .bind(start)
                        .bind(end),
                )
                .await?;
            add(&rows);
        }
        Ok(sums
            .into_iter()
            .map(|(courier_id, h)| Pattern::from(Habits { courier_id, ..h }))
            .collect())
    }

    /// Within the runs of built days `built`, the sums of each whole week
    /// (from `cache`, or read in one query and kept when its days still
    /// have the same generations after the read), and the runs of days
    /// left to sum from their daily rows. `select` reads a table's daily
    /// rows as `T` (up to its `WHERE`) led by `day - ((day + 3) % 7) AS
    /// week`, summed by `group` (the week first).
    async fn whole_weeks<T>(
        &self,
        built: &[(i64, i64)],
        cache: &WeekSums<T>,
        select: &str,
        group: &str,
    ) -> Result<(Vec<Arc<Vec<T>>>, Vec<(i64, i64)>), StoreError>
    where
        Weekly<T>: crate::db::Record,
    {
        let (Some(first), Some(last)) = (
            built.iter().map(|r| r.0).min(),
            built.iter().map(|r| r.1).max(),
        ) else {
            return Ok((Vec::new(), Vec::new()));
        };
        let generations = self.built_generations(Span::Day, first, last).await?;
        let week_of = |week: i64| -> Option<[i64; 7]> {
            let mut out = [0; 7];
            for (i, g) in out.iter_mut().enumerate() {
                *g = *generations.get(&(week + i as i64))?;
            }
            Some(out)
        };
        let mut whole: Vec<(i64, [i64; 7])> = Vec::new();
        let mut rest: Vec<i64> = Vec::new();
        for &(a, b) in built {
            let mut day = a;
            while day <= b {
                let week = week_start(day);
                if week == day && week + 6 <= b {
                    if let Some(gens) = week_of(week) {
                        whole.push((week, gens));
                        day += 7;
                        continue;
                    }
                }
                rest.push(day);
                day += 1;
            }
        }
        let mut found = Vec::with_capacity(whole.len());
        let mut missing = Vec::new();
        for (week, gens) in whole {
            match cache.get(week, gens) {
                Some(rows) => found.push(rows),
                None => missing.push((week, gens)),
            }
        }
        if !missing.is_empty() {
            let ranges: Vec<(i64, i64)> = missing.iter().map(|(w, _)| (*w, w + 6)).collect();
            let q = days_query(select, &ranges, &MetricsFilter::default(), group);
            let rows: Vec<Weekly<T>> = self.db.all(q).await?;
            let mut by_week: BTreeMap<i64, Vec<T>> = BTreeMap::new();
            for r in rows {
                by_week.entry(r.week).or_default().push(r.row);
            }
            // Read after the rows: a day built again since holds other rows
            // (they are still counted now, as read, but not kept).
            let now = self
                .built_generations(Span::Day, missing[0].0, missing[missing.len() - 1].0 + 6)
                .await?;
            for (week, gens) in missing {
                let rows = Arc::new(by_week.remove(&week).unwrap_or_default());
                let same = (0..7).all(|i| now.get(&(week + i)) == Some(&gens[i as usize]));
                if same {
                    cache.put(week, gens, Arc::clone(&rows));
                }
                found.push(rows);
            }
        }
        Ok((found, runs(rest)))
    }

    /// Per survey version and scale question, the sums of its answers
    /// paired with the NPS answer, over the completed responses a filter
    /// admits: built days from their rows (by courier where the filter
    /// names one), the others from the raw answers — all of them raw when
    /// the filter names a courier together with a partner, segment or
    /// channel, which neither cut keeps.
    pub async fn question_pairs(
        &self,
        filter: &MetricsFilter,
        tz: &TimeZone,
    ) -> Result<Vec<QuestionPairs>, StoreError> {
        let by_courier = filter.dims.courier.is_some();
        let raw_only = by_courier
            && (filter.dims.partner.is_some()
                || filter.dims.segment.is_some()
                || filter.dims.channel.is_some());
        let (built, raw) = if raw_only {
            (Vec::new(), runs(filter.from_day..=filter.to_day))
        } else {
            let (built, raw) = self.split_days(filter.from_day, filter.to_day).await?;
            (built, runs(raw))
        };
        let mut sums: BTreeMap<(String, i64, String), PairSums> = BTreeMap::new();
        let mut add = |rows: Vec<PairRow>| {
            for p in rows {
                sums.entry((p.survey_id, p.survey_version, p.question_id))
                    .or_default()
                    .merge(&PairSums {
                        n: p.n,
                        sx: p.sx,
                        sy: p.sy,
                        sxx: p.sxx,
                        syy: p.syy,
                        sxy: p.sxy,
                    });
            }
        };
        let built = if by_courier {
            built
        } else {
            // Whole weeks from memory, filtered here.
            let (weeks, rest) = self
                .whole_weeks(
                    &built,
                    &self.drivers,
                    &format!(
                        "SELECT day - ((day + 3) % 7) AS week, survey_id, survey_version, question_id, \
                         city, partner, segment, channel, {PAIR_SUMS} FROM rollup_driver_days WHERE "
                    ),
                    "1, 2, 3, 4, 5, 6, 7, 8",
                )
                .await?;
            for rows in &weeks {
                add(rows
                    .iter()
                    .filter(|r| {
                        filter.dims.admit(
                            None,
                            &r.city,
                            &r.partner,
                            &r.segment,
                            &r.pairs.survey_id,
                            &r.channel,
                        )
                    })
                    .map(|r| r.pairs.clone())
                    .collect());
            }
            rest
        };
        if !built.is_empty() {
            let table = if by_courier {
                "rollup_courier_driver_days"
            } else {
                "rollup_driver_days"
            };
            let q = days_query(
                &format!(
                    "SELECT survey_id, survey_version, question_id, {PAIR_SUMS} FROM {table} WHERE "
                ),
                &built,
                filter,
                "1, 2, 3",
            );
            add(self.db.all(q).await?);
        }
        for (first, last) in raw {
            let (start, _) = day_bounds(first, tz);
            let (_, end) = day_bounds(last, tz);
            let mut text = String::new();
            let values = filter.clause(&mut text, "r.", 3);
            let mut q = sql(pairs_select("", QUESTION_PAIRS, 1, &text))
                .bind(start)
                .bind(end);
            for v in values {
                q.push_arg(v);
            }
            add(self.db.all(q).await?);
        }
        Ok(sums
            .into_iter()
            .map(
                |((survey_id, survey_version, question_id), sums)| QuestionPairs {
                    survey_id,
                    survey_version,
                    question_id,
                    sums,
                },
            )
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn days_fall_into_runs() {
        assert_eq!(runs([]), vec![]);
        assert_eq!(runs([3]), vec![(3, 3)]);
        assert_eq!(runs([1, 2, 3, 5, 7, 8]), vec![(1, 3), (5, 5), (7, 8)]);
    }
}

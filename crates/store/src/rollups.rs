//! Survey rollups: additive tallies by local day and dimension, kept by the
//! transaction that stores each response, rebuilt from raw answers on
//! demand, and read by every score the console, the API and reports show.
//! A query the rollups cannot answer (the courier together with a partner,
//! segment, survey or channel) is counted from the raw answers instead, by
//! the same code the rebuild and the tests use.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;
use std::sync::Arc;

use doorstep_domain::survey::metrics::{facts, Counter, Facts, Tally, Value, TALLY_BYTES};
use doorstep_domain::survey::{CheckedAnswer, ResponseStatus, SurveyDefinition};
use doorstep_domain::time::{local_day, week_start};
use jiff::tz::TimeZone;

use crate::db::{sql, Arg, Backend, Sql, Tx};
use crate::week_cache::{add_week, Cut, WeekRow};
use crate::{Store, StoreError};

fn push_tally(q: &mut Sql, t: &Tally) {
    for v in t.values() {
        match v {
            Value::Int(v) => q.push_arg(v),
            Value::Real(v) => q.push_arg(v),
        }
    }
}

/// A rollup row's counters as read back, by their names.
struct Counters(Tally);

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for Counters
where
    &'static str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Counters, sqlx::Error> {
        Tally::read(|c| {
            if c.real {
                row.try_get::<f64, _>(c.name).map(Value::Real)
            } else {
                row.try_get::<i64, _>(c.name).map(Value::Int)
            }
        })
        .map(Counters)
    }
}

/// One group's tally, summed by the database.
#[derive(sqlx::FromRow)]
struct TallyRow {
    key: Option<String>,
    #[sqlx(flatten)]
    counters: Counters,
}

/// A stored weekly row of either cut, as read into the cache (the columns
/// a cut lacks read as empty).
#[derive(sqlx::FromRow)]
struct StoredWeekRow {
    courier_id: String,
    survey_id: String,
    city: String,
    partner: String,
    segment: String,
    channel: String,
    tally: Vec<u8>,
}

/// A stored daily row of either cut, as read into the cache of the latest
/// days.
#[derive(sqlx::FromRow)]
struct StoredDayRow {
    courier_id: String,
    survey_id: String,
    city: String,
    partner: String,
    segment: String,
    channel: String,
    #[sqlx(flatten)]
    counters: Counters,
}

/// What a set of built rows covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Span {
    Week,
    Day,
}

impl Span {
    /// Its state table and key column.
    fn state(self) -> (&'static str, &'static str) {
        match self {
            Span::Week => ("rollup_week_state", "week"),
            Span::Day => ("rollup_day_state", "day"),
        }
    }
}

/// How many of a period's latest built days outside built weeks are read
/// from memory: the days of the open week and of the week just ended.
const LATEST_DAYS: i64 = 14;

/// A week's sums for one row of `rollup_weeks`.
#[derive(sqlx::FromRow)]
struct DimsWeek {
    survey_id: String,
    city: String,
    partner: String,
    segment: String,
    channel: String,
    #[sqlx(flatten)]
    counters: Counters,
}

/// A week's sums for one row of `rollup_courier_weeks`.
#[derive(sqlx::FromRow)]
struct CourierWeek {
    courier_id: String,
    city: String,
    #[sqlx(flatten)]
    counters: Counters,
}

/// `SUM` of every counter, named as the counter (typed alike on both
/// databases: PostgreSQL sums integers into numerics).
fn summed_counters() -> String {
    Tally::COUNTERS
        .iter()
        .map(|&Counter { name: c, real }| {
            if real {
                format!("COALESCE(SUM({c}), 0.0) AS {c}")
            } else {
                format!("CAST(COALESCE(SUM({c}), 0) AS BIGINT) AS {c}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where one response falls in both rollups.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RollupKey {
    pub day: i64,
    pub month: i64,
    pub survey_id: String,
    pub city: String,
    pub partner: String,
    pub segment: String,
    pub channel: String,
    pub courier_id: Option<String>,
}

/// A row of `rollup_days`: day, month, survey, city, partner, segment, channel.
type DayKey = (i64, i64, String, String, String, String, String);
/// A row of `rollup_courier_days`: courier, day, month, city.
type CourierKey = (String, i64, i64, String);

/// Rollup increments gathered in memory, written in one go.
#[derive(Default)]
pub struct Deltas {
    days: BTreeMap<DayKey, Tally>,
    couriers: BTreeMap<CourierKey, Tally>,
}

impl Deltas {
    pub fn add(&mut self, key: &RollupKey, status: ResponseStatus, f: &Facts) {
        self.days
            .entry((
                key.day,
                key.month,
                key.survey_id.clone(),
                key.city.clone(),
                key.partner.clone(),
                key.segment.clone(),
                key.channel.clone(),
            ))
            .or_default()
            .add(status, f);
        if let Some(courier) = &key.courier_id {
            self.couriers
                .entry((courier.clone(), key.day, key.month, key.city.clone()))
                .or_default()
                .add(status, f);
        }
    }

    fn is_empty(&self) -> bool {
        self.days.is_empty() && self.couriers.is_empty()
    }

    /// Rollup rows these increments touch.
    fn len(&self) -> usize {
        self.days.len() + self.couriers.len()
    }

    /// Marks the ended weeks these increments fall in as not built: see
    /// [`mark_late_weeks`].
    pub async fn mark_late_weeks(&self, tx: &mut Tx, now_ms: i64) -> Result<(), StoreError> {
        let days = self
            .days
            .keys()
            .map(|k| k.0)
            .chain(self.couriers.keys().map(|k| k.1));
        mark_late_weeks(tx, days, now_ms).await
    }

    /// Records the increments in the transaction storing their answers. On
    /// SQLite, as one pending row, folded into the daily rows by
    /// [`fold_pending`] before anything reads them: SQLite has one writer at
    /// a time, and a hundred upserts per batch held its lock for a quarter
    /// of the ingestion's time (one insert: a few percent). On PostgreSQL,
    /// straight into the daily rows: its writers update rows side by side,
    /// and there the pending row and its folding cost more than the upserts
    /// (BENCHMARKS.md).
    pub async fn write(&self, tx: &mut Tx) -> Result<(), StoreError> {
        if self.is_empty() {
            return Ok(());
        }
        if tx.backend() == Backend::Postgres {
            return self.apply(tx).await;
        }
        tx.exec(
            sql("INSERT INTO rollup_pending (id, deltas) VALUES ($1, $2)")
                .bind(new_generation())
                .bind(Arg::Bytes(Some(self.to_bytes()))),
        )
        .await?;
        Ok(())
    }

    /// Adds `other`'s increments to these.
    fn merge(&mut self, other: Deltas) {
        for (k, t) in other.days {
            self.days.entry(k).or_default().merge(&t);
        }
        for (k, t) in other.couriers {
            self.couriers.entry(k).or_default().merge(&t);
        }
    }

    /// The increments as bytes: a format version (1), then the rows of each
    /// cut — their count, and for each its key (day and month as 8-byte
    /// little-endian integers, names as a 4-byte length and UTF-8) and its
    /// tally (see [`put_tally`]).
    fn to_bytes(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(5 + (self.days.len() + self.couriers.len()) * (TALLY_BYTES + 64));
        out.push(1);
        put_len(&mut out, self.days.len());
        for ((day, month, survey, city, partner, segment, channel), t) in &self.days {
            out.extend_from_slice(&day.to_le_bytes());
            out.extend_from_slice(&month.to_le_bytes());
            for s in [survey, city, partner, segment, channel] {
                put_str(&mut out, s);
            }
            put_tally(&mut out, t);
        }
        put_len(&mut out, self.couriers.len());
        for ((courier, day, month, city), t) in &self.couriers {
            put_str(&mut out, courier);
            out.extend_from_slice(&day.to_le_bytes());
            out.extend_from_slice(&month.to_le_bytes());
            put_str(&mut out, city);
            put_tally(&mut out, t);
        }
        out
    }

    /// The increments [`Deltas::to_bytes`] wrote; `None` for anything else.
    fn from_bytes(bytes: &[u8]) -> Option<Deltas> {
        let mut b = Bytes(bytes);
        if b.take(1)? != [1] {
            return None;
        }
        let mut out = Deltas::default();
        for _ in 0..b.len()? {
            let key = (
                b.i64()?,
                b.i64()?,
                b.string()?,
                b.string()?,
                b.string()?,
                b.string()?,
                b.string()?,
            );
            out.days.insert(key, b.tally()?);
        }
        for _ in 0..b.len()? {
            let key = (b.string()?, b.i64()?, b.i64()?, b.string()?);
            out.couriers.insert(key, b.tally()?);
        }
        b.0.is_empty().then_some(out)
    }

    /// Adds the increments to the daily rows (keys in a fixed order, so that
    /// concurrent writers never wait on each other in a cycle).
    async fn apply(&self, tx: &mut Tx) -> Result<(), StoreError> {
        if self.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = Tally::COUNTERS.iter().map(|c| c.name).collect();
        let set = |table: &str| {
            names
                .iter()
                .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let days: Vec<_> = self.days.iter().collect();
        tx.exec_rows(
            &format!(
                "INSERT INTO rollup_days (day, month, survey_id, city, partner, segment, channel, {}) VALUES",
                names.join(", ")
            ),
            7 + Tally::COUNTERS.len(),
            &format!(
                "ON CONFLICT (day, survey_id, city, partner, segment, channel) DO UPDATE SET {}",
                set("rollup_days")
            ),
            &days,
            |q, ((day, month, survey, city, partner, segment, channel), t)| {
                q.push_arg(*day);
                q.push_arg(*month);
                q.push_arg(survey.as_str());
                q.push_arg(city.as_str());
                q.push_arg(partner.as_str());
                q.push_arg(segment.as_str());
                q.push_arg(channel.as_str());
                push_tally(q, t);
            },
        )
        .await?;
        let couriers: Vec<_> = self.couriers.iter().collect();
        tx.exec_rows(
            &format!(
                "INSERT INTO rollup_courier_days (courier_id, day, month, city, {}) VALUES",
                names.join(", ")
            ),
            4 + Tally::COUNTERS.len(),
            &format!(
                "ON CONFLICT (courier_id, day, city) DO UPDATE SET {}",
                set("rollup_courier_days")
            ),
            &couriers,
            |q, ((courier, day, month, city), t)| {
                q.push_arg(courier.as_str());
                q.push_arg(*day);
                q.push_arg(*month);
                q.push_arg(city.as_str());
                push_tally(q, t);
            },
        )
        .await?;
        Ok(())
    }
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

/// A tally as the 8-byte words of [`Tally::to_bytes`] that are not zero,
/// after a 4-byte mask of which they are: a batch's tallies are mostly
/// zeros (one response has no CES, or no CSAT, …).
fn put_tally(out: &mut Vec<u8>, t: &Tally) {
    let bytes = t.to_bytes();
    let mut mask = 0_u32;
    let at = out.len();
    out.extend_from_slice(&mask.to_le_bytes());
    for (i, word) in bytes.chunks_exact(8).enumerate() {
        if word.iter().any(|b| *b != 0) {
            mask |= 1 << i;
            out.extend_from_slice(word);
        }
    }
    out[at..at + 4].copy_from_slice(&mask.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// Reads what [`Deltas::to_bytes`] wrote, front to back.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(u32::from_le_bytes(self.take(4)?.try_into().ok()?)).ok()
    }

    fn string(&mut self) -> Option<String> {
        let n = self.len()?;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }

    fn tally(&mut self) -> Option<Tally> {
        let mask = u32::from_le_bytes(self.take(4)?.try_into().ok()?);
        if mask >> (TALLY_BYTES / 8) != 0 {
            return None;
        }
        let mut bytes = [0_u8; TALLY_BYTES];
        for (i, word) in bytes.chunks_exact_mut(8).enumerate() {
            if mask & (1 << i) != 0 {
                word.copy_from_slice(self.take(8)?);
            }
        }
        Tally::from_bytes(&bytes)
    }
}

/// Pending rows folded by one transaction at most: bounds its memory.
const FOLD_ROWS: i64 = 1000;

/// Folds pending increments ([`Deltas::write`]) into the daily rows and
/// deletes them, in `tx`: up to [`FOLD_ROWS`] of them; returns how many.
/// On PostgreSQL the pending rows are locked as they are read, so two
/// transactions folding at once never count one twice (the second waits,
/// then finds them gone).
pub(crate) async fn fold_pending(tx: &mut Tx) -> Result<usize, StoreError> {
    let lock = match tx.backend() {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    };
    let rows: Vec<(i64, Vec<u8>)> = tx
        .all(
            sql(format!(
                "SELECT id, deltas FROM rollup_pending ORDER BY id LIMIT $1{lock}"
            ))
            .bind(FOLD_ROWS),
        )
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut all = Deltas::default();
    for (_, bytes) in &rows {
        all.merge(Deltas::from_bytes(bytes).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "a pending rollup row holds {} unreadable bytes",
                bytes.len()
            ))
        })?);
    }
    all.apply(tx).await?;
    let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
    tx.exec_in(
        "DELETE FROM rollup_pending WHERE id IN",
        &ids,
        "",
        |q, id| {
            q.push_arg(*id);
        },
    )
    .await?;
    Ok(rows.len())
}

/// Folds every pending row into the daily rows, in `tx`.
pub(crate) async fn fold_all_pending(tx: &mut Tx) -> Result<(), StoreError> {
    while fold_pending(tx).await? > 0 {}
    Ok(())
}

/// What a metrics query groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    All,
    Courier,
    City,
    Partner,
    Segment,
    Survey,
    Channel,
    Day,
    Week,
    Month,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<GroupBy> {
        Some(match s {
            "" | "all" | "none" => GroupBy::All,
            "courier" => GroupBy::Courier,
            "city" => GroupBy::City,
            "partner" => GroupBy::Partner,
            "segment" => GroupBy::Segment,
            "survey" => GroupBy::Survey,
            "channel" => GroupBy::Channel,
            "day" => GroupBy::Day,
            "week" => GroupBy::Week,
            "month" => GroupBy::Month,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::All => "all",
            GroupBy::Courier => "courier",
            GroupBy::City => "city",
            GroupBy::Partner => "partner",
            GroupBy::Segment => "segment",
            GroupBy::Survey => "survey",
            GroupBy::Channel => "channel",
            GroupBy::Day => "day",
            GroupBy::Week => "week",
            GroupBy::Month => "month",
        }
    }

    /// Groups in time: their keys are day numbers (day, week) or `yyyymm`.
    pub fn is_time(self) -> bool {
        matches!(self, GroupBy::Day | GroupBy::Week | GroupBy::Month)
    }
}

/// Which responses a metrics query counts: local days `from_day..=to_day`
/// (the instants `from_ms..to_ms`), and optional filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsFilter {
    pub from_day: i64,
    pub to_day: i64,
    pub from_ms: i64,
    pub to_ms: i64,
    pub courier: Option<String>,
    pub city: Option<String>,
    pub partner: Option<String>,
    pub segment: Option<String>,
    pub survey: Option<String>,
    pub channel: Option<String>,
}

impl MetricsFilter {
    /// Whether a raw response passes the filters (the period aside).
    fn admits(&self, r: &RawResponse) -> bool {
        let is = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        is(&self.courier, r.courier_id.as_deref().unwrap_or("\u{0}"))
            && is(&self.city, &r.city)
            && is(&self.partner, r.partner.as_deref().unwrap_or(""))
            && is(&self.segment, &r.segment)
            && is(&self.survey, &r.survey_id)
            && is(&self.channel, &r.channel)
    }

    /// Appends ` AND column = $n` for each filter set (columns named with
    /// `prefix`, parameters numbered from `first`; a missing partner is
    /// stored as NULL in responses and as '' elsewhere, and matches ''), and
    /// returns the values to bind, in order.
    pub(crate) fn clause(&self, text: &mut String, prefix: &str, first: usize) -> Vec<&str> {
        let mut values = Vec::new();
        let mut n = first;
        for (column, value) in [
            ("courier_id", &self.courier),
            ("city", &self.city),
            ("partner", &self.partner),
            ("segment", &self.segment),
            ("survey_id", &self.survey),
            ("channel", &self.channel),
        ] {
            if let Some(v) = value {
                if column == "partner" {
                    let _ = write!(text, " AND COALESCE({prefix}partner, '') = ${n}");
                } else {
                    let _ = write!(text, " AND {prefix}{column} = ${n}");
                }
                n += 1;
                values.push(v.as_str());
            }
        }
        values
    }

    /// Needs the courier cut (a courier filter or grouping).
    fn by_courier(&self, group: GroupBy) -> bool {
        group == GroupBy::Courier || self.courier.is_some()
    }

    /// Needs a dimension the courier cut lacks.
    fn by_other(&self, group: GroupBy) -> bool {
        matches!(
            group,
            GroupBy::Partner | GroupBy::Segment | GroupBy::Survey | GroupBy::Channel
        ) || self.partner.is_some()
            || self.segment.is_some()
            || self.survey.is_some()
            || self.channel.is_some()
    }
}

/// Between a group's key and its period's in a two-level grouping.
pub const SEPARATOR: char = '\u{1f}';

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
    tx: &mut Tx,
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
    tx: &mut Tx,
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
        let mut tx = db.begin().await?;
        let ticket = mark_not_built(&mut tx, span, &[key]).await?;
        fold_all_pending(&mut tx).await?;
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
    async fn still_ours(&self, tx: &mut Tx) -> Result<bool, StoreError> {
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
fn week_closed(week: i64, today: i64) -> bool {
    week + 8 <= today
}

/// Builds one week's weekly rows from its daily rows, in slices (see
/// [`SlicedBuild`]); false when an answer or a delivery for the week arrived
/// meanwhile (it is built again by the next pass).
async fn build_week(db: &crate::Db, week: i64) -> Result<bool, StoreError> {
    let build = SlicedBuild::begin(
        db,
        Span::Week,
        week,
        &[
            "rollup_weeks",
            "rollup_courier_weeks",
            "rollup_delivery_weeks",
        ],
    )
    .await?;
    let (first, last) = (week, week + 6);
    let sums = summed_counters();
    let days: Vec<DimsWeek> = db
        .all(
            sql(format!(
                "SELECT survey_id, city, partner, segment, channel, {sums} FROM rollup_days \
                 WHERE day >= $1 AND day <= $2 GROUP BY survey_id, city, partner, segment, channel"
            ))
            .bind(first)
            .bind(last),
        )
        .await?;
    let couriers: Vec<CourierWeek> = db
        .all(
            sql(format!(
                "SELECT courier_id, city, {sums} FROM rollup_courier_days \
                 WHERE day >= $1 AND day <= $2 GROUP BY courier_id, city"
            ))
            .bind(first)
            .bind(last),
        )
        .await?;
    let deliveries: Vec<(String, String, String, i64, i64)> = db
        .all(
            sql(
                "SELECT city, partner, courier_id, CAST(SUM(delivered) AS BIGINT), CAST(SUM(on_time) AS BIGINT) \
                 FROM rollup_delivery_days WHERE day >= $1 AND day <= $2 GROUP BY city, partner, courier_id",
            )
            .bind(first)
            .bind(last),
        )
        .await?;
    let written = build
        .write(
            db,
            "INSERT INTO rollup_weeks (week, survey_id, city, partner, segment, channel, tally) VALUES",
            7,
            &days,
            |q, r| {
                q.push_arg(week);
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
                "INSERT INTO rollup_courier_weeks (week, courier_id, city, tally) VALUES",
                4,
                &couriers,
                |q, r| {
                    q.push_arg(week);
                    q.push_arg(r.courier_id.as_str());
                    q.push_arg(r.city.as_str());
                    q.push_arg(Arg::Bytes(Some(r.counters.0.to_bytes())));
                },
            )
            .await?
        && build
            .write(
                db,
                "INSERT INTO rollup_delivery_weeks (week, city, partner, courier_id, delivered, on_time) VALUES",
                6,
                &deliveries,
                |q, (city, partner, courier, delivered, on_time)| {
                    q.push_arg(week);
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

/// Taken first by a rebuild that scans raw rows into daily `tables`, on
/// PostgreSQL: writers update those rows in their own transactions, and one
/// committing during the scan would be counted by the scan and again by its
/// own update (or deadlock with the rebuild's delete). Writers under way
/// finish first; new ones wait for the rebuild, then add to the rows it
/// wrote. Readers are not held up. (On SQLite the rebuild's transaction is
/// the one writer already.)
pub(crate) async fn hold_writers_off(tx: &mut Tx, tables: &str) -> Result<(), StoreError> {
    if tx.backend() == Backend::Postgres {
        tx.exec(sql(format!("LOCK TABLE {tables} IN EXCLUSIVE MODE")))
            .await?;
    }
    Ok(())
}

/// Drops every weekly row (the daily rows answer until they are built
/// again): for a rebuild of the daily rows.
pub(crate) async fn forget_weeks(tx: &mut Tx) -> Result<(), StoreError> {
    for table in [
        "rollup_week_state",
        "rollup_weeks",
        "rollup_courier_weeks",
        "rollup_delivery_weeks",
    ] {
        tx.exec(sql(format!("DELETE FROM {table}"))).await?;
    }
    Ok(())
}

/// `head` (a `SELECT … WHERE `) over the daily rows of the day ranges `days`
/// and the filter, grouped by `group` (column numbers).
pub(crate) fn days_query(
    head: &str,
    days: &[(i64, i64)],
    filter: &MetricsFilter,
    group: &str,
) -> Sql {
    let mut text = format!("{head}(");
    for i in 0..days.len() {
        if i > 0 {
            text.push_str(" OR ");
        }
        let _ = write!(text, "day BETWEEN ${} AND ${}", 2 * i + 1, 2 * i + 2);
    }
    text.push(')');
    let args = filter.clause(&mut text, "", 2 * days.len() + 1);
    let _ = write!(text, " GROUP BY {group}");
    let mut q = sql(text);
    for (a, b) in days {
        q.push_arg(*a);
        q.push_arg(*b);
    }
    for a in args {
        q.push_arg(a);
    }
    q
}

/// Where a period's days are read: whole built weeks from the weekly rows,
/// the rest (partial weeks at either end, weeks not built) from the daily
/// ones, as ranges of days.
#[derive(Debug, PartialEq, Eq)]
struct Plan {
    weeks: Vec<i64>,
    days: Vec<(i64, i64)>,
}

impl Plan {
    fn new(from_day: i64, to_day: i64, built: &BTreeSet<i64>) -> Plan {
        let mut plan = Plan {
            weeks: Vec::new(),
            days: Vec::new(),
        };
        let mut day = from_day;
        while day <= to_day {
            if week_start(day) == day && day + 6 <= to_day && built.contains(&day) {
                plan.weeks.push(day);
                day += 7;
                continue;
            }
            // Up to the next built whole week (or the end).
            let mut end = day;
            while end < to_day {
                let next = end + 1;
                if week_start(next) == next && next + 6 <= to_day && built.contains(&next) {
                    break;
                }
                end = next;
            }
            plan.days.push((day, end));
            day = end + 1;
        }
        plan
    }
}

/// The SQL of a grouping's key over either rollup, daily or (`weekly`)
/// weekly; the weekly tables have no day or month to group by.
fn key_sql(group: GroupBy, weekly: bool) -> &'static str {
    match group {
        GroupBy::Week if weekly => "CAST(week AS TEXT)",
        GroupBy::All => "''",
        GroupBy::Courier => "courier_id",
        GroupBy::City => "city",
        GroupBy::Partner => "partner",
        GroupBy::Segment => "segment",
        GroupBy::Survey => "survey_id",
        GroupBy::Channel => "channel",
        GroupBy::Day => "CAST(day AS TEXT)",
        GroupBy::Week => "CAST(day - ((day + 3) % 7) AS TEXT)",
        GroupBy::Month => "CAST(month AS TEXT)",
    }
}

/// The same key for a raw response; `None` where it has none (no courier).
fn raw_key(group: GroupBy, r: &RawResponse, day: i64, month: i64) -> Option<String> {
    Some(match group {
        GroupBy::All => "all".to_owned(),
        GroupBy::Courier => r.courier_id.clone()?,
        GroupBy::City => r.city.clone(),
        GroupBy::Partner => r.partner.clone().unwrap_or_default(),
        GroupBy::Segment => r.segment.clone(),
        GroupBy::Survey => r.survey_id.clone(),
        GroupBy::Channel => r.channel.clone(),
        GroupBy::Day => day.to_string(),
        GroupBy::Week => week_start(day).to_string(),
        GroupBy::Month => month.to_string(),
    })
}

/// How a query was answered, for the curious (and the benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Rollup,
    CourierRollup,
    RawAnswers,
}

impl Store {
    /// Tallies per group (key as text: a name, a day number, or `yyyymm`).
    pub async fn metric_tallies(
        &self,
        filter: &MetricsFilter,
        group: GroupBy,
        period: Option<GroupBy>,
        tz: &TimeZone,
    ) -> Result<(Source, Vec<(String, Tally)>), StoreError> {
        let courier = filter.by_courier(group);
        if courier && filter.by_other(group) {
            let rows = self.direct_tallies(filter, group, period, tz).await?;
            return Ok((Source::RawAnswers, rows.into_iter().collect()));
        }
        self.fold_pending().await?;
        let source = if courier {
            Source::CourierRollup
        } else {
            Source::Rollup
        };
        let mut sums: HashMap<String, Tally> = HashMap::new();
        let cut = if courier {
            Cut::Couriers
        } else {
            Cut::Dimensions
        };
        let days = self
            .add_built_weeks(cut, filter, group, period, &mut sums, |t, r| {
                t.merge(&r.tally);
            })
            .await?;
        if !days.is_empty() {
            let table = if courier {
                "rollup_courier_days"
            } else {
                "rollup_days"
            };
            let key = match period {
                None => key_sql(group, false).to_owned(),
                Some(p) => format!(
                    "{} || '{SEPARATOR}' || {}",
                    key_sql(group, false),
                    key_sql(p, false)
                ),
            };
            let head = format!(
                "SELECT {key} AS key, {} FROM {table} WHERE ",
                summed_counters()
            );
            let rows: Vec<TallyRow> = self.db.all(days_query(&head, &days, filter, "1")).await?;
            for row in rows {
                sums.entry(row.key.unwrap_or_default())
                    .or_default()
                    .merge(&row.counters.0);
            }
        }
        if group == GroupBy::All && period.is_none() {
            // The overall row is there even when nothing was counted.
            let total = sums.into_values().fold(Tally::default(), |mut t, s| {
                t.merge(&s);
                t
            });
            return Ok((source, vec![("all".to_owned(), total)]));
        }
        let mut out: Vec<(String, Tally)> = sums.into_iter().collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok((source, out))
    }

    /// Adds the period's whole built weeks (their rows from memory, each
    /// added into its key's sum by `add`) into `sums`, then its latest built
    /// days outside them (the days of the weeks not built yet, also from
    /// memory), and returns the day ranges left for the daily rows: today,
    /// the days not built, the partial weeks' older days — the whole period
    /// for a grouping by day or month, which these rows are not cut for.
    pub(crate) async fn add_built_weeks<T: Default>(
        &self,
        cut: Cut,
        filter: &MetricsFilter,
        group: GroupBy,
        period: Option<GroupBy>,
        sums: &mut HashMap<String, T>,
        add: impl Fn(&mut T, &WeekRow),
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let by_days = matches!(group, GroupBy::Day | GroupBy::Month)
            || matches!(period, Some(GroupBy::Day | GroupBy::Month));
        if by_days {
            return Ok(vec![(filter.from_day, filter.to_day)]);
        }
        let built = self.built_weeks(filter.from_day, filter.to_day).await?;
        let mut plan = Plan::new(
            filter.from_day,
            filter.to_day,
            &built.keys().copied().collect(),
        );
        for week in std::mem::take(&mut plan.weeks) {
            let generation = built.get(&week).copied().unwrap_or_default();
            match self.span_rows(Span::Week, cut, week, generation).await? {
                Some(rows) => add_week(sums, &rows, week, filter, group, period, &add),
                // Marked not built since: its days answer for it.
                None => plan.days.push((week, week + 6)),
            }
        }
        if plan.days.is_empty() {
            return Ok(plan.days);
        }
        let days = self.latest_built_days(&plan.days).await?;
        let mut left = Vec::new();
        for (first, last) in plan.days {
            for day in first..=last {
                let rows = match days.get(&day) {
                    Some(generation) => self.span_rows(Span::Day, cut, day, *generation).await?,
                    None => None,
                };
                match rows {
                    Some(rows) => {
                        add_week(sums, &rows, week_start(day), filter, group, period, &add);
                    }
                    None => left.push(day),
                }
            }
        }
        Ok(crate::day_builds::runs(left))
    }

    /// Folds the pending rollup increments into the daily rows (see
    /// [`Deltas::write`]), a transaction per [`FOLD_ROWS`] of them, until
    /// none is left that was there when it began; returns how many.
    pub async fn fold_pending(&self) -> Result<usize, StoreError> {
        let mut folded = 0;
        loop {
            let any: Option<(i64,)> = self
                .db
                .opt(sql("SELECT id FROM rollup_pending LIMIT 1"))
                .await?;
            if any.is_none() {
                return Ok(folded);
            }
            let mut tx = self.db.begin().await?;
            let n = fold_pending(&mut tx).await?;
            tx.commit().await?;
            folded += n;
            if n < usize::try_from(FOLD_ROWS).unwrap_or(usize::MAX) {
                return Ok(folded);
            }
        }
    }

    /// The built weeks that begin within `from_day..=to_day`, with the
    /// generation of their rows.
    async fn built_weeks(
        &self,
        from_day: i64,
        to_day: i64,
    ) -> Result<BTreeMap<i64, i64>, StoreError> {
        let weeks: Vec<(i64, i64)> = self
            .db
            .all(
                sql("SELECT week, generation FROM rollup_week_state \
                     WHERE built = TRUE AND week >= $1 AND week <= $2")
                .bind(from_day)
                .bind(to_day),
            )
            .await?;
        Ok(weeks.into_iter().collect())
    }

    /// Among the days of `ranges`, the latest [`LATEST_DAYS`] built ones,
    /// with the generation of their rows: the days that weekly rows do not
    /// cover yet (older days outside built weeks are rare and read from
    /// the database).
    async fn latest_built_days(
        &self,
        ranges: &[(i64, i64)],
    ) -> Result<BTreeMap<i64, i64>, StoreError> {
        let (Some(first), Some(last)) = (
            ranges.iter().map(|r| r.0).min(),
            ranges.iter().map(|r| r.1).max(),
        ) else {
            return Ok(BTreeMap::new());
        };
        let days: Vec<(i64, i64)> = self
            .db
            .all(
                sql("SELECT day, generation FROM rollup_day_state \
                     WHERE built = TRUE AND day >= $1 AND day <= $2 ORDER BY day DESC LIMIT $3")
                .bind(first)
                .bind(last)
                .bind(LATEST_DAYS),
            )
            .await?;
        Ok(days
            .into_iter()
            .filter(|(d, _)| ranges.iter().any(|(a, b)| (a..=b).contains(&d)))
            .collect())
    }

    /// A built week's or day's rows, from memory or read (and kept) if it
    /// is still built at `generation` once they are read; `None` if it is
    /// not.
    async fn span_rows(
        &self,
        span: Span,
        cut: Cut,
        at: i64,
        generation: i64,
    ) -> Result<Option<Arc<Vec<WeekRow>>>, StoreError> {
        let cache = match span {
            Span::Week => &self.weeks,
            Span::Day => &self.days,
        };
        if let Some(rows) = cache.get(cut, at, generation) {
            return Ok(Some(rows));
        }
        let rows = match (span, cut) {
            (Span::Week, Cut::Couriers | Cut::Dimensions) => {
                let q = if cut == Cut::Couriers {
                    sql(
                        "SELECT courier_id, '' AS survey_id, city, '' AS partner, '' AS segment, \
                         '' AS channel, tally FROM rollup_courier_weeks WHERE week = $1",
                    )
                } else {
                    sql("SELECT '' AS courier_id, survey_id, city, partner, segment, channel, tally \
                         FROM rollup_weeks WHERE week = $1")
                };
                let stored: Vec<StoredWeekRow> = self.db.all(q.bind(at)).await?;
                let mut rows = Vec::with_capacity(stored.len());
                for r in stored {
                    let tally = Tally::from_bytes(&r.tally).ok_or_else(|| {
                        StoreError::Corrupt(format!(
                            "a weekly rollup row holds {} bytes",
                            r.tally.len()
                        ))
                    })?;
                    rows.push(WeekRow {
                        courier_id: r.courier_id,
                        survey_id: r.survey_id,
                        city: r.city,
                        partner: r.partner,
                        segment: r.segment,
                        channel: r.channel,
                        tally,
                        ..WeekRow::default()
                    });
                }
                rows
            }
            (Span::Day, Cut::Couriers | Cut::Dimensions) => {
                let names = Tally::COUNTERS
                    .iter()
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", ");
                let q = if cut == Cut::Couriers {
                    sql(format!(
                        "SELECT courier_id, '' AS survey_id, city, '' AS partner, '' AS segment, \
                         '' AS channel, {names} FROM rollup_courier_days WHERE day = $1"
                    ))
                } else {
                    sql(format!(
                        "SELECT '' AS courier_id, survey_id, city, partner, segment, channel, {names} \
                         FROM rollup_days WHERE day = $1"
                    ))
                };
                let stored: Vec<StoredDayRow> = self.db.all(q.bind(at)).await?;
                stored
                    .into_iter()
                    .map(|r| WeekRow {
                        tally: r.counters.0,
                        courier_id: r.courier_id,
                        survey_id: r.survey_id,
                        city: r.city,
                        partner: r.partner,
                        segment: r.segment,
                        channel: r.channel,
                        ..WeekRow::default()
                    })
                    .collect()
            }
            (_, Cut::Deliveries | Cut::DeliveriesByCourier) => {
                let (table, column) = match span {
                    Span::Week => ("rollup_delivery_weeks", "week"),
                    Span::Day => ("rollup_delivery_days", "day"),
                };
                let q = if cut == Cut::Deliveries {
                    sql(format!(
                        "SELECT courier_id, city, partner, delivered, on_time \
                         FROM {table} WHERE {column} = $1"
                    ))
                } else {
                    sql(format!(
                        "SELECT courier_id, city, '' AS partner, \
                         CAST(SUM(delivered) AS BIGINT) AS delivered, CAST(SUM(on_time) AS BIGINT) AS on_time \
                         FROM {table} WHERE {column} = $1 GROUP BY courier_id, city"
                    ))
                };
                let stored: Vec<(String, String, String, i64, i64)> =
                    self.db.all(q.bind(at)).await?;
                stored
                    .into_iter()
                    .map(|(courier_id, city, partner, delivered, on_time)| WeekRow {
                        courier_id,
                        city,
                        partner,
                        delivered,
                        on_time,
                        ..WeekRow::default()
                    })
                    .collect()
            }
        };
        // A generation is never given twice: the same one after the read
        // means the rows read are that generation's.
        let (table, column) = span.state();
        let now: Option<(i64,)> = self
            .db
            .opt(
                sql(format!(
                    "SELECT generation FROM {table} WHERE {column} = $1 AND built = TRUE"
                ))
                .bind(at),
            )
            .await?;
        if now != Some((generation,)) {
            return Ok(None);
        }
        let rows = Arc::new(rows);
        cache.put(cut, at, generation, Arc::clone(&rows));
        Ok(Some(rows))
    }

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

    /// Counts a query straight from the raw responses and answers, each
    /// response's facts worked out again from the survey version it
    /// answered: the rollups' fallback and their check.
    pub async fn direct_tallies(
        &self,
        filter: &MetricsFilter,
        group: GroupBy,
        period: Option<GroupBy>,
        tz: &TimeZone,
    ) -> Result<BTreeMap<String, Tally>, StoreError> {
        let surveys = self.survey_versions().await?;
        let mut out: BTreeMap<String, Tally> = BTreeMap::new();
        self.scan_responses(filter.from_ms, filter.to_ms, |r, answers| {
            if !filter.admits(r) {
                return;
            }
            let (day, month) = local_day(r.finished_at, tz);
            if day < filter.from_day || day > filter.to_day {
                return;
            }
            let Some(mut key) = raw_key(group, r, day, month) else {
                return;
            };
            if let Some(p) = period {
                let Some(second) = raw_key(p, r, day, month) else {
                    return;
                };
                if group == GroupBy::All {
                    key = String::new();
                }
                key = format!("{key}{SEPARATOR}{second}");
            }
            let (status, f) = response_facts(&surveys, r, answers);
            out.entry(key).or_default().add(status, &f);
        })
        .await?;
        Ok(out)
    }

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
        crate::day_builds::forget_days(&mut tx).await?;
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
        // Deliveries are filed by local day too.
        self.rebuild_deliveries(tz).await?;
        // Then the weekly rows of the weeks that have ended, from the new days.
        let (today, _) = local_day(jiff::Timestamp::now().as_millisecond(), tz);
        self.build_weeks(today).await?;
        // The days' habits and driver pairs are left to `build_days` (the
        // raw answers answer for them meanwhile).
        Ok(seen)
    }

    /// Every survey version, parsed.
    async fn survey_versions(
        &self,
    ) -> Result<HashMap<(String, i64), SurveyDefinition>, StoreError> {
        let rows: Vec<(String, i64, String)> = self
            .db
            .all(sql(
                "SELECT survey_id, version, definition FROM survey_versions",
            ))
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, v, d)| Some(((id, v), serde_json::from_str(&d).ok()?)))
            .collect())
    }

    /// Calls `each` with every response finished in `[from_ms, to_ms)` and
    /// its answers, a page at a time (memory stays bounded).
    async fn scan_responses(
        &self,
        from_ms: i64,
        to_ms: i64,
        mut each: impl FnMut(&RawResponse, &[RawAnswer]),
    ) -> Result<(), StoreError> {
        let mut after: Option<(i64, String)> = None;
        loop {
            let page = next_page(&mut Reader::Db(&self.db), from_ms, to_ms, after.as_ref()).await?;
            let Some(last) = page.last() else { break };
            after = Some((last.0.finished_at, last.0.id.clone()));
            for (r, answers) in &page {
                each(r, answers);
            }
        }
        Ok(())
    }
}

const PAGE: i64 = 5_000;
/// Rollup rows a rebuild gathers in memory before writing them (~60 MB).
const REBUILD_ROWS_IN_MEMORY: usize = 300_000;

/// One response as the rollups need it.
#[derive(Debug, sqlx::FromRow)]
struct RawResponse {
    order_number: String,
    id: String,
    survey_id: String,
    survey_version: i64,
    status: String,
    channel: String,
    courier_id: Option<String>,
    city: String,
    partner: Option<String>,
    segment: String,
    finished_at: i64,
}

impl RawResponse {
    fn key(&self, day: i64, month: i64) -> RollupKey {
        RollupKey {
            day,
            month,
            survey_id: self.survey_id.clone(),
            city: self.city.clone(),
            partner: self.partner.clone().unwrap_or_default(),
            segment: self.segment.clone(),
            channel: self.channel.clone(),
            courier_id: self.courier_id.clone(),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
struct RawAnswer {
    order_number: String,
    response_id: String,
    question_id: String,
    number_value: Option<f64>,
}

/// Reads from the pool, or inside a transaction.
enum Reader<'a> {
    Db(&'a crate::Db),
    Tx(&'a mut Tx),
}

impl Reader<'_> {
    async fn all<T: crate::db::Record>(&mut self, q: Sql) -> Result<Vec<T>, StoreError> {
        match self {
            Reader::Db(db) => db.all(q).await,
            Reader::Tx(tx) => tx.all(q).await,
        }
    }

    async fn all_in<R: crate::db::Record, K>(
        &mut self,
        head: &str,
        keys: &[K],
        bind: impl Fn(&mut Sql, &K),
    ) -> Result<Vec<R>, StoreError> {
        match self {
            Reader::Db(db) => db.all_in(head, keys, "", bind).await,
            Reader::Tx(tx) => tx.all_in(head, keys, "", bind).await,
        }
    }
}

/// The next page of responses after `after` (finish time, id) and their answers.
async fn next_page(
    tx: &mut Reader<'_>,
    from_ms: i64,
    to_ms: i64,
    after: Option<&(i64, String)>,
) -> Result<Vec<(RawResponse, Vec<RawAnswer>)>, StoreError> {
    const COLUMNS: &str = "order_number, id, survey_id, survey_version, status, channel, courier_id, city, partner, segment, finished_at";
    let q = match after {
        None => sql(format!(
            "SELECT {COLUMNS} FROM responses WHERE finished_at >= $1 AND finished_at < $2 \
             ORDER BY finished_at, id LIMIT $3"
        ))
        .bind(from_ms)
        .bind(to_ms)
        .bind(PAGE),
        Some((at, id)) => sql(format!(
            "SELECT {COLUMNS} FROM responses WHERE finished_at >= $1 AND finished_at < $2 \
             AND (finished_at > $3 OR (finished_at = $4 AND id > $5)) \
             ORDER BY finished_at, id LIMIT $6"
        ))
        // The lower bound alone is what lets the index on finish time start
        // at the page's place; the OR keeps ties in order.
        .bind(from_ms.max(*at))
        .bind(to_ms)
        .bind(*at)
        .bind(*at)
        .bind(id.as_str())
        .bind(PAGE),
    };
    let responses: Vec<RawResponse> = tx.all(q).await?;
    if responses.is_empty() {
        return Ok(Vec::new());
    }
    let mut numbers: Vec<&str> = responses.iter().map(|r| r.order_number.as_str()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    let answers: Vec<RawAnswer> = tx
        .all_in(
            "SELECT order_number, response_id, question_id, number_value FROM answers \
             WHERE number_value IS NOT NULL AND order_number IN",
            &numbers,
            |q, n| q.push_arg(*n),
        )
        .await?;
    let mut by_response: HashMap<(String, String), Vec<RawAnswer>> = HashMap::new();
    for a in answers {
        by_response
            .entry((a.order_number.clone(), a.response_id.clone()))
            .or_default()
            .push(a);
    }
    Ok(responses
        .into_iter()
        .map(|r| {
            let answers = by_response
                .remove(&(r.order_number.clone(), r.id.clone()))
                .unwrap_or_default();
            (r, answers)
        })
        .collect())
}

/// A raw response's status and facts, from the survey version it answered.
fn response_facts(
    surveys: &HashMap<(String, i64), SurveyDefinition>,
    r: &RawResponse,
    answers: &[RawAnswer],
) -> (ResponseStatus, Facts) {
    let status = ResponseStatus::from_stored(&r.status);
    let Some(survey) = surveys.get(&(r.survey_id.clone(), r.survey_version)) else {
        return (status, Facts::default());
    };
    let checked: Vec<CheckedAnswer> = answers
        .iter()
        .filter_map(|a| {
            let q = survey.question(&a.question_id)?;
            Some(CheckedAnswer {
                question_id: a.question_id.clone(),
                kind: q.kind,
                number: a.number_value,
                options: Vec::new(),
                text: None,
                flag: None,
            })
        })
        .collect();
    (status, facts(survey, &checked))
}

#[cfg(test)]
mod tests {
    use super::{week_closed, Deltas, Plan, RollupKey};
    use doorstep_domain::survey::metrics::Facts;
    use doorstep_domain::survey::ResponseStatus;
    use std::collections::BTreeSet;

    fn key(day: i64, city: &str, courier: Option<&str>) -> RollupKey {
        RollupKey {
            day,
            month: 202_511,
            survey_id: "door".to_owned(),
            city: city.to_owned(),
            partner: String::new(),
            segment: "new".to_owned(),
            channel: "courier_tablet".to_owned(),
            courier_id: courier.map(str::to_owned),
        }
    }

    #[test]
    fn pending_increments_read_back_as_written_and_merge_by_key() {
        let facts = Facts {
            nps: Some(9),
            csi_n: 1,
            csi_sum: 4.5,
            csi_norm_sum: 70.0,
            ..Facts::default()
        };
        let mut a = Deltas::default();
        a.add(
            &key(MON, "Москва", Some("K-1")),
            ResponseStatus::Completed,
            &facts,
        );
        a.add(
            &key(MON, "Казань", None),
            ResponseStatus::Refused,
            &Facts::default(),
        );
        let bytes = a.to_bytes();
        let back = Deltas::from_bytes(&bytes).expect("reads back");
        assert_eq!(back.days, a.days);
        assert_eq!(back.couriers, a.couriers);
        // Anything cut short, extended or of another version is refused.
        assert!(Deltas::from_bytes(&bytes[..bytes.len() - 1]).is_none());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Deltas::from_bytes(&longer).is_none());
        let mut other = bytes;
        other[0] = 2;
        assert!(Deltas::from_bytes(&other).is_none());

        let mut b = Deltas::default();
        b.add(
            &key(MON, "Москва", Some("K-1")),
            ResponseStatus::Completed,
            &facts,
        );
        b.add(
            &key(MON + 1, "Москва", Some("K-2")),
            ResponseStatus::Completed,
            &facts,
        );
        a.merge(b);
        assert_eq!(a.days.len(), 3);
        assert_eq!(a.couriers.len(), 2);
        let k1 = ("K-1".to_owned(), MON, 202_511, "Москва".to_owned());
        assert_eq!(a.couriers[&k1].completed, 2);
        assert_eq!(a.couriers[&k1].promoters, 2);
        assert!((a.couriers[&k1].csi_sum - 9.0).abs() < 1e-9);
    }

    // Day 20,416 is Monday 2025-11-24.
    const MON: i64 = 20_416;

    #[test]
    fn whole_built_weeks_come_from_weekly_rows_the_rest_from_days() {
        let built: BTreeSet<i64> = [MON, MON + 7, MON + 21].into();
        // Wednesday of the week before to the Tuesday after week MON+21.
        let plan = Plan::new(MON - 5, MON + 29, &built);
        assert_eq!(plan.weeks, vec![MON, MON + 7, MON + 21]);
        assert_eq!(
            plan.days,
            vec![
                (MON - 5, MON - 1),
                (MON + 14, MON + 20),
                (MON + 28, MON + 29)
            ]
        );
        // A period inside one week, or ending mid-week, reads days only.
        let plan = Plan::new(MON + 1, MON + 5, &built);
        assert!(plan.weeks.is_empty());
        assert_eq!(plan.days, vec![(MON + 1, MON + 5)]);
        let plan = Plan::new(MON, MON + 5, &built);
        assert_eq!(plan.days, vec![(MON, MON + 5)]);
        // Exactly the built weeks: no days.
        let plan = Plan::new(MON, MON + 13, &built);
        assert_eq!(plan.weeks, vec![MON, MON + 7]);
        assert!(plan.days.is_empty());
        assert_eq!(Plan::new(MON + 3, MON + 2, &built).days, vec![]);
    }

    #[test]
    fn a_week_is_built_a_whole_day_after_it_ended() {
        // Week MON ends on Sunday MON+6; Monday MON+7 is still too soon.
        assert!(!week_closed(MON, MON + 6));
        assert!(!week_closed(MON, MON + 7));
        assert!(week_closed(MON, MON + 8));
    }
}

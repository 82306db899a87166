//! Reading the rollups: what a metrics query counts and groups by, and
//! where each of its days is read from (built weeks and latest days in
//! memory, the rest from the daily rows).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;
use std::sync::Arc;

use doorstep_domain::survey::metrics::Tally;
use doorstep_domain::survey::Dimensions;
use doorstep_domain::time::week_start;

use crate::db::{sql, Sql};
use crate::survey::week_cache::{add_week, Cut, WeekRow};
use crate::{Store, StoreError};

use super::counters::counter_names;
use super::{summed_counters, Counters, RawResponse, Source, Span};

/// One group's tally, summed by the database.
#[derive(sqlx::FromRow)]
pub(super) struct TallyRow {
    key: Option<String>,
    period: Option<String>,
    #[sqlx(flatten)]
    counters: Counters,
}

/// A stored row of `rollup_weeks` (its counters packed in one value), as
/// read into the cache.
#[derive(sqlx::FromRow)]
pub(super) struct StoredWeekRow {
    month: i64,
    survey_id: String,
    city: String,
    partner: String,
    segment: String,
    channel: String,
    tally: Vec<u8>,
}

impl StoredWeekRow {
    /// The row as the cache holds it; its tally read from its bytes.
    fn into_row(self) -> Result<WeekRow, StoreError> {
        let tally = Tally::from_bytes(&self.tally).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "a weekly rollup row holds {} bytes",
                self.tally.len()
            ))
        })?;
        Ok(WeekRow {
            survey_id: self.survey_id,
            city: self.city,
            partner: self.partner,
            segment: self.segment,
            channel: self.channel,
            month: self.month,
            tally,
            ..WeekRow::default()
        })
    }
}

/// A stored daily row of either cut, as read into the cache of the latest
/// days.
#[derive(sqlx::FromRow)]
pub(super) struct StoredDayRow {
    month: i64,
    courier_id: String,
    survey_id: String,
    city: String,
    partner: String,
    segment: String,
    channel: String,
    #[sqlx(flatten)]
    counters: Counters,
}

/// How many of a period's latest built days outside built weeks are read
/// from memory: the days of the open week and of the week just ended.
pub(super) const LATEST_DAYS: i64 = 14;

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
/// (the instants `from_ms..to_ms`), and its dimensions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsFilter {
    pub from_day: i64,
    pub to_day: i64,
    pub from_ms: i64,
    pub to_ms: i64,
    pub dims: Dimensions,
}

impl MetricsFilter {
    /// Whether a raw response passes the filters (the period aside).
    pub(super) fn admits(&self, r: &RawResponse) -> bool {
        self.dims.admit(
            r.courier_id.as_deref(),
            &r.city,
            r.partner.as_deref().unwrap_or(""),
            &r.segment,
            &r.survey_id,
            &r.channel,
        )
    }

    /// Appends ` AND column = $n` for each filter set (columns named with
    /// `prefix`, parameters numbered from `first`; a missing partner is
    /// stored as NULL in responses and as '' elsewhere, and matches ''), and
    /// returns the values to bind, in order.
    pub(crate) fn clause(&self, text: &mut String, prefix: &str, first: usize) -> Vec<&str> {
        self.clause_over(text, prefix, first, true)
    }

    /// [`MetricsFilter::clause`] over a rollup table, whose partner is
    /// never NULL (so that an index on it can serve).
    pub(crate) fn rollup_clause(&self, text: &mut String, first: usize) -> Vec<&str> {
        self.clause_over(text, "", first, false)
    }

    fn clause_over(
        &self,
        text: &mut String,
        prefix: &str,
        first: usize,
        nullable_partner: bool,
    ) -> Vec<&str> {
        let mut values = Vec::new();
        for (n, (column, value)) in (first..).zip(self.dims.columns()) {
            if column == "partner" && nullable_partner {
                let _ = write!(text, " AND COALESCE({prefix}partner, '') = ${n}");
            } else {
                let _ = write!(text, " AND {prefix}{column} = ${n}");
            }
            values.push(value);
        }
        values
    }

    /// Needs the courier cut (a courier filter or grouping).
    pub(super) fn by_courier(&self, group: GroupBy) -> bool {
        group == GroupBy::Courier || self.dims.courier.is_some()
    }

    /// Needs a dimension the courier cut lacks.
    pub(super) fn by_other(&self, group: GroupBy) -> bool {
        matches!(
            group,
            GroupBy::Partner | GroupBy::Segment | GroupBy::Survey | GroupBy::Channel
        ) || self.dims.partner.is_some()
            || self.dims.segment.is_some()
            || self.dims.survey.is_some()
            || self.dims.channel.is_some()
    }
}

/// Which group a tally is for: the group's key (a name, a day number,
/// `yyyymm`; empty for the one group of everything) and, in a two-level
/// grouping (`courier,week`), the period's within it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    pub key: String,
    pub period: Option<String>,
}

impl GroupKey {
    /// A group with no period.
    pub fn of(key: impl Into<String>) -> GroupKey {
        GroupKey {
            key: key.into(),
            period: None,
        }
    }
}

/// The SQL of a grouping's key columns, `key` and `period`, over rows
/// whose key columns `column` gives.
pub(crate) fn key_columns(
    group: GroupBy,
    period: Option<GroupBy>,
    column: impl Fn(GroupBy) -> Option<&'static str>,
) -> Option<String> {
    let period = match period {
        None => "CAST(NULL AS TEXT)",
        Some(p) => column(p)?,
    };
    Some(format!("{} AS key, {period} AS period", column(group)?))
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
pub(super) struct Plan {
    pub(super) weeks: Vec<i64>,
    pub(super) days: Vec<(i64, i64)>,
}

impl Plan {
    pub(super) fn new(from_day: i64, to_day: i64, built: &BTreeSet<i64>) -> Plan {
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

/// The SQL of a grouping's key over a daily rollup.
pub(super) fn key_sql(group: GroupBy) -> &'static str {
    match group {
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

impl Store {
    /// Tallies per group (key as text: a name, a day number, or `yyyymm`).
    pub async fn metric_tallies(
        &self,
        filter: &MetricsFilter,
        group: GroupBy,
        period: Option<GroupBy>,
    ) -> Result<(Source, Vec<(GroupKey, Tally)>), StoreError> {
        let courier = filter.by_courier(group);
        self.fold_pending().await?;
        let source = if courier {
            Source::CourierRollup
        } else {
            Source::Rollup
        };
        let mut sums: HashMap<GroupKey, Tally> = HashMap::new();
        let cut = match (courier, filter.by_other(group)) {
            (true, true) => Cut::CourierDims,
            (true, false) => Cut::Couriers,
            (false, _) => Cut::Dimensions,
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
            let keys = key_columns(group, period, |g| Some(key_sql(g)))
                .expect("every grouping has a column");
            let head = format!("SELECT {keys}, {} FROM {table} WHERE ", summed_counters());
            let rows: Vec<TallyRow> = self
                .db
                .all(days_query(&head, &days, filter, "1, 2"))
                .await?;
            for row in rows {
                let key = GroupKey {
                    key: row.key.unwrap_or_default(),
                    period: row.period,
                };
                sums.entry(key).or_default().merge(&row.counters.0);
            }
        }
        if group == GroupBy::All && period.is_none() {
            // The overall row is there even when nothing was counted.
            let total = sums.into_values().fold(Tally::default(), |mut t, s| {
                t.merge(&s);
                t
            });
            return Ok((source, vec![(GroupKey::of("all"), total)]));
        }
        let mut out: Vec<(GroupKey, Tally)> = sums.into_iter().collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok((source, out))
    }

    /// Adds the period's whole built weeks (their rows from memory, each
    /// added into its key's sum by `add`) into `sums`, then its latest built
    /// days outside them (the days of the weeks not built yet, also from
    /// memory), and returns the day ranges left for the daily rows: today,
    /// the days not built, the partial weeks' older days — the whole period
    /// for a grouping by day, which these rows are not cut for (a week
    /// spanning two months has rows for each part).
    pub(crate) async fn add_built_weeks<T: Default>(
        &self,
        cut: Cut,
        filter: &MetricsFilter,
        group: GroupBy,
        period: Option<GroupBy>,
        sums: &mut HashMap<GroupKey, T>,
        add: impl Fn(&mut T, &WeekRow),
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        // Weekly rows are split by month, not by day.
        let by_days = group == GroupBy::Day || period == Some(GroupBy::Day);
        if by_days {
            return Ok(vec![(filter.from_day, filter.to_day)]);
        }
        let built = self.built_weeks(filter.from_day, filter.to_day).await?;
        let mut plan = Plan::new(
            filter.from_day,
            filter.to_day,
            &built.keys().copied().collect(),
        );
        if cut == Cut::CourierDims {
            // The courier rows whole are many (every partner, segment…):
            // the database sums the filter's own, and nothing is kept (they
            // would push everything else out of memory).
            let weeks = std::mem::take(&mut plan.weeks);
            match self
                .summed_courier_weeks(&weeks, &built, filter, group, period)
                .await?
            {
                Some(rows) => {
                    for (key, row) in rows {
                        add(sums.entry(key).or_default(), &row);
                    }
                }
                // A week was built again meanwhile: the days answer.
                None => plan.days.extend(weeks.iter().map(|w| (*w, w + 6))),
            }
        }
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
        Ok(crate::survey::day_builds::runs(left))
    }

    /// The whole courier rows of built `weeks` that pass `filter`, summed
    /// by the database per key of `group` (and week, where the grouping or
    /// `period` is by week) in one query — the filter's columns narrow it
    /// (a courier's rows are a key prefix within each week, a partner's
    /// have an index); `None` when one of the weeks was built again or
    /// marked not built meanwhile (their days answer for them then).
    async fn summed_courier_weeks(
        &self,
        weeks: &[i64],
        built: &BTreeMap<i64, i64>,
        filter: &MetricsFilter,
        group: GroupBy,
        period: Option<GroupBy>,
    ) -> Result<Option<Vec<(GroupKey, WeekRow)>>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            week: i64,
            month: i64,
            key: String,
            #[sqlx(flatten)]
            counters: Counters,
        }
        let (Some(first), Some(last)) = (weeks.first(), weeks.last()) else {
            return Ok(Some(Vec::new()));
        };
        let by_week = group == GroupBy::Week || period == Some(GroupBy::Week);
        let by_month = group == GroupBy::Month || period == Some(GroupBy::Month);
        // A time grouping's key is the week or month read beside it.
        let key = if group.is_time() {
            "''"
        } else {
            key_sql(group)
        };
        let zero = "CAST(0 AS BIGINT)";
        let week = if by_week { "week" } else { zero };
        let month = if by_month { "month" } else { zero };
        // The whole fleet filtered by one of the survey, partner, segment
        // or channel (and perhaps a city) reads the rows summed over the
        // others; the rest (a courier's own rows, several dimensions at
        // once) the whole rows, narrowed by the filter.
        let others: Vec<(&'static str, &str)> = filter
            .dims
            .columns()
            .filter(|(c, _)| !matches!(*c, "courier_id" | "city"))
            .collect();
        let one = match others[..] {
            [(dim, value)] if filter.dims.courier.is_none() => Some((dim, value)),
            _ => None,
        };
        let table = if one.is_some() {
            "rollup_courier_dim_weeks"
        } else {
            "rollup_courier_weeks"
        };
        let mut text = format!(
            "SELECT {week} AS week, {month} AS month, {key} AS key, {} FROM {table} WHERE week IN (",
            summed_counters()
        );
        crate::db::list_placeholders(&mut text, weeks.len(), 1);
        text.push(')');
        let values = match one {
            Some((dim, value)) => {
                // `dim` is one of four column names, never the caller's.
                let n = weeks.len() + 1;
                let _ = write!(text, " AND dim = '{dim}' AND value = ${n}");
                let mut values = vec![value];
                if let Some(city) = &filter.dims.city {
                    let _ = write!(text, " AND city = ${}", n + 1);
                    values.push(city);
                }
                values
            }
            None => filter.rollup_clause(&mut text, weeks.len() + 1),
        };
        text.push_str(" GROUP BY 1, 2, 3");
        let mut q = sql(text);
        for w in weeks {
            q.push_arg(*w);
        }
        for v in values {
            q.push_arg(v);
        }
        let rows: Vec<Row> = self.db.all(q).await?;
        // Read after the rows: a week built again since holds other rows.
        let now = self.built_weeks(*first, *last).await?;
        if weeks.iter().any(|w| now.get(w) != built.get(w)) {
            return Ok(None);
        }
        Ok(Some(
            rows.into_iter()
                .map(|r| {
                    let time = |g: GroupBy| match g {
                        GroupBy::Month => r.month.to_string(),
                        _ => r.week.to_string(),
                    };
                    let key = GroupKey {
                        key: if group.is_time() { time(group) } else { r.key },
                        period: period.map(time),
                    };
                    let row = WeekRow {
                        tally: r.counters.0,
                        ..WeekRow::default()
                    };
                    (key, row)
                })
                .collect(),
        ))
    }

    /// The built weeks that begin within `from_day..=to_day`, with the
    /// generation of their rows.
    pub(super) async fn built_weeks(
        &self,
        from_day: i64,
        to_day: i64,
    ) -> Result<BTreeMap<i64, i64>, StoreError> {
        self.built_generations(Span::Week, from_day, to_day).await
    }

    /// The built weeks or days (by their first day) within `from..=to`,
    /// with the generation of their rows.
    pub(crate) async fn built_generations(
        &self,
        span: Span,
        from: i64,
        to: i64,
    ) -> Result<BTreeMap<i64, i64>, StoreError> {
        let (table, column) = span.state();
        let spans: Vec<(i64, i64)> = self
            .db
            .all(
                sql(format!(
                    "SELECT {column}, generation FROM {table} \
                     WHERE built = TRUE AND {column} >= $1 AND {column} <= $2"
                ))
                .bind(from)
                .bind(to),
            )
            .await?;
        Ok(spans.into_iter().collect())
    }

    /// Among the days of `ranges`, the latest [`LATEST_DAYS`] built ones,
    /// with the generation of their rows: the days that weekly rows do not
    /// cover yet (older days outside built weeks are rare and read from
    /// the database).
    pub(super) async fn latest_built_days(
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
    pub(super) async fn span_rows(
        &self,
        span: Span,
        cut: Cut,
        at: i64,
        generation: i64,
    ) -> Result<Option<Arc<Vec<WeekRow>>>, StoreError> {
        let cache = match span {
            Span::Week => &self.weeks,
            // (Support days are never read here.)
            Span::Day | Span::SupportDay => &self.days,
        };
        if let Some(rows) = cache.get(cut, at, generation) {
            return Ok(Some(rows));
        }
        let rows = match (span, cut) {
            (Span::Week, Cut::Dimensions) => {
                let stored: Vec<StoredWeekRow> = self
                    .db
                    .all(
                        sql(
                            "SELECT month, survey_id, city, partner, segment, channel, tally \
                             FROM rollup_weeks WHERE week = $1",
                        )
                        .bind(at),
                    )
                    .await?;
                stored
                    .into_iter()
                    .map(StoredWeekRow::into_row)
                    .collect::<Result<Vec<_>, _>>()?
            }
            (_, Cut::Couriers | Cut::CourierDims | Cut::Dimensions) => {
                let (_, column) = span.state();
                let courier_table = match span {
                    Span::Week => "rollup_courier_weeks",
                    Span::Day | Span::SupportDay => "rollup_courier_days",
                };
                let q = match cut {
                    // Summed over survey, partner, segment and channel by
                    // the database: one row per courier and city.
                    Cut::Couriers => format!(
                        "SELECT month, courier_id, '' AS survey_id, city, '' AS partner, '' AS segment, \
                         '' AS channel, {} FROM {courier_table} WHERE {column} = $1 \
                         GROUP BY month, courier_id, city",
                        summed_counters()
                    ),
                    Cut::CourierDims => format!(
                        "SELECT month, courier_id, survey_id, city, partner, segment, channel, {} \
                         FROM {courier_table} WHERE {column} = $1",
                        counter_names()
                    ),
                    _ => format!(
                        "SELECT month, '' AS courier_id, survey_id, city, partner, segment, channel, {} \
                         FROM rollup_days WHERE day = $1",
                        counter_names()
                    ),
                };
                let stored: Vec<StoredDayRow> = self.db.all(sql(q).bind(at)).await?;
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
                        month: r.month,
                        ..WeekRow::default()
                    })
                    .collect()
            }
            (_, Cut::Deliveries | Cut::DeliveriesByCourier) => {
                let (table, column) = match span {
                    Span::Week => ("rollup_delivery_weeks", "week"),
                    Span::Day | Span::SupportDay => ("rollup_delivery_days", "day"),
                };
                let q = if cut == Cut::Deliveries {
                    sql(format!(
                        "SELECT month, courier_id, city, partner, delivered, on_time \
                         FROM {table} WHERE {column} = $1"
                    ))
                } else {
                    sql(format!(
                        "SELECT month, courier_id, city, '' AS partner, \
                         CAST(SUM(delivered) AS BIGINT) AS delivered, CAST(SUM(on_time) AS BIGINT) AS on_time \
                         FROM {table} WHERE {column} = $1 GROUP BY month, courier_id, city"
                    ))
                };
                let stored: Vec<(i64, String, String, String, i64, i64)> =
                    self.db.all(q.bind(at)).await?;
                stored
                    .into_iter()
                    .map(
                        |(month, courier_id, city, partner, delivered, on_time)| WeekRow {
                            courier_id,
                            city,
                            partner,
                            month,
                            delivered,
                            on_time,
                            ..WeekRow::default()
                        },
                    )
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
}

//! The support figures' daily rows (`support_days`): what each case
//! counts for, summed by local day and by each grouping, built once a day
//! is over so that a year of a million cases is read as a few hundred
//! rows.
//!
//! Every transaction that changes what a case counts for writes a row to
//! `support_touched` ([`touch_cases`]) — an insert of its own, which no
//! other writer waits for. A reader counts every day from the earliest
//! such row on, and every day not built, from the cases themselves (the
//! same facts folded the same way, [`Facts::parts`]); the builder
//! ([`Store::build_support_days`]) takes the rows, marks their days not
//! built and builds them again, each day in short slices under a ticket
//! (see `SlicedBuild`) that a concurrent build or a newer mark voids.
//! Everything a reader looks at is read in one snapshot, so a build
//! finishing meanwhile is seen whole or not at all.

use std::collections::{BTreeMap, BTreeSet};

use doorstep_domain::time::{date_of_day, day_range, local_day};
use jiff::tz::TimeZone;
use sha2::{Digest, Sha256};

use crate::db::{sql, Arg, Sql, Tx};
use crate::survey::rollups::{new_generation, SlicedBuild, Span};
use crate::{Store, StoreError};

use super::support::{SupportCounts, SupportGroups};

/// How long after local midnight a day is left to the cases themselves
/// before it is built (a change committed just after midnight is then
/// usually in the build rather than sending the day back at once).
const SETTLE_MS: i64 = 10 * 60 * 1000;

/// The setting that names the time zone the built days are local to.
const ZONE_SETTING: &str = "support_days_time_zone";

/// The groupings kept for every day: the cut (`""`: all cases) and how a
/// case's value of it is read.
const DIMENSIONS: [&str; 5] = ["", "line", "channel", "operator", "category"];

/// Records, inside the transaction that changes them, that cases created
/// at `since` or later count differently now: their days are counted from
/// the cases until built again.
pub(crate) async fn touch_cases(tx: &mut Tx<'_>, since: i64) -> Result<(), StoreError> {
    tx.exec(
        sql("INSERT INTO support_touched (id, since) VALUES ($1, $2)")
            .bind(new_generation())
            .bind(since),
    )
    .await?;
    Ok(())
}

/// What one case counts for, each fact at its own instant.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Facts {
    line: String,
    channel: String,
    operator: String,
    category: String,
    customer_phone: Option<String>,
    contacts: i64,
    repeat_of: Option<String>,
    repeated_at: Option<i64>,
    created_at: i64,
    resolved_at: Option<i64>,
    first_response_due_at: Option<i64>,
    first_response_met: Option<bool>,
    resolution_due_at: Option<i64>,
    resolution_met: Option<bool>,
    first_response_at: Option<i64>,
    first_response_ms: Option<i64>,
    csat: Option<i64>,
    csat_at: Option<i64>,
}

/// The cases with any fact within `[$1, $2)`.
const FACTS_QUERY: &str = "SELECT line, channel, COALESCE(owner_login, '') AS operator, category, \
     customer_phone, contacts, repeat_of, repeated_at, created_at, resolved_at, \
     first_response_due_at, first_response_met, resolution_due_at, resolution_met, \
     first_response_at, first_response_ms, csat, csat_at FROM cases \
     WHERE (created_at >= $1 AND created_at < $2) \
     OR (resolved_at >= $1 AND resolved_at < $2) \
     OR (first_response_due_at >= $1 AND first_response_due_at < $2) \
     OR (resolution_due_at >= $1 AND resolution_due_at < $2) \
     OR (first_response_at >= $1 AND first_response_at < $2) \
     OR (csat_at >= $1 AND csat_at < $2)";

/// One fact of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// Opened; with the customer when they contacted us (`None` for a case
    /// no customer contacted about), and whether they came back about it.
    Opened(Option<(Customer, bool)>),
    /// Resolved; at the first contact or not.
    /// `contacted`: a customer contacted about it (FCR's population).
    Resolved { fcr: bool, contacted: bool },
    /// A first-response deadline decided (met, or passed unanswered).
    FirstDue { met: bool },
    /// A resolution deadline decided.
    ResolutionDue { met: bool },
    /// The first reply, after this much business time.
    FirstReply { ms: i64 },
    /// The customer's CSAT answer (1–5).
    Csat { value: i64 },
}

/// Who a case's customer is, for counting customers once per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Customer {
    /// A digest of their phone.
    Phone(u64),
    /// A case without a phone: its own customer.
    Alone,
}

/// The first 64 bits of the phone's SHA-256: the same customer the same
/// digest in every process and version.
fn digest(phone: &str) -> u64 {
    let hash = Sha256::digest(phone.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    u64::from_le_bytes(first)
}

impl Facts {
    /// Its facts with their instants (METRICS.md, "Support").
    pub(crate) fn parts(&self) -> Vec<(i64, Part)> {
        let mut out = Vec::with_capacity(6);
        let customer = (self.contacts > 0).then(|| {
            let who = match &self.customer_phone {
                Some(phone) => Customer::Phone(digest(phone)),
                None => Customer::Alone,
            };
            let came_back =
                self.contacts >= 2 || self.repeat_of.is_some() || self.repeated_at.is_some();
            (who, came_back)
        });
        out.push((self.created_at, Part::Opened(customer)));
        if let Some(at) = self.resolved_at {
            let fcr = self.contacts == 1 && self.repeated_at.is_none();
            out.push((
                at,
                Part::Resolved {
                    fcr,
                    contacted: self.contacts > 0,
                },
            ));
        }
        if let (Some(at), Some(met)) = (self.first_response_due_at, self.first_response_met) {
            out.push((at, Part::FirstDue { met }));
        }
        if let (Some(at), Some(met)) = (self.resolution_due_at, self.resolution_met) {
            out.push((at, Part::ResolutionDue { met }));
        }
        if let (Some(at), Some(ms)) = (self.first_response_at, self.first_response_ms) {
            out.push((at, Part::FirstReply { ms }));
        }
        if let (Some(at), Some(value)) = (self.csat_at, self.csat) {
            out.push((at, Part::Csat { value }));
        }
        out
    }

    /// Its value of a dimension of [`DIMENSIONS`].
    fn key(&self, dimension: &str) -> &str {
        match dimension {
            "line" => &self.line,
            "channel" => &self.channel,
            "operator" => &self.operator,
            "category" => &self.category,
            _ => "",
        }
    }
}

/// The counts that add up across days and groups (columns of
/// `support_days`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub(crate) struct Counts {
    cases: i64,
    lone_customers: i64,
    lone_repeat: i64,
    resolved: i64,
    fcr: i64,
    first_due: i64,
    first_met: i64,
    resolution_due: i64,
    resolution_met: i64,
    csat_answers: i64,
    csat_top2: i64,
    resolved_contacted: i64,
}

impl Counts {
    /// In the order of the table's columns.
    fn values(&self) -> [i64; 12] {
        [
            self.cases,
            self.lone_customers,
            self.lone_repeat,
            self.resolved,
            self.fcr,
            self.first_due,
            self.first_met,
            self.resolution_due,
            self.resolution_met,
            self.csat_answers,
            self.csat_top2,
            self.resolved_contacted,
        ]
    }

    fn merge(&mut self, o: &Counts) {
        self.cases += o.cases;
        self.lone_customers += o.lone_customers;
        self.lone_repeat += o.lone_repeat;
        self.resolved += o.resolved;
        self.fcr += o.fcr;
        self.first_due += o.first_due;
        self.first_met += o.first_met;
        self.resolution_due += o.resolution_due;
        self.resolution_met += o.resolution_met;
        self.csat_answers += o.csat_answers;
        self.csat_top2 += o.csat_top2;
        self.resolved_contacted += o.resolved_contacted;
    }
}

/// A group's sums: counts that add up, and the lists that are merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Sums {
    n: Counts,
    customers: Vec<u64>,
    repeat_customers: Vec<u64>,
    first_replies: Vec<u64>,
}

impl Sums {
    pub(crate) fn add(&mut self, part: &Part) {
        let n = &mut self.n;
        match *part {
            Part::Opened(customer) => {
                n.cases += 1;
                match customer {
                    Some((Customer::Phone(h), came_back)) => {
                        self.customers.push(h);
                        if came_back {
                            self.repeat_customers.push(h);
                        }
                    }
                    Some((Customer::Alone, came_back)) => {
                        n.lone_customers += 1;
                        n.lone_repeat += i64::from(came_back);
                    }
                    None => {}
                }
            }
            Part::Resolved { fcr, contacted } => {
                n.resolved += 1;
                n.fcr += i64::from(fcr);
                n.resolved_contacted += i64::from(contacted);
            }
            Part::FirstDue { met } => {
                n.first_due += 1;
                n.first_met += i64::from(met);
            }
            Part::ResolutionDue { met } => {
                n.resolution_due += 1;
                n.resolution_met += i64::from(met);
            }
            Part::FirstReply { ms } => self.first_replies.push(ms.max(0) as u64),
            Part::Csat { value } => {
                n.csat_answers += 1;
                n.csat_top2 += i64::from(value >= 4);
            }
        }
    }

    fn merge(&mut self, other: Sums) {
        self.n.merge(&other.n);
        self.customers.extend(other.customers);
        self.repeat_customers.extend(other.repeat_customers);
        self.first_replies.extend(other.first_replies);
    }

    /// The figures: customers told apart, the median first reply.
    pub(crate) fn counts(mut self) -> SupportCounts {
        let distinct = |v: &mut Vec<u64>| {
            v.sort_unstable();
            v.dedup();
            v.len() as i64
        };
        let n = self.n;
        SupportCounts {
            cases: n.cases,
            customers: n.lone_customers + distinct(&mut self.customers),
            repeat_customers: n.lone_repeat + distinct(&mut self.repeat_customers),
            resolved: n.resolved,
            fcr: n.fcr,
            first_response_due: n.first_due,
            first_response_met: n.first_met,
            resolution_due: n.resolution_due,
            resolution_met: n.resolution_met,
            median_first_response_ms: median(&mut self.first_replies),
            csat_answers: n.csat_answers,
            csat_top2: n.csat_top2,
            resolved_contacted: n.resolved_contacted,
        }
    }
}

/// The middle value, or the mean of the middle two (whole milliseconds).
fn median(values: &mut [u64]) -> Option<i64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (below, upper, _) = values.select_nth_unstable(n / 2);
    let upper = *upper;
    let m = if n % 2 == 1 {
        upper
    } else {
        let lower = below.iter().copied().max().unwrap_or(upper);
        u64::midpoint(lower, upper)
    };
    Some(m as i64)
}

/// Sorted values as LEB128-encoded gaps (the first from zero).
fn encode(values: &mut [u64]) -> Vec<u8> {
    values.sort_unstable();
    let mut out = Vec::with_capacity(values.len() * 3);
    let mut last = 0u64;
    for &v in values.iter() {
        let mut gap = v - last;
        last = v;
        loop {
            let byte = (gap & 0x7f) as u8;
            gap >>= 7;
            if gap == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
    }
    out
}

/// Appends what [`encode`] wrote to `out`.
fn decode(bytes: &[u8], out: &mut Vec<u64>) -> Result<(), StoreError> {
    let mut last = 0u64;
    let mut gap = 0u64;
    let mut shift = 0u32;
    for &b in bytes {
        if shift >= 64 {
            return Err(StoreError::Corrupt(
                "a support day's list runs over 64 bits".into(),
            ));
        }
        gap |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            last = last.wrapping_add(gap);
            out.push(last);
            (gap, shift) = (0, 0);
        } else {
            shift += 7;
        }
    }
    if shift != 0 {
        return Err(StoreError::Corrupt(
            "a support day's list is cut short".into(),
        ));
    }
    Ok(())
}

/// A row of `support_days`.
#[derive(sqlx::FromRow)]
struct DayRow {
    day: i64,
    group_key: String,
    #[sqlx(flatten)]
    n: Counts,
    customers: Vec<u8>,
    repeat_customers: Vec<u8>,
    first_replies: Vec<u8>,
}

impl DayRow {
    fn sums(&self) -> Result<Sums, StoreError> {
        let mut s = Sums {
            n: self.n,
            ..Sums::default()
        };
        decode(&self.customers, &mut s.customers)?;
        decode(&self.repeat_customers, &mut s.repeat_customers)?;
        decode(&self.first_replies, &mut s.first_replies)?;
        Ok(s)
    }
}

/// The local midnights of days `first..=last + 1`: where each day's
/// instants begin, to find an instant's day without the time zone.
struct Midnights {
    first: i64,
    starts: Vec<i64>,
}

impl Midnights {
    fn new(first: i64, last: i64, tz: &TimeZone) -> Midnights {
        let starts = (first..=last + 1)
            .map(|d| {
                let date = date_of_day(d);
                day_range(date, date, tz).0.as_millisecond()
            })
            .collect();
        Midnights { first, starts }
    }

    /// The instants of the whole run.
    fn span(&self) -> (i64, i64) {
        (self.starts[0], self.starts[self.starts.len() - 1])
    }

    /// The day an instant falls in, if within the run.
    fn day(&self, at: i64) -> Option<i64> {
        let (lo, hi) = self.span();
        if at < lo || at >= hi {
            return None;
        }
        let i = self.starts.partition_point(|s| *s <= at) - 1;
        Some(self.first + i as i64)
    }
}

impl SupportGroups {
    /// The cut whose rows answer this grouping.
    fn dimension(&self) -> &'static str {
        match self {
            SupportGroups::Line => "line",
            SupportGroups::Channel => "channel",
            SupportGroups::Operator => "operator",
            SupportGroups::Category => "category",
            SupportGroups::Periods(_) => "",
        }
    }

    /// The group of a fact on local day `day` of a case whose value of the
    /// cut is `value`: the value, or the position of the period holding
    /// the day (none outside every period).
    fn group(&self, day: i64, value: &str) -> Option<String> {
        match self {
            SupportGroups::Periods(periods) => {
                let i = periods.partition_point(|(_, last)| *last < day);
                periods
                    .get(i)
                    .filter(|(first, _)| *first <= day)
                    .map(|_| i.to_string())
            }
            _ => Some(value.to_owned()),
        }
    }
}

/// The name of the time zone days are local to.
fn zone_name(tz: &TimeZone) -> String {
    tz.iana_name().unwrap_or("UTC").to_owned()
}

/// Cases' facts within the local days `first..=last`, added to their
/// groups.
async fn add_from_cases(
    tx: &mut Tx<'_>,
    first: i64,
    last: i64,
    tz: &TimeZone,
    groups: &SupportGroups,
    sums: &mut BTreeMap<String, Sums>,
) -> Result<(), StoreError> {
    let days = Midnights::new(first, last, tz);
    let (lo, hi) = days.span();
    let facts: Vec<Facts> = tx.all(sql(FACTS_QUERY).bind(lo).bind(hi)).await?;
    let dimension = groups.dimension();
    for f in &facts {
        for (at, part) in f.parts() {
            let Some(day) = days.day(at) else { continue };
            if let Some(g) = groups.group(day, f.key(dimension)) {
                sums.entry(g).or_default().add(&part);
            }
        }
    }
    Ok(())
}

impl Store {
    /// The support figures of the local days `first..=last` (in `tz`),
    /// grouped as asked (periods: `(first, last)` local days each, in
    /// order, within the range); keys are the group's value, or the
    /// period's position as text. Built days are read from their rows,
    /// the others counted from the cases, all in one snapshot.
    pub async fn support_counts(
        &self,
        first: i64,
        last: i64,
        tz: &TimeZone,
        groups: &SupportGroups,
    ) -> Result<BTreeMap<String, SupportCounts>, StoreError> {
        let mut sums: BTreeMap<String, Sums> = BTreeMap::new();
        if first <= last {
            let mut tx = self.db.snapshot().await?;
            let built = usable_days(&mut tx, first, last, tz).await?;
            if !built.is_empty() {
                let rows: Vec<DayRow> = tx
                    .all(
                        sql("SELECT day, group_key, cases, lone_customers, lone_repeat, resolved, fcr, \
                             first_due, first_met, resolution_due, resolution_met, csat_answers, csat_top2, \
                             resolved_contacted, customers, repeat_customers, first_replies FROM support_days \
                             WHERE dimension = $1 AND day >= $2 AND day <= $3")
                        .bind(groups.dimension())
                        .bind(first)
                        .bind(last),
                    )
                    .await?;
                for row in rows.iter().filter(|r| built.contains(&r.day)) {
                    if let Some(g) = groups.group(row.day, &row.group_key) {
                        sums.entry(g).or_default().merge(row.sums()?);
                    }
                }
            }
            let raw = (first..=last).filter(|d| !built.contains(d));
            for (a, b) in crate::survey::day_builds::runs(raw) {
                add_from_cases(&mut tx, a, b, tz, groups, &mut sums).await?;
            }
            tx.rollback().await?;
        }
        Ok(sums.into_iter().map(|(k, s)| (k, s.counts())).collect())
    }

    /// Builds the support rows of every past day that needs it: first the
    /// days of the cases changed since (taken from `support_touched`),
    /// then every day not built yet (all of them after the time zone
    /// changed). Returns the days built; `progress(done, of)` after each.
    pub async fn build_support_days(
        &self,
        tz: &TimeZone,
        now_ms: i64,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<usize, StoreError> {
        let zone = zone_name(tz);
        let mut tx = self.db.begin().await?;
        let built_in: Option<(String,)> = tx
            .opt(sql("SELECT value FROM settings WHERE key = $1").bind(ZONE_SETTING))
            .await?;
        if built_in.as_ref().map(|(z,)| z.as_str()) != Some(zone.as_str()) {
            forget_support_days(&mut tx).await?;
            tx.exec(
                sql("INSERT INTO settings (key, value) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(ZONE_SETTING)
                .bind(zone.as_str()),
            )
            .await?;
        }
        let touched: Vec<(i64,)> = tx
            .all(sql("DELETE FROM support_touched RETURNING since"))
            .await?;
        if let Some(since) = touched.iter().map(|(s,)| *s).min() {
            // Every one of those days, built or being built: a build under
            // way elsewhere may have read the cases before the change, and
            // its ticket (the day's generation) is voided here.
            tx.exec(
                sql("UPDATE support_day_state SET built = FALSE, generation = $1 WHERE day >= $2")
                    .bind(new_generation())
                    .bind(local_day(since, tz).0),
            )
            .await?;
        }
        tx.commit().await?;

        let (oldest,): (Option<i64>,) = self
            .db
            .one(sql("SELECT MIN(created_at) FROM cases"))
            .await?;
        let Some(oldest) = oldest else {
            return Ok(0);
        };
        let first = local_day(oldest, tz).0;
        let last = local_day(now_ms - SETTLE_MS, tz).0 - 1;
        let built =
            crate::survey::day_builds::built_spans(&self.db, Span::SupportDay, first, last).await?;
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

    /// Drops every built support day (the cases answer until they are
    /// built again): for `doorstep rollups rebuild`.
    pub async fn forget_support_days(&self) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        forget_support_days(&mut tx).await?;
        tx.commit().await
    }
}

async fn forget_support_days(tx: &mut Tx<'_>) -> Result<(), StoreError> {
    for table in ["support_day_state", "support_days"] {
        tx.exec(sql(format!("DELETE FROM {table}"))).await?;
    }
    Ok(())
}

/// The built days within `first..=last` a reader may take the rows of:
/// built in this time zone, and before the first day of any case changed
/// since.
async fn usable_days(
    tx: &mut Tx<'_>,
    first: i64,
    last: i64,
    tz: &TimeZone,
) -> Result<BTreeSet<i64>, StoreError> {
    let (zone, since): (Option<String>, Option<i64>) = tx
        .one(
            sql("SELECT (SELECT value FROM settings WHERE key = $1), \
                 (SELECT MIN(since) FROM support_touched)")
            .bind(ZONE_SETTING),
        )
        .await?;
    if zone.as_deref() != Some(zone_name(tz).as_str()) {
        return Ok(BTreeSet::new());
    }
    let last = match since {
        Some(since) => last.min(local_day(since, tz).0 - 1),
        None => last,
    };
    if last < first {
        return Ok(BTreeSet::new());
    }
    let days: Vec<(i64,)> = tx
        .all(
            sql("SELECT day FROM support_day_state WHERE built = TRUE AND day >= $1 AND day <= $2")
                .bind(first)
                .bind(last),
        )
        .await?;
    Ok(days.into_iter().map(|(d,)| d).collect())
}

/// One row of `support_days` to write.
struct NewRow {
    dimension: &'static str,
    key: String,
    sums: Sums,
    customers: Vec<u8>,
    repeat_customers: Vec<u8>,
    first_replies: Vec<u8>,
}

/// Builds one day's rows (see [`SlicedBuild`]); false when the day was
/// marked again meanwhile (the next pass builds it).
async fn build_day(db: &crate::Db, day: i64, tz: &TimeZone) -> Result<bool, StoreError> {
    let build = SlicedBuild::begin(db, Span::SupportDay, day, &["support_days"]).await?;
    let days = Midnights::new(day, day, tz);
    let (lo, hi) = days.span();
    let facts: Vec<Facts> = db.all(sql(FACTS_QUERY).bind(lo).bind(hi)).await?;
    let mut sums: BTreeMap<(&'static str, &str), Sums> = BTreeMap::new();
    for f in &facts {
        for (at, part) in f.parts() {
            if days.day(at).is_none() {
                continue;
            }
            for dimension in DIMENSIONS {
                sums.entry((dimension, f.key(dimension)))
                    .or_default()
                    .add(&part);
            }
        }
    }
    let rows: Vec<NewRow> = sums
        .into_iter()
        .map(|((dimension, key), mut sums)| NewRow {
            dimension,
            key: key.to_owned(),
            customers: encode_distinct(&mut sums.customers),
            repeat_customers: encode_distinct(&mut sums.repeat_customers),
            first_replies: encode(&mut sums.first_replies),
            sums,
        })
        .collect();
    Ok(build
        .write(
            db,
            "INSERT INTO support_days (dimension, day, group_key, cases, lone_customers, lone_repeat, \
             resolved, fcr, first_due, first_met, resolution_due, resolution_met, csat_answers, csat_top2, \
             resolved_contacted, customers, repeat_customers, first_replies) VALUES",
            18,
            &rows,
            |q: &mut Sql, r| {
                let s = &r.sums;
                q.push_arg(r.dimension);
                q.push_arg(day);
                q.push_arg(r.key.as_str());
                for n in s.n.values() {
                    q.push_arg(n);
                }
                for bytes in [&r.customers, &r.repeat_customers, &r.first_replies] {
                    q.push_arg(Arg::Bytes(Some(bytes.clone())));
                }
            },
        )
        .await?
        && build.finish(db).await?)
}

/// A list with each value once, encoded.
fn encode_distinct(values: &mut Vec<u64>) -> Vec<u8> {
    values.sort_unstable();
    values.dedup();
    encode(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_come_back_as_written() {
        let mut values = vec![u64::MAX, 0, 5, 5, 1 << 40, 127, 128, 300_000];
        let bytes = encode(&mut values);
        let mut back = Vec::new();
        decode(&bytes, &mut back).unwrap();
        assert_eq!(back, values);
        assert!(decode(&[0x80], &mut back).is_err(), "cut short");
        // Close values cost a byte or two each.
        let mut close: Vec<u64> = (0..1000).map(|i| 60_000 + i * 50).collect();
        assert!(encode(&mut close).len() < 1100);
    }

    #[test]
    fn the_median_is_the_middle_or_the_mean_of_the_middle_two() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [7]), Some(7));
        assert_eq!(median(&mut [9, 1, 4]), Some(4));
        assert_eq!(median(&mut [10, 1, 4, 7]), Some(5));
    }

    fn facts(phone: Option<&str>, contacts: i64) -> Facts {
        Facts {
            line: "customers".into(),
            channel: "chat".into(),
            operator: String::new(),
            category: "late".into(),
            customer_phone: phone.map(str::to_owned),
            contacts,
            repeat_of: None,
            repeated_at: None,
            created_at: 1_000,
            resolved_at: Some(5_000),
            first_response_due_at: Some(2_000),
            first_response_met: Some(true),
            resolution_due_at: None,
            resolution_met: None,
            first_response_at: Some(1_500),
            first_response_ms: Some(500),
            csat: Some(2),
            csat_at: Some(6_000),
        }
    }

    #[test]
    fn customers_are_counted_once_and_a_case_without_a_phone_is_its_own() {
        let mut sums = Sums::default();
        let mut twice = facts(Some("+79990000001"), 2);
        twice.resolved_at = None;
        for f in [
            facts(Some("+79990000001"), 1),
            twice,
            facts(None, 1),
            facts(None, 0),
        ] {
            for (_, p) in f.parts() {
                sums.add(&p);
            }
        }
        let c = sums.counts();
        assert_eq!((c.cases, c.customers, c.repeat_customers), (4, 2, 1));
        assert_eq!(
            (c.resolved, c.fcr),
            (3, 2),
            "a case without contacts is not an FCR"
        );
        assert_eq!((c.first_response_due, c.first_response_met), (4, 4));
        assert_eq!(c.median_first_response_ms, Some(500));
        assert_eq!((c.csat_answers, c.csat_top2), (4, 0));
    }

    #[test]
    fn an_instant_finds_its_local_day_across_a_clock_change() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        // 25–27 October 2026: the clocks go back on the 25th.
        let first = doorstep_domain::time::day_number(jiff::civil::date(2026, 10, 24));
        let days = Midnights::new(first, first + 2, &tz);
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
        assert_eq!(days.day(at("2026-10-24T21:59:59Z")), Some(first));
        assert_eq!(days.day(at("2026-10-24T22:00:00Z")), Some(first + 1));
        assert_eq!(days.day(at("2026-10-25T22:59:59Z")), Some(first + 1));
        assert_eq!(days.day(at("2026-10-25T23:00:00Z")), Some(first + 2));
        assert_eq!(days.day(at("2026-10-27T23:00:00Z")), None);
        assert_eq!(days.day(at("2026-10-23T21:59:59Z")), None);
        let periods = SupportGroups::Periods(vec![(first, first), (first + 1, first + 2)]);
        assert_eq!(periods.group(first + 2, "x").as_deref(), Some("1"));
        assert_eq!(periods.group(first + 3, "x"), None);
    }
}

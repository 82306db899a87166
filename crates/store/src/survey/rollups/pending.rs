//! Pending increments: each transaction that stores responses writes its
//! rollup increments as one compact row, folded into the daily rows soon
//! after by one folder at a time, so that concurrent writers never wait
//! for each other on a hot daily row.

use std::collections::BTreeMap;

use doorstep_domain::survey::metrics::{Facts, Tally, TALLY_BYTES};
use doorstep_domain::survey::ResponseStatus;

use crate::db::{sql, Arg, Backend, Tx};
use crate::{Store, StoreError};

use super::{mark_late_weeks, new_generation, push_tally, RollupKey};

/// A row of `rollup_days`: day, month, survey, city, partner, segment, channel.
pub(super) type DayKey = (i64, i64, String, String, String, String, String);

/// A row of `rollup_courier_days`: courier, day, month, city, survey,
/// partner, segment, channel.
pub(super) type CourierKey = (String, i64, i64, String, String, String, String, String);

/// Rollup increments gathered in memory, written in one go.
#[derive(Default)]
pub struct Deltas {
    pub(super) days: BTreeMap<DayKey, Tally>,
    pub(super) couriers: BTreeMap<CourierKey, Tally>,
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
                .entry((
                    courier.clone(),
                    key.day,
                    key.month,
                    key.city.clone(),
                    key.survey_id.clone(),
                    key.partner.clone(),
                    key.segment.clone(),
                    key.channel.clone(),
                ))
                .or_default()
                .add(status, f);
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.days.is_empty() && self.couriers.is_empty()
    }

    /// Rollup rows these increments touch.
    pub(super) fn len(&self) -> usize {
        self.days.len() + self.couriers.len()
    }

    /// Marks the ended weeks these increments fall in as not built: see
    /// [`mark_late_weeks`].
    pub async fn mark_late_weeks(&self, tx: &mut Tx<'_>, now_ms: i64) -> Result<(), StoreError> {
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
    pub async fn write(&self, tx: &mut Tx<'_>) -> Result<(), StoreError> {
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
    pub(super) fn merge(&mut self, other: Deltas) {
        for (k, t) in other.days {
            self.days.entry(k).or_default().merge(&t);
        }
        for (k, t) in other.couriers {
            self.couriers.entry(k).or_default().merge(&t);
        }
    }

    /// The increments as bytes: a format version (2), then the rows of each
    /// cut — their count, and for each its key (day and month as 8-byte
    /// little-endian integers, names as a 4-byte length and UTF-8) and its
    /// tally (see [`put_tally`]).
    pub(super) fn to_bytes(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(5 + (self.days.len() + self.couriers.len()) * (TALLY_BYTES + 64));
        out.push(2);
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
        for ((courier, day, month, city, survey, partner, segment, channel), t) in &self.couriers {
            put_str(&mut out, courier);
            out.extend_from_slice(&day.to_le_bytes());
            out.extend_from_slice(&month.to_le_bytes());
            for s in [city, survey, partner, segment, channel] {
                put_str(&mut out, s);
            }
            put_tally(&mut out, t);
        }
        out
    }

    /// The increments [`Deltas::to_bytes`] wrote; `None` for anything else.
    pub(super) fn from_bytes(bytes: &[u8]) -> Option<Deltas> {
        let mut b = Bytes(bytes);
        if b.take(1)? != [2] {
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
            let key = (
                b.string()?,
                b.i64()?,
                b.i64()?,
                b.string()?,
                b.string()?,
                b.string()?,
                b.string()?,
                b.string()?,
            );
            out.couriers.insert(key, b.tally()?);
        }
        b.0.is_empty().then_some(out)
    }

    /// Adds the increments to the daily rows (keys in a fixed order, so that
    /// concurrent writers never wait on each other in a cycle).
    pub(super) async fn apply(&self, tx: &mut Tx<'_>) -> Result<(), StoreError> {
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
                "INSERT INTO rollup_courier_days (courier_id, day, month, city, survey_id, partner, segment, channel, {}) VALUES",
                names.join(", ")
            ),
            8 + Tally::COUNTERS.len(),
            &format!(
                "ON CONFLICT (courier_id, day, city, survey_id, partner, segment, channel) DO UPDATE SET {}",
                set("rollup_courier_days")
            ),
            &couriers,
            |q, ((courier, day, month, city, survey, partner, segment, channel), t)| {
                q.push_arg(courier.as_str());
                q.push_arg(*day);
                q.push_arg(*month);
                for s in [city, survey, partner, segment, channel] {
                    q.push_arg(s.as_str());
                }
                push_tally(q, t);
            },
        )
        .await?;
        Ok(())
    }
}

pub(super) fn put_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

/// A tally as the 8-byte words of [`Tally::to_bytes`] that are not zero,
/// after a 4-byte mask of which they are: a batch's tallies are mostly
/// zeros (one response has no CES, or no CSAT, …).
pub(super) fn put_tally(out: &mut Vec<u8>, t: &Tally) {
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

pub(super) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// Reads what [`Deltas::to_bytes`] wrote, front to back.
pub(super) struct Bytes<'a>(&'a [u8]);

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

    pub(super) fn len(&mut self) -> Option<usize> {
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
pub(super) const FOLD_ROWS: i64 = 1000;

/// Pending rows folded by one transaction of [`Store::fold_pending`]: a
/// few, so that it holds the writer for milliseconds. A hundred rows of a
/// busy second (each a shared commit's increments, over many days and
/// couriers) took SQLite's writer for 60–110 ms in one transaction, and
/// every answer waited that long.
const FOLD_SLICE_ROWS: i64 = 16;

/// Folds pending increments ([`Deltas::write`]) into the daily rows and
/// deletes them, in `tx`: up to `limit` of them; returns how many.
/// On PostgreSQL the pending rows are locked as they are read, so two
/// transactions folding at once never count one twice (the second waits,
/// then finds them gone).
pub(crate) async fn fold_pending(tx: &mut Tx<'_>, limit: i64) -> Result<usize, StoreError> {
    let lock = match tx.backend() {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    };
    let rows: Vec<(i64, Vec<u8>)> = tx
        .all(
            sql(format!(
                "SELECT id, deltas FROM rollup_pending ORDER BY id LIMIT $1{lock}"
            ))
            .bind(limit),
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
pub(crate) async fn fold_all_pending(tx: &mut Tx<'_>) -> Result<(), StoreError> {
    while fold_pending(tx, FOLD_ROWS).await? > 0 {}
    Ok(())
}

impl Store {
    /// Folds the pending rollup increments into the daily rows (see
    /// [`Deltas::write`]), a short transaction per few of them, until none
    /// is left (a slice finds fewer than it takes); returns how many.
    pub async fn fold_pending(&self) -> Result<usize, StoreError> {
        fold_pending_sliced(&self.db).await
    }
}

/// [`Store::fold_pending`].
pub(crate) async fn fold_pending_sliced(db: &crate::Db) -> Result<usize, StoreError> {
    let any: Option<(i64,)> = db.opt(sql("SELECT id FROM rollup_pending LIMIT 1")).await?;
    if any.is_none() {
        return Ok(0);
    }
    let mut folded = 0;
    loop {
        let mut tx = db.begin().await?;
        let n = fold_pending(&mut tx, FOLD_SLICE_ROWS).await?;
        tx.commit().await?;
        folded += n;
        if n < usize::try_from(FOLD_SLICE_ROWS).unwrap_or(usize::MAX) {
            return Ok(folded);
        }
    }
}

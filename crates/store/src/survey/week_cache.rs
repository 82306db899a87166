//! Built weeks' rollup rows, held in memory. A built week never changes: an
//! answer arriving late for it marks it not built (its daily rows answer
//! for it meanwhile), and building it again gives it a new generation. So a
//! week's rows read once are good for as long as the database reports the
//! same generation for it — also when another Doorstep process built it.
//! A year by courier then reads 52 small state rows instead of 26,000
//! rollup rows, each of which costs a database driver far more to hand over
//! than to add up here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use doorstep_domain::survey::metrics::Tally;

use crate::survey::rollups::{GroupBy, GroupKey, MetricsFilter};

/// Rows kept at most (about 350 bytes each, so some 140 MB): a year of 500
/// couriers in 10 cities with three partners each is some 85,000 rows of
/// the four cuts, so this holds years of a large fleet; the weeks used
/// least recently go first.
const MAX_ROWS: usize = 400_000;
/// For the latest built days (up to two weeks' worth: the days of the weeks
/// not built yet), whose delivery rows are the most numerous.
pub(crate) const MAX_DAY_ROWS: usize = 200_000;

/// One weekly row, of any cut (the columns a cut lacks are empty: the
/// summed courier cut has no survey, partner, segment or channel, the
/// dimensions cut no courier; the delivery cut counts deliveries, not
/// answers).
#[derive(Debug, Clone, Default)]
pub(crate) struct WeekRow {
    pub courier_id: String,
    pub survey_id: String,
    pub city: String,
    pub partner: String,
    pub segment: String,
    pub channel: String,
    /// The month (`yyyymm`) the row's days are in: a week spanning two
    /// months has a row for each part.
    pub month: i64,
    pub tally: Tally,
    pub delivered: i64,
    pub on_time: i64,
}

impl WeekRow {
    /// Whether the row passes the filters (as the SQL clause would).
    fn admitted(&self, f: &MetricsFilter) -> bool {
        f.dims.admit(
            Some(&self.courier_id),
            &self.city,
            &self.partner,
            &self.segment,
            &self.survey_id,
            &self.channel,
        )
    }

    /// The row's key in a grouping (as the SQL key of a weekly row reads);
    /// `week` is the week's day number as text.
    fn key(&self, group: GroupBy, week: &str) -> String {
        match group {
            GroupBy::All => String::new(),
            GroupBy::Courier => self.courier_id.clone(),
            GroupBy::City => self.city.clone(),
            GroupBy::Partner => self.partner.clone(),
            GroupBy::Segment => self.segment.clone(),
            GroupBy::Survey => self.survey_id.clone(),
            GroupBy::Channel => self.channel.clone(),
            GroupBy::Month => self.month.to_string(),
            // Weekly rows are never asked for days.
            GroupBy::Week | GroupBy::Day => week.to_owned(),
        }
    }
}

/// Which weekly table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Cut {
    Dimensions,
    /// The courier rows summed over survey, partner, segment and channel:
    /// what a courier grouping or filter reads when no other dimension is
    /// asked (far fewer rows to add up).
    Couriers,
    /// The courier rows whole: a courier together with a survey, partner,
    /// segment or channel.
    CourierDims,
    Deliveries,
    /// The delivery rows summed over partners: a third of the rows to add
    /// up when neither the grouping nor a filter is by partner.
    DeliveriesByCourier,
}

#[derive(Debug)]
struct Entry {
    generation: i64,
    rows: Arc<Vec<WeekRow>>,
    used: u64,
}

#[derive(Debug, Default)]
struct Inner {
    weeks: HashMap<(Cut, i64), Entry>,
    rows: usize,
    clock: u64,
}

/// The cache, shared by every clone of a store.
#[derive(Debug)]
pub(crate) struct WeekCache {
    inner: Mutex<Inner>,
    max_rows: usize,
}

impl Default for WeekCache {
    fn default() -> Self {
        WeekCache::holding(MAX_ROWS)
    }
}

impl WeekCache {
    pub(crate) fn holding(max_rows: usize) -> WeekCache {
        WeekCache {
            inner: Mutex::default(),
            max_rows,
        }
    }

    /// The rows of `week` at `generation`, if held.
    pub fn get(&self, cut: Cut, week: i64, generation: i64) -> Option<Arc<Vec<WeekRow>>> {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.clock += 1;
        let clock = inner.clock;
        let entry = inner.weeks.get_mut(&(cut, week))?;
        if entry.generation != generation {
            return None;
        }
        entry.used = clock;
        Some(Arc::clone(&entry.rows))
    }

    /// Keeps the rows of `week` at `generation`, making room if needed.
    pub fn put(&self, cut: Cut, week: i64, generation: i64, rows: Arc<Vec<WeekRow>>) {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.clock += 1;
        let used = inner.clock;
        let size = rows.len();
        if let Some(old) = inner.weeks.insert(
            (cut, week),
            Entry {
                generation,
                rows,
                used,
            },
        ) {
            inner.rows -= old.rows.len();
        }
        inner.rows += size;
        while inner.rows > self.max_rows && inner.weeks.len() > 1 {
            let Some(oldest) = inner
                .weeks
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| *k)
            else {
                break;
            };
            if let Some(gone) = inner.weeks.remove(&oldest) {
                inner.rows -= gone.rows.len();
            }
        }
    }
}

/// Adds the rows of one week that pass `filter` into `sums`, by key;
/// `add` adds one row into its key's sum.
pub(crate) fn add_week<T: Default>(
    sums: &mut HashMap<GroupKey, T>,
    rows: &[WeekRow],
    week: i64,
    filter: &MetricsFilter,
    group: GroupBy,
    period: Option<GroupBy>,
    add: impl Fn(&mut T, &WeekRow),
) {
    let week = week.to_string();
    for row in rows.iter().filter(|r| r.admitted(filter)) {
        let key = GroupKey {
            key: row.key(group, &week),
            period: period.map(|p| row.key(p, &week)),
        };
        add(sums.entry(key).or_default(), row);
    }
}

#[cfg(test)]
mod tests {
    use super::{Cut, WeekCache, WeekRow};
    use std::sync::Arc;

    fn rows(n: usize) -> Arc<Vec<WeekRow>> {
        Arc::new(vec![WeekRow::default(); n])
    }

    #[test]
    fn a_week_is_served_only_at_its_generation_and_the_least_used_go_first() {
        let cache = WeekCache::holding(10);
        cache.put(Cut::Couriers, 7, 1, rows(4));
        assert_eq!(cache.get(Cut::Couriers, 7, 1).map(|r| r.len()), Some(4));
        assert!(
            cache.get(Cut::Couriers, 7, 2).is_none(),
            "built again since"
        );
        assert!(cache.get(Cut::Dimensions, 7, 1).is_none(), "another cut");
        cache.put(Cut::Couriers, 14, 5, rows(4));
        // Week 7 used last: week 14 goes when a third week overflows.
        assert!(cache.get(Cut::Couriers, 7, 1).is_some());
        cache.put(Cut::Couriers, 21, 9, rows(4));
        assert!(cache.get(Cut::Couriers, 14, 5).is_none());
        assert!(cache.get(Cut::Couriers, 7, 1).is_some());
        assert!(cache.get(Cut::Couriers, 21, 9).is_some());
        // A new generation of a week replaces the old rows.
        cache.put(Cut::Couriers, 7, 2, rows(1));
        assert!(cache.get(Cut::Couriers, 7, 1).is_none());
        assert_eq!(cache.get(Cut::Couriers, 7, 2).map(|r| r.len()), Some(1));
    }
}

//! Survey rollups: additive tallies by local day and dimension, kept by the
//! transaction that stores each response, rebuilt from raw answers on
//! demand, and read by every score the console, the API and reports show.
//! The courier rollup carries every dimension, so a courier together with a
//! partner, segment, survey or channel is counted from rollups too; the
//! recount from the raw answers is what the rebuild and the tests use.
//!
//! - `counters`: the tally's counters as columns (declared once, in
//!   [`doorstep_domain::survey::metrics`]).
//! - `pending`: increments written by each storing transaction, folded
//!   into the daily rows soon after.
//! - `weeks`: weekly rows built from the daily ones once a week has ended.
//! - `reads`: the metrics query and where each of its days is read from.
//! - `raw`: the recount straight from the stored answers.
//! - `rebuild`: the daily rows rebuilt from the raw answers.

mod counters;
mod pending;
mod raw;
mod reads;
mod rebuild;
mod weeks;

use counters::{push_tally, summed_counters, Counters};
use raw::{next_page, response_facts, RawResponse, Reader};

pub(crate) use pending::fold_all_pending;
pub use pending::Deltas;
pub(crate) use reads::{days_query, key_columns};
pub use reads::{GroupBy, GroupKey, MetricsFilter};
pub(crate) use rebuild::{forget_weeks, hold_writers_off};
pub(crate) use weeks::{
    data_days, mark_late_weeks, mark_not_built, new_generation, SlicedBuild, Span,
};

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

/// How a query was answered, for the curious (and the benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Rollup,
    CourierRollup,
}

#[cfg(test)]
mod tests {
    use super::pending::Deltas;
    use super::reads::Plan;
    use super::weeks::week_closed;
    use super::RollupKey;
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
        other[0] = 1;
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
        let k1 = (
            "K-1".to_owned(),
            MON,
            202_511,
            "Москва".to_owned(),
            "door".to_owned(),
            String::new(),
            "new".to_owned(),
            "courier_tablet".to_owned(),
        );
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

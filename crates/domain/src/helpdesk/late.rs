//! Delivery promises kept in the open (METRICS.md, Delivery): how many late
//! orders were told about it before their customer's first contact, and
//! whether the customers told first score better — the NPS of late orders
//! whose customer was told first beside the NPS of those who were not,
//! each with its 95% interval.

use serde::Serialize;

use super::recovery::Share;
use crate::survey::metrics::nps_interval;

/// What is known of one late order for the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LateFacts {
    /// When the proactive notice left; `None`: never told.
    pub told_at: Option<i64>,
    /// The customer's first contact about the order (a case's inbound
    /// contact); `None`: they never got in touch.
    pub first_contact_at: Option<i64>,
    /// The order's NPS answer (0–10).
    pub nps: Option<i64>,
}

impl LateFacts {
    /// Told before their first contact (or told and never in touch).
    pub fn told_first(&self) -> bool {
        match (self.told_at, self.first_contact_at) {
            (Some(told), Some(contact)) => told < contact,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

/// The NPS of a group with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GroupNps {
    pub answers: u64,
    pub nps: Option<f64>,
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
}

impl GroupNps {
    /// From `(score, orders)`: each score given by so many orders.
    fn of(scores: impl Iterator<Item = (i64, u64)>) -> GroupNps {
        let (mut n, mut promoters, mut detractors) = (0i64, 0i64, 0i64);
        for (s, orders) in scores {
            let orders = i64::try_from(orders).unwrap_or(i64::MAX);
            n += orders;
            if s >= 9 {
                promoters += orders;
            } else if s <= 6 {
                detractors += orders;
            }
        }
        let (nps, low, high) = nps_interval(promoters, detractors, n);
        GroupNps {
            answers: n as u64,
            nps,
            ci95_low: low,
            ci95_high: high,
        }
    }
}

/// The figures of a period's late orders.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ToldFirst {
    /// Told first / late orders.
    pub told_first: Share,
    /// The NPS of late orders whose customer was told first.
    pub told_nps: GroupNps,
    /// The NPS of the other late orders.
    pub untold_nps: GroupNps,
}

/// Late orders alike in what the figures ask of them: told first or not,
/// and their NPS answer (the store counts them so).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LateTally {
    pub told_first: bool,
    pub nps: Option<i64>,
    pub orders: u64,
}

impl ToldFirst {
    pub fn of(late: &[LateFacts]) -> ToldFirst {
        let tally: Vec<LateTally> = late
            .iter()
            .map(|l| LateTally {
                told_first: l.told_first(),
                nps: l.nps,
                orders: 1,
            })
            .collect();
        ToldFirst::of_tally(&tally)
    }

    pub fn of_tally(late: &[LateTally]) -> ToldFirst {
        let count = |told: bool| {
            late.iter()
                .filter(|l| l.told_first == told)
                .map(|l| l.orders)
                .sum::<u64>()
        };
        let scores = |told: bool| {
            late.iter()
                .filter(move |l| l.told_first == told)
                .filter_map(|l| Some((l.nps?, l.orders)))
        };
        ToldFirst {
            told_first: Share::new(count(true), count(true) + count(false)),
            told_nps: GroupNps::of(scores(true)),
            untold_nps: GroupNps::of(scores(false)),
        }
    }

    /// Whether the told-first customers' NPS is above the others' beyond
    /// chance: their intervals do not overlap.
    pub fn told_score_better(&self) -> bool {
        matches!(
            (self.told_nps.ci95_low, self.untold_nps.ci95_high),
            (Some(low), Some(high)) if low > high
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn late(told_at: Option<i64>, first_contact_at: Option<i64>, nps: Option<i64>) -> LateFacts {
        LateFacts {
            told_at,
            first_contact_at,
            nps,
        }
    }

    #[test]
    fn told_first_means_before_the_first_contact() {
        assert!(late(Some(10), Some(20), None).told_first());
        assert!(late(Some(10), None, None).told_first());
        // Told after they called, or at the same moment: not first.
        assert!(!late(Some(20), Some(10), None).told_first());
        assert!(!late(Some(10), Some(10), None).told_first());
        assert!(!late(None, Some(10), None).told_first());
        assert!(!late(None, None, None).told_first());
    }

    #[test]
    fn the_figures_by_hand() {
        let rows = [
            late(Some(1), None, Some(10)),
            late(Some(1), Some(5), Some(9)),
            late(Some(1), Some(5), Some(7)),
            late(Some(9), Some(5), Some(3)),
            late(None, Some(5), Some(0)),
            late(None, None, None),
        ];
        let f = ToldFirst::of(&rows);
        assert_eq!((f.told_first.count, f.told_first.of), (3, 6));
        // Told first: 10, 9, 7 → 2 promoters, 0 detractors of 3: +66.7.
        assert_eq!(f.told_nps.answers, 3);
        assert!((f.told_nps.nps.unwrap() - 200.0 / 3.0).abs() < 1e-9);
        // The others: 3 and 0 → two detractors: −100.
        assert_eq!(f.untold_nps.answers, 2);
        assert_eq!(f.untold_nps.nps, Some(-100.0));
        assert!(f.told_nps.ci95_low.is_some());
        assert_eq!(ToldFirst::of(&[]).told_first.percent, None);
    }
}

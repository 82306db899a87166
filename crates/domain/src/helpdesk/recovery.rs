//! Did the loop work? What calling unhappy customers back achieved, as
//! METRICS.md defines it: how soon a dispatcher tried and reached the
//! customer after their answer (median, p90), the share reached within an
//! hour, the recovery rate, and whether recovered customers order again
//! more often than detractors nobody reached (retention after recovery,
//! each share with its 95% interval).

use serde::Serialize;

/// How long after a detractor's answer another order counts as retention.
pub const RETENTION_DAYS: i64 = 60;
const RETENTION_MS: i64 = RETENTION_DAYS * 24 * 3_600_000;
const HOUR_MS: i64 = 3_600_000;

/// What is known of one incident for the figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    pub answered_at: i64,
    pub first_attempt_at: Option<i64>,
    pub reached_at: Option<i64>,
    /// `recovered`, `not_recovered`, `unreachable`, `no_action_needed`,
    /// `case_opened`; `None` while open.
    pub outcome: Option<String>,
    /// The customer's next order after the answer.
    pub next_order_at: Option<i64>,
}

/// A share with its 95% interval (Wilson), in %.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Share {
    pub count: u64,
    pub of: u64,
    pub percent: Option<f64>,
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
}

impl Share {
    pub fn new(count: u64, of: u64) -> Share {
        if of == 0 {
            return Share {
                count,
                of,
                percent: None,
                ci95_low: None,
                ci95_high: None,
            };
        }
        let n = of as f64;
        let p = count as f64 / n;
        let z = 1.96_f64;
        let denominator = 1.0 + z * z / n;
        let centre = (p + z * z / (2.0 * n)) / denominator;
        let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denominator;
        Share {
            count,
            of,
            percent: Some(100.0 * p),
            ci95_low: Some(100.0 * (centre - half).max(0.0)),
            ci95_high: Some(100.0 * (centre + half).min(1.0)),
        }
    }
}

/// The loop's figures for a group of incidents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoopFigures {
    pub incidents: u64,
    /// Answer → first call-back attempt, in seconds.
    pub median_to_attempt_seconds: Option<i64>,
    pub p90_to_attempt_seconds: Option<i64>,
    /// Answer → the first call-back that reached the customer, in seconds.
    pub median_to_reach_seconds: Option<i64>,
    pub p90_to_reach_seconds: Option<i64>,
    /// Incidents whose customer was reached within an hour of answering.
    pub reached_within_hour: Share,
    /// Closed "resolved, customer satisfied" among the closed.
    pub recovery: Share,
    /// Recovered detractors with another order within 60 days (of those
    /// whose 60 days are over).
    pub retention_recovered: Share,
    /// The same for detractors who were never reached.
    pub retention_unreached: Share,
}

/// The `q`-quantile (nearest rank) of sorted values.
fn quantile(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// The figures for `incidents`, as of `now` (retention only counts
/// customers whose 60 days are over).
pub fn figures(incidents: &[IncidentFacts], now: i64) -> LoopFigures {
    let mut to_attempt: Vec<i64> = incidents
        .iter()
        .filter_map(|i| {
            i.first_attempt_at
                .map(|a| (a - i.answered_at).max(0) / 1000)
        })
        .collect();
    let mut to_reach: Vec<i64> = incidents
        .iter()
        .filter_map(|i| i.reached_at.map(|r| (r - i.answered_at).max(0) / 1000))
        .collect();
    to_attempt.sort_unstable();
    to_reach.sort_unstable();
    let within_hour = incidents
        .iter()
        .filter(|i| i.reached_at.is_some_and(|r| r - i.answered_at <= HOUR_MS))
        .count() as u64;
    let closed: Vec<&IncidentFacts> = incidents.iter().filter(|i| i.outcome.is_some()).collect();
    let recovered = closed
        .iter()
        .filter(|i| i.outcome.as_deref() == Some("recovered"))
        .count() as u64;
    let over = |i: &IncidentFacts| i.answered_at + RETENTION_MS <= now;
    let ordered_again = |i: &IncidentFacts| {
        i.next_order_at
            .is_some_and(|n| n > i.answered_at && n <= i.answered_at + RETENTION_MS)
    };
    let recovered_over: Vec<&IncidentFacts> = closed
        .iter()
        .copied()
        .filter(|i| i.outcome.as_deref() == Some("recovered") && over(i))
        .collect();
    let unreached_over: Vec<&IncidentFacts> = incidents
        .iter()
        .filter(|i| i.reached_at.is_none() && i.outcome.is_some() && over(i))
        .collect();
    let again = |list: &[&IncidentFacts]| list.iter().filter(|i| ordered_again(i)).count() as u64;
    LoopFigures {
        incidents: incidents.len() as u64,
        median_to_attempt_seconds: quantile(&to_attempt, 0.5),
        p90_to_attempt_seconds: quantile(&to_attempt, 0.9),
        median_to_reach_seconds: quantile(&to_reach, 0.5),
        p90_to_reach_seconds: quantile(&to_reach, 0.9),
        reached_within_hour: Share::new(within_hour, incidents.len() as u64),
        recovery: Share::new(recovered, closed.len() as u64),
        retention_recovered: Share::new(again(&recovered_over), recovered_over.len() as u64),
        retention_unreached: Share::new(again(&unreached_over), unreached_over.len() as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const DAY: i64 = 24 * 60 * MIN;

    fn incident(
        answered: i64,
        attempt: Option<i64>,
        reached: Option<i64>,
        outcome: Option<&str>,
        next: Option<i64>,
    ) -> IncidentFacts {
        IncidentFacts {
            answered_at: answered,
            first_attempt_at: attempt.map(|m| answered + m * MIN),
            reached_at: reached.map(|m| answered + m * MIN),
            outcome: outcome.map(str::to_owned),
            next_order_at: next.map(|d| answered + d * DAY),
        }
    }

    #[test]
    fn hand_computed_figures() {
        let now = 200 * DAY;
        let list = vec![
            // Reached in 10 min, recovered, ordered again on day 20.
            incident(0, Some(5), Some(10), Some("recovered"), Some(20)),
            // Reached in 90 min, recovered, never ordered again.
            incident(DAY, Some(30), Some(90), Some("recovered"), None),
            // Never reached, ordered again on day 70 (too late to count).
            incident(2 * DAY, Some(20), None, Some("unreachable"), Some(70)),
            // Reached in 40 min, still unhappy.
            incident(3 * DAY, Some(40), Some(40), Some("not_recovered"), Some(5)),
            // Still open, not called yet.
            incident(4 * DAY, None, None, None, None),
        ];
        let f = figures(&list, now);
        assert_eq!(f.incidents, 5);
        // Attempts 5, 20, 30, 40 min: median (nearest rank) 20 min, p90 40.
        assert_eq!(f.median_to_attempt_seconds, Some(20 * 60));
        assert_eq!(f.p90_to_attempt_seconds, Some(40 * 60));
        // Reached 10, 40, 90 min.
        assert_eq!(f.median_to_reach_seconds, Some(40 * 60));
        assert_eq!(f.p90_to_reach_seconds, Some(90 * 60));
        assert_eq!(
            (f.reached_within_hour.count, f.reached_within_hour.of),
            (2, 5)
        );
        assert_eq!((f.recovery.count, f.recovery.of), (2, 4));
        assert_eq!(f.recovery.percent, Some(50.0));
        assert_eq!(
            (f.retention_recovered.count, f.retention_recovered.of),
            (1, 2)
        );
        assert_eq!(
            (f.retention_unreached.count, f.retention_unreached.of),
            (0, 1)
        );
    }

    #[test]
    fn retention_waits_for_the_sixty_days() {
        let list = vec![incident(0, Some(1), Some(1), Some("recovered"), Some(3))];
        let young = figures(&list, 30 * DAY);
        assert_eq!(young.retention_recovered.of, 0, "not over yet");
        assert_eq!(young.retention_recovered.percent, None);
        let old = figures(&list, 61 * DAY);
        assert_eq!(
            (old.retention_recovered.count, old.retention_recovered.of),
            (1, 1)
        );
    }

    #[test]
    fn the_interval_is_wilsons() {
        // 8 of 10: Wilson 95% is 49.0%–94.3% (published tables).
        let s = Share::new(8, 10);
        assert!((s.ci95_low.unwrap() - 49.02).abs() < 0.05, "{s:?}");
        assert!((s.ci95_high.unwrap() - 94.33).abs() < 0.05, "{s:?}");
        let empty = Share::new(0, 0);
        assert_eq!(empty.percent, None);
    }
}

//! Self-filling signals: couriers whose survey answers look as if the
//! courier gave them — surveys far faster than the fleet's, a share of 10s
//! far above it, answers long after the delivery. Each signal says what it
//! saw, what the fleet does, and how unusual that is (a z-score).

/// One courier's pattern over a period (see the store's `courier_patterns`).
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub courier_id: String,
    pub responses: i64,
    pub duration_ms: Option<f64>,
    pub delay_ms: Option<f64>,
    pub nps_n: i64,
    pub tens: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Surveys far shorter than the fleet's.
    Fast,
    /// A share of NPS 10 far above the fleet's.
    Tens,
    /// Surveys started long after the delivery.
    Late,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Fast => "fast",
            Kind::Tens => "tens",
            Kind::Late => "late",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    pub kind: Kind,
    /// The courier's figure (ms for durations and delays, % for 10s).
    pub seen: f64,
    /// The fleet's.
    pub fleet: f64,
    pub z: f64,
}

/// A courier's signals and how strongly they point at self-filling.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub pattern: Pattern,
    pub signals: Vec<Signal>,
    /// The sum of the signals' |z|: the fleet view's order.
    pub score: f64,
    /// Fewer than [`MIN_RESPONSES`] responses: not assessed.
    pub too_few: bool,
}

/// Responses a courier needs in the period to be assessed.
pub const MIN_RESPONSES: i64 = 20;
const Z_FAST: f64 = -3.0;
const Z_LATE: f64 = 3.0;
const Z_TENS: f64 = 3.0;

/// The fleet's centre and spread, robust to the very couriers being looked
/// for: the median, and the median absolute deviation scaled to a standard
/// deviation (the mean and standard deviation when that is zero).
fn centre_spread(values: &[f64]) -> Option<(f64, f64)> {
    if values.len() < 3 {
        return None;
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            f64::midpoint(v[n / 2 - 1], v[n / 2])
        }
    };
    let mut sorted = values.to_vec();
    let centre = median(&mut sorted);
    let mut deviations: Vec<f64> = values.iter().map(|v| (v - centre).abs()).collect();
    let mad = 1.4826 * median(&mut deviations);
    if mad > 0.0 {
        return Some((centre, mad));
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    (sd > 0.0).then_some((centre, sd))
}

/// Assesses every courier against the fleet; strongest signals first.
pub fn assess(patterns: &[Pattern]) -> Vec<Assessment> {
    let assessed: Vec<&Pattern> = patterns
        .iter()
        .filter(|p| p.responses >= MIN_RESPONSES)
        .collect();
    let durations: Vec<f64> = assessed.iter().filter_map(|p| p.duration_ms).collect();
    let delays: Vec<f64> = assessed.iter().filter_map(|p| p.delay_ms).collect();
    let shares: Vec<f64> = assessed
        .iter()
        .filter(|p| p.nps_n > 0)
        .map(|p| p.tens as f64 / p.nps_n as f64)
        .collect();
    let (duration_fleet, delay_fleet, tens_fleet) = (
        centre_spread(&durations),
        centre_spread(&delays),
        centre_spread(&shares),
    );
    let mut out: Vec<Assessment> = patterns
        .iter()
        .map(|p| {
            let too_few = p.responses < MIN_RESPONSES;
            let mut signals = Vec::new();
            if !too_few {
                if let (Some(d), Some((centre, spread))) = (p.duration_ms, duration_fleet) {
                    let z = (d - centre) / spread;
                    if z <= Z_FAST {
                        signals.push(Signal {
                            kind: Kind::Fast,
                            seen: d,
                            fleet: centre,
                            z,
                        });
                    }
                }
                if let (Some(d), Some((centre, spread))) = (p.delay_ms, delay_fleet) {
                    let z = (d - centre) / spread;
                    if z >= Z_LATE {
                        signals.push(Signal {
                            kind: Kind::Late,
                            seen: d,
                            fleet: centre,
                            z,
                        });
                    }
                }
                if let (Some((centre, spread)), true) = (tens_fleet, p.nps_n > 0) {
                    let own = p.tens as f64 / p.nps_n as f64;
                    let z = (own - centre) / spread;
                    if z >= Z_TENS {
                        signals.push(Signal {
                            kind: Kind::Tens,
                            seen: 100.0 * own,
                            fleet: 100.0 * centre,
                            z,
                        });
                    }
                }
            }
            let score = signals.iter().map(|s| s.z.abs()).sum();
            Assessment {
                pattern: p.clone(),
                signals,
                score,
                too_few,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.pattern.responses.cmp(&a.pattern.responses))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn courier(id: &str, duration_s: f64, delay_min: f64, tens: i64) -> Pattern {
        Pattern {
            courier_id: id.to_owned(),
            responses: 100,
            duration_ms: Some(duration_s * 1000.0),
            delay_ms: Some(delay_min * 60_000.0),
            nps_n: 100,
            tens,
        }
    }

    #[test]
    fn a_self_filler_stands_out_and_honest_couriers_do_not() {
        let mut fleet: Vec<Pattern> = (0..20)
            .map(|i| {
                courier(
                    &format!("K-{i}"),
                    90.0 + f64::from(i % 5) * 8.0,
                    2.0 + f64::from(i % 4),
                    30 + i64::from(i % 6),
                )
            })
            .collect();
        fleet.push(courier("K-140", 9.0, 360.0, 100));
        let mut few = courier("K-new", 5.0, 500.0, 5);
        few.responses = 5;
        fleet.push(few);
        let result = assess(&fleet);
        let top = &result[0];
        assert_eq!(top.pattern.courier_id, "K-140");
        let kinds: Vec<Kind> = top.signals.iter().map(|s| s.kind).collect();
        assert!(
            kinds.contains(&Kind::Fast)
                && kinds.contains(&Kind::Tens)
                && kinds.contains(&Kind::Late),
            "{kinds:?}"
        );
        assert!(result
            .iter()
            .filter(|a| a.pattern.courier_id.starts_with("K-") && a.pattern.courier_id != "K-140")
            .all(|a| a.signals.is_empty()));
        let new = result
            .iter()
            .find(|a| a.pattern.courier_id == "K-new")
            .unwrap();
        assert!(
            new.too_few && new.signals.is_empty(),
            "too few responses are not judged"
        );
    }
}

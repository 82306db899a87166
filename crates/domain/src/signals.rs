//! Self-filling signals: couriers whose survey answers look as if the
//! courier gave them — surveys far faster than the fleet's, a share of 10s
//! far above it, answers long after the delivery, the same answers again and
//! again, photos the customer agreed to that never come. Each signal says
//! what it saw, what the fleet does, and how unusual that is (a z-score).

/// One courier's pattern over a period (see the store's `courier_patterns`).
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub courier_id: String,
    pub responses: i64,
    pub duration_ms: Option<f64>,
    pub delay_ms: Option<f64>,
    pub nps_n: i64,
    pub tens: i64,
    /// Completed responses repeating the courier's most frequent answer
    /// sequence of their day (its first not counted), summed over the days.
    pub same_answers: i64,
    /// Responses where the customer agreed to a photo, and those with one.
    pub photos_asked: i64,
    pub photos_taken: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Surveys far shorter than the fleet's.
    Fast,
    /// A share of NPS 10 far above the fleet's.
    Tens,
    /// Surveys started long after the delivery.
    Late,
    /// The same answers, tap for tap, far more often than the fleet's.
    Same,
    /// Photos agreed to but not taken, far more often than in the fleet.
    NoPhotos,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Fast => "fast",
            Kind::Tens => "tens",
            Kind::Late => "late",
            Kind::Same => "same",
            Kind::NoPhotos => "no_photos",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    pub kind: Kind,
    /// The courier's figure (ms for durations and delays, % for shares).
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
const Z_SAME: f64 = 3.0;
const Z_NO_PHOTOS: f64 = -3.0;
/// Photo consents a courier needs before photos never taken can be judged.
pub const MIN_PHOTOS_ASKED: i64 = 5;
/// The least spread assumed for the photo share: where the whole fleet takes
/// every photo, one missing photo is not "infinitely" unusual.
const PHOTO_SPREAD_FLOOR: f64 = 0.05;

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

/// A signal of `kind` when the courier's `own` figure lies `limit` robust
/// deviations or more from the fleet's centre, on the side of the limit's
/// sign; `scale` turns shares into % for showing.
fn signal(
    kind: Kind,
    own: Option<f64>,
    fleet: Option<(f64, f64)>,
    limit: f64,
    scale: f64,
) -> Option<Signal> {
    let (own, (centre, spread)) = (own?, fleet?);
    let z = (own - centre) / spread;
    let beyond = if limit < 0.0 { z <= limit } else { z >= limit };
    beyond.then_some(Signal {
        kind,
        seen: scale * own,
        fleet: scale * centre,
        z,
    })
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
    let same: Vec<f64> = assessed
        .iter()
        .map(|p| p.same_answers as f64 / p.responses as f64)
        .collect();
    let photo_share = |p: &Pattern| p.photos_taken as f64 / p.photos_asked as f64;
    let photos: Vec<f64> = assessed
        .iter()
        .filter(|p| p.photos_asked >= MIN_PHOTOS_ASKED)
        .map(|p| photo_share(p))
        .collect();
    let (duration_fleet, delay_fleet, tens_fleet, same_fleet) = (
        centre_spread(&durations),
        centre_spread(&delays),
        centre_spread(&shares),
        centre_spread(&same),
    );
    let photo_fleet = centre_spread(&photos)
        .map(|(c, s)| (c, s.max(PHOTO_SPREAD_FLOOR)))
        .or_else(|| {
            // Everyone alike (no spread at all): the floor is the spread.
            (photos.len() >= 3).then(|| (photos[0], PHOTO_SPREAD_FLOOR))
        });
    let mut out: Vec<Assessment> = patterns
        .iter()
        .map(|p| {
            let too_few = p.responses < MIN_RESPONSES;
            let signals: Vec<Signal> = if too_few {
                Vec::new()
            } else {
                [
                    signal(Kind::Fast, p.duration_ms, duration_fleet, Z_FAST, 1.0),
                    signal(Kind::Late, p.delay_ms, delay_fleet, Z_LATE, 1.0),
                    signal(
                        Kind::Tens,
                        (p.nps_n > 0).then(|| p.tens as f64 / p.nps_n as f64),
                        tens_fleet,
                        Z_TENS,
                        100.0,
                    ),
                    signal(
                        Kind::Same,
                        Some(p.same_answers as f64 / p.responses as f64),
                        same_fleet,
                        Z_SAME,
                        100.0,
                    ),
                    signal(
                        Kind::NoPhotos,
                        (p.photos_asked >= MIN_PHOTOS_ASKED).then(|| photo_share(p)),
                        photo_fleet,
                        Z_NO_PHOTOS,
                        100.0,
                    ),
                ]
                .into_iter()
                .flatten()
                .collect()
            };
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
            same_answers: 10,
            photos_asked: 10,
            photos_taken: 9,
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
        for (i, c) in fleet.iter_mut().enumerate() {
            c.same_answers = 8 + (i % 7) as i64;
            c.photos_taken = 8 + (i % 3) as i64;
        }
        let mut filler = courier("K-140", 9.0, 360.0, 100);
        filler.same_answers = 95;
        filler.photos_taken = 0;
        fleet.push(filler);
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
                && kinds.contains(&Kind::Late)
                && kinds.contains(&Kind::Same)
                && kinds.contains(&Kind::NoPhotos),
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

    #[test]
    fn photos_are_judged_only_after_enough_consents_even_when_the_fleet_never_misses() {
        let mut fleet: Vec<Pattern> = (0..10)
            .map(|i| {
                let mut c = courier(&format!("K-{i}"), 90.0, 3.0, 30);
                c.photos_taken = c.photos_asked;
                c
            })
            .collect();
        let mut skips = courier("K-skip", 90.0, 3.0, 30);
        skips.photos_taken = 0;
        let mut rare = courier("K-rare", 90.0, 3.0, 30);
        rare.photos_asked = 2;
        rare.photos_taken = 0;
        fleet.extend([skips, rare]);
        let result = assess(&fleet);
        assert_eq!(result[0].pattern.courier_id, "K-skip");
        assert_eq!(result[0].signals[0].kind, Kind::NoPhotos);
        assert!((result[0].signals[0].fleet - 100.0).abs() < 1e-9);
        let rare = result
            .iter()
            .find(|a| a.pattern.courier_id == "K-rare")
            .unwrap();
        assert!(rare.signals.is_empty(), "two consents say too little");
    }
}

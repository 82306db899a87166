//! Self-filling signals: couriers whose survey answers look as if the
//! courier gave them — surveys far faster than the fleet's, a share of 10s
//! far above it, answers long after the delivery, the same answers again and
//! again, photos the customer agreed to that never come, conversations the
//! customer agreed to record that were not (or only for a moment). Each signal says
//! what it saw, what the fleet does, and how unusual that is (a z-score).

/// One courier's pattern over a period (see the store's `courier_patterns`).
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub courier_id: String,
    pub responses: i64,
    pub duration_ms: Option<f64>,
    pub delay_ms: Option<f64>,
    /// Responses with a delivery time, which the delay rests on.
    pub delay_n: i64,
    pub nps_n: i64,
    pub tens: i64,
    /// Completed responses repeating the courier's most frequent answer
    /// sequence of their day (its first not counted), summed over the days.
    pub same_answers: i64,
    /// Responses where the customer agreed to a photo, and those with one.
    pub photos_asked: i64,
    pub photos_taken: i64,
    /// Completed responses where the customer agreed to a recording of the
    /// conversation, and those with a recording at least half as long as
    /// the survey.
    pub recordings_agreed: i64,
    pub recordings_kept: i64,
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
    /// Recordings agreed to but missing or far shorter than the survey, far
    /// more often than in the fleet.
    NoRecordings,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Fast => "fast",
            Kind::Tens => "tens",
            Kind::Late => "late",
            Kind::Same => "same",
            Kind::NoPhotos => "no_photos",
            Kind::NoRecordings => "no_recordings",
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
const Z_NO_RECORDINGS: f64 = -3.0;
/// Photo consents a courier needs before photos never taken can be judged.
pub const MIN_PHOTOS_ASKED: i64 = 5;
/// Recording consents a courier needs before missing recordings can be judged.
pub const MIN_RECORDINGS_AGREED: i64 = 5;
/// The least spread of one answer assumed for a share: where the whole
/// fleet takes every photo, one missing photo is not "infinitely" unusual
/// (0.2 is a single answer's spread at a share of 96%).
const SHARE_SPREAD_FLOOR: f64 = 0.2;

/// How far a courier's figure must lie from the fleet's to matter at all,
/// however sure the statistics: a courier a few seconds quicker than the
/// rest over a thousand surveys is unusual, not suspicious.
fn material(kind: Kind, own: f64, fleet: f64) -> bool {
    match kind {
        // At most 70% of the fleet's survey time.
        Kind::Fast => own <= 0.7 * fleet,
        // Twice the fleet's wait, and ten minutes more than it.
        Kind::Late => own >= 2.0 * fleet && own - fleet >= 600_000.0,
        // 20 percentage points more 10s.
        Kind::Tens => own - fleet >= 0.20,
        // One survey in ten more repeating the day's answers.
        Kind::Same => own - fleet >= 0.10,
        // Photos (recordings) missing in 20 percentage points more of the
        // consents.
        Kind::NoPhotos | Kind::NoRecordings => fleet - own >= 0.20,
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    }
}

/// The fleet's centre and the spread of a single answer about it, from each
/// assessed courier's figure `x` over `n` answers. The centre is the median
/// figure; a courier's figure wanders from it by chance as `1/√n`, so the
/// deviations are scaled by `√n` (a funnel plot's view) and their spread
/// is the median absolute deviation, scaled to a standard deviation (the
/// standard deviation where that is zero) — robust to the very couriers
/// being looked for, and fair to couriers with few answers, whose figures
/// wander more.
fn fleet(values: &[(f64, i64)], floor: f64) -> Option<(f64, f64)> {
    if values.len() < 3 {
        return None;
    }
    let centre = median(&mut values.iter().map(|v| v.0).collect::<Vec<_>>());
    let scaled: Vec<f64> = values
        .iter()
        .map(|&(x, n)| (x - centre) * (n as f64).sqrt())
        .collect();
    let mad = 1.4826 * median(&mut scaled.iter().map(|d| d.abs()).collect::<Vec<_>>());
    let spread = if mad > 0.0 {
        mad
    } else {
        let k = scaled.len() as f64;
        let mean = scaled.iter().sum::<f64>() / k;
        (scaled.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (k - 1.0)).sqrt()
    };
    let spread = spread.max(floor);
    (spread > 0.0).then_some((centre, spread))
}

/// One measure a courier is judged by: the figure and how many answers it
/// rests on, where the courier has one.
type Measure = fn(&Pattern) -> Option<(f64, i64)>;

fn duration(p: &Pattern) -> Option<(f64, i64)> {
    p.duration_ms.map(|d| (d, p.responses))
}

fn delay(p: &Pattern) -> Option<(f64, i64)> {
    p.delay_ms.map(|d| (d, p.delay_n))
}

fn tens(p: &Pattern) -> Option<(f64, i64)> {
    (p.nps_n > 0).then(|| (p.tens as f64 / p.nps_n as f64, p.nps_n))
}

fn same(p: &Pattern) -> Option<(f64, i64)> {
    (p.responses > 0).then(|| (p.same_answers as f64 / p.responses as f64, p.responses))
}

fn photos(p: &Pattern) -> Option<(f64, i64)> {
    (p.photos_asked >= MIN_PHOTOS_ASKED).then(|| {
        (
            p.photos_taken as f64 / p.photos_asked as f64,
            p.photos_asked,
        )
    })
}

fn recordings(p: &Pattern) -> Option<(f64, i64)> {
    (p.recordings_agreed >= MIN_RECORDINGS_AGREED).then(|| {
        (
            p.recordings_kept as f64 / p.recordings_agreed as f64,
            p.recordings_agreed,
        )
    })
}

/// Each signal: its kind, its measure, the z it must reach (its sign the
/// side), the least spread of one answer, and the scale for showing (% for
/// shares).
const SIGNALS: [(Kind, Measure, f64, f64, f64); 6] = [
    (Kind::Fast, duration, Z_FAST, 0.0, 1.0),
    (Kind::Late, delay, Z_LATE, 0.0, 1.0),
    (Kind::Tens, tens, Z_TENS, SHARE_SPREAD_FLOOR, 100.0),
    (Kind::Same, same, Z_SAME, SHARE_SPREAD_FLOOR, 100.0),
    (
        Kind::NoPhotos,
        photos,
        Z_NO_PHOTOS,
        SHARE_SPREAD_FLOOR,
        100.0,
    ),
    (
        Kind::NoRecordings,
        recordings,
        Z_NO_RECORDINGS,
        SHARE_SPREAD_FLOOR,
        100.0,
    ),
];

/// Assesses every courier against the fleet; strongest signals first. A
/// signal needs both: a figure `limit` spreads or more from the fleet's
/// centre for the answers it rests on, and a difference that matters.
pub fn assess(patterns: &[Pattern]) -> Vec<Assessment> {
    let assessed: Vec<&Pattern> = patterns
        .iter()
        .filter(|p| p.responses >= MIN_RESPONSES)
        .collect();
    let fleets: Vec<Option<(f64, f64)>> = SIGNALS
        .iter()
        .map(|&(_, measure, _, floor, _)| {
            let values: Vec<(f64, i64)> = assessed.iter().filter_map(|p| measure(p)).collect();
            fleet(&values, floor)
        })
        .collect();
    let mut out: Vec<Assessment> = patterns
        .iter()
        .map(|p| {
            let too_few = p.responses < MIN_RESPONSES;
            let signals: Vec<Signal> = if too_few {
                Vec::new()
            } else {
                SIGNALS
                    .iter()
                    .zip(&fleets)
                    .filter_map(|(&(kind, measure, limit, _, scale), fleet)| {
                        let ((own, n), (centre, spread)) = (measure(p)?, (*fleet)?);
                        let z = (own - centre) * (n as f64).sqrt() / spread;
                        let beyond = if limit < 0.0 { z <= limit } else { z >= limit };
                        (beyond && material(kind, own, centre)).then_some(Signal {
                            kind,
                            seen: scale * own,
                            fleet: scale * centre,
                            z,
                        })
                    })
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
            delay_n: 100,
            nps_n: 100,
            tens,
            same_answers: 10,
            photos_asked: 10,
            photos_taken: 9,
            recordings_agreed: 10,
            recordings_kept: 10,
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
            c.recordings_kept = 9 + (i % 2) as i64;
        }
        let mut filler = courier("K-140", 9.0, 360.0, 100);
        filler.same_answers = 95;
        filler.photos_taken = 0;
        filler.recordings_kept = 1;
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
                && kinds.contains(&Kind::NoPhotos)
                && kinds.contains(&Kind::NoRecordings),
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

    #[test]
    fn a_few_answers_wander_by_chance_and_are_not_signals() {
        // Big couriers, 400 answers each, 26–34% of them 10s (as chance
        // spreads a 30% share over 400 answers).
        let mut fleet: Vec<Pattern> = (0..20)
            .map(|i| {
                let mut c = courier(&format!("K-{i}"), 100.0, 2.0, 0);
                c.responses = 400;
                c.nps_n = 400;
                c.tens = 104 + 8 * i64::from(i % 5);
                c
            })
            .collect();
        // 11 of 20 is 25 points more — and well within chance for 20 answers.
        let mut small = courier("K-small", 100.0, 2.0, 11);
        small.responses = 20;
        small.delay_n = 20;
        small.nps_n = 20;
        small.same_answers = 0;
        // The same share over 400 answers is not chance.
        let mut big = courier("K-big", 100.0, 2.0, 220);
        big.responses = 400;
        big.nps_n = 400;
        fleet.extend([small, big]);
        let result = assess(&fleet);
        let find = |id: &str| result.iter().find(|a| a.pattern.courier_id == id).unwrap();
        assert!(find("K-small").signals.is_empty(), "{:?}", find("K-small"));
        assert_eq!(find("K-big").signals.len(), 1, "{:?}", find("K-big"));
        assert_eq!(find("K-big").signals[0].kind, Kind::Tens);
        assert!((find("K-big").signals[0].seen - 55.0).abs() < 1e-9);
    }

    #[test]
    fn a_difference_too_small_to_matter_is_not_a_signal_however_sure() {
        let mut fleet: Vec<Pattern> = (0..20)
            .map(|i| {
                let mut c = courier(&format!("K-{i}"), 99.0 + f64::from(i % 3), 2.0, 30);
                c.responses = 1000;
                c
            })
            .collect();
        // 10% quicker over 1000 surveys: far beyond chance, yet no lead.
        let mut brisk = courier("K-brisk", 90.0, 2.0, 30);
        brisk.responses = 1000;
        // 40% quicker is.
        let mut rushed = courier("K-rushed", 60.0, 2.0, 30);
        rushed.responses = 1000;
        fleet.extend([brisk, rushed]);
        let result = assess(&fleet);
        assert_eq!(result[0].pattern.courier_id, "K-rushed");
        assert_eq!(result[0].signals[0].kind, Kind::Fast);
        let brisk = result
            .iter()
            .find(|a| a.pattern.courier_id == "K-brisk")
            .unwrap();
        assert!(brisk.signals.is_empty(), "{brisk:?}");
    }
}

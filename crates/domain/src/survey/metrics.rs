//! The survey scores of METRICS.md, in two steps: what one response
//! contributes ([`Facts`], worked out once when it arrives, from the survey
//! version it answered), and additive tallies of those facts ([`Tally`]),
//! which sum across responses, days and groups in any order. Scores are
//! computed from a tally only, so a rollup and a direct count over raw
//! answers give the same figures.

use serde::Serialize;

use crate::survey::{CheckedAnswer, Measure, QuestionType, ResponseStatus, SurveyDefinition};

/// What one response contributes to the scores.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Facts {
    /// The NPS answer, 0–10.
    pub nps: Option<u8>,
    /// CSI answers: how many, their sum on the survey's scale, and their
    /// sum normalised to 0–100.
    pub csi_n: u32,
    pub csi_sum: f64,
    pub csi_norm_sum: f64,
    /// The weighted mean of the factor scores, 0–100, when factors were rated.
    pub csi_weighted: Option<f64>,
    /// The lowest CSI or CSAT answer: its value and its scale's ends (the
    /// call-back queue takes low ratings no alert rule caught).
    pub lowest_rating: Option<Rating>,
    /// CSAT answers and how many were in the scale's top two points.
    pub csat_n: u32,
    pub csat_top2: u32,
    /// CES answers, their sum, and how many were "easy" (the top two points
    /// of a 1–7 scale: 6–7) or "hard" (the bottom three: 1–3).
    pub ces_n: u32,
    pub ces_sum: f64,
    pub ces_easy: u32,
    pub ces_hard: u32,
}

/// One rating answer on its scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rating {
    pub value: f64,
    pub min: f64,
    pub max: f64,
}

impl Rating {
    /// Where it lies on its scale, 0–100.
    pub fn norm(&self) -> f64 {
        if self.max > self.min {
            100.0 * (self.value - self.min) / (self.max - self.min)
        } else {
            0.0
        }
    }
}

/// Works out a response's facts from its checked answers and the survey
/// version they answered.
pub fn facts(survey: &SurveyDefinition, answers: &[CheckedAnswer]) -> Facts {
    let mut f = Facts::default();
    let mut weighted = (0.0_f64, 0.0_f64);
    for a in answers {
        let Some(q) = survey.question(&a.question_id) else {
            continue;
        };
        let Some(value) = a.number else {
            continue;
        };
        match q.kind {
            QuestionType::Nps => {
                // Checked to be a whole number 0–10 on the way in.
                f.nps = Some(value.clamp(0.0, 10.0) as u8);
            }
            QuestionType::Scale => {
                let (min, max) = (q.min.unwrap_or(1) as f64, q.max.unwrap_or(5) as f64);
                let norm = if max > min {
                    100.0 * (value - min) / (max - min)
                } else {
                    0.0
                };
                let measure = q.measures.as_deref().and_then(Measure::parse);
                if matches!(measure, Some(Measure::Csi | Measure::Csat)) {
                    let rating = Rating { value, min, max };
                    if f.lowest_rating.is_none_or(|r| rating.norm() < r.norm()) {
                        f.lowest_rating = Some(rating);
                    }
                }
                match measure {
                    Some(Measure::Csi) => {
                        f.csi_n += 1;
                        f.csi_sum += value;
                        f.csi_norm_sum += norm;
                    }
                    Some(Measure::Csat) => {
                        f.csat_n += 1;
                        f.csat_top2 += u32::from(value >= max - 1.0);
                    }
                    Some(Measure::Ces) => {
                        f.ces_n += 1;
                        f.ces_sum += value;
                        // On 1–7: 6–7 easy, 1–3 hard; other scales keep the
                        // same places (top two points, bottom three).
                        f.ces_easy += u32::from(value >= max - 1.0);
                        f.ces_hard += u32::from(value <= min + 2.0);
                    }
                    Some(Measure::Factor(_)) => {
                        let w = q.weight.unwrap_or(1.0);
                        weighted.0 += w * norm;
                        weighted.1 += w;
                    }
                    None => {}
                }
            }
            _ => {}
        }
    }
    if weighted.1 > 0.0 {
        f.csi_weighted = Some(weighted.0 / weighted.1);
    }
    f
}

/// A counter's value: a count or a sum of reals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Int(i64),
    Real(f64),
}

/// One counter of a [`Tally`]: its name (the rollup column's too) and
/// whether it sums reals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub name: &'static str,
    pub real: bool,
}

/// Declares the tally's counters once: each one's name and type, and what
/// one response adds to it. The struct, its merging, its byte form (how
/// weekly rollup rows and pending increments store it), its column list
/// and its values in column order all follow from this declaration, so a
/// new figure is a new line here (and a column in a migration).
macro_rules! counters {
    ($( $(#[$doc:meta])* $name:ident : $kind:ident = |$s:ident, $f:ident| $add:expr ;)*) => {
        /// Additive counts and sums over any set of responses.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
        pub struct Tally {
            $( $(#[$doc])* pub $name: counters!(@type $kind), )*
        }

        impl Tally {
            /// The counters, in field order.
            pub const COUNTERS: &'static [Counter] = &[
                $( Counter { name: stringify!($name), real: counters!(@real $kind) }, )*
            ];

            /// One response. Only completed responses count towards the
            /// scores; refusals and time-outs count as such (METRICS.md: NPS
            /// is over completed responses; the refusal policy may add them
            /// as detractors).
            #[allow(unused_variables)]
            pub fn add(&mut self, status: ResponseStatus, facts: &Facts) {
                $( {
                    let ($s, $f) = (status, facts);
                    self.$name += counters!(@from $kind, $add);
                } )*
            }

            /// Adds another tally's counts and sums to this one.
            pub fn merge(&mut self, o: &Tally) {
                $( self.$name += o.$name; )*
            }

            /// The counters' values, in field order.
            pub fn values(&self) -> [Value; Tally::COUNTERS.len()] {
                [$( counters!(@value $kind, self.$name), )*]
            }

            /// A tally from its counters' values, read by `value` (given
            /// each counter in field order).
            pub fn read<E>(
                mut value: impl FnMut(Counter) -> Result<Value, E>,
            ) -> Result<Tally, E> {
                let mut counters = Tally::COUNTERS.iter();
                Ok(Tally {
                    $( $name: {
                        let c = *counters.next().expect("one counter per field");
                        counters!(@take $kind, value(c)?)
                    }, )*
                })
            }
        }
    };
    (@type int) => { i64 };
    (@type real) => { f64 };
    (@real int) => { false };
    (@real real) => { true };
    (@from int, $e:expr) => { i64::from($e) };
    (@from real, $e:expr) => { f64::from($e) };
    (@value int, $e:expr) => { Value::Int($e) };
    (@value real, $e:expr) => { Value::Real($e) };
    (@take int, $e:expr) => { match $e { Value::Int(v) => v, Value::Real(v) => v as i64 } };
    (@take real, $e:expr) => { match $e { Value::Real(v) => v, Value::Int(v) => v as f64 } };
}

/// Whether a response counts towards the scores.
fn done(status: ResponseStatus) -> bool {
    status == ResponseStatus::Completed
}

/// What a completed response's facts give, zero for any other.
fn when<T: Default>(status: ResponseStatus, value: T) -> T {
    if done(status) {
        value
    } else {
        T::default()
    }
}

counters! {
    completed: int = |s, f| done(s);
    refused: int = |s, f| s == ResponseStatus::Refused;
    timed_out: int = |s, f| s == ResponseStatus::TimedOut;
    nps_n: int = |s, f| done(s) && f.nps.is_some();
    promoters: int = |s, f| done(s) && matches!(f.nps, Some(9..=10));
    passives: int = |s, f| done(s) && matches!(f.nps, Some(7..=8));
    detractors: int = |s, f| done(s) && matches!(f.nps, Some(0..=6));
    csi_n: int = |s, f| when(s, f.csi_n);
    csi_sum: real = |s, f| when(s, f.csi_sum);
    csi_norm_sum: real = |s, f| when(s, f.csi_norm_sum);
    csi_w_n: int = |s, f| done(s) && f.csi_weighted.is_some();
    csi_w_sum: real = |s, f| when(s, f.csi_weighted.unwrap_or(0.0));
    csat_n: int = |s, f| when(s, f.csat_n);
    csat_top2: int = |s, f| when(s, f.csat_top2);
    ces_n: int = |s, f| when(s, f.ces_n);
    ces_sum: real = |s, f| when(s, f.ces_sum);
    ces_easy: int = |s, f| when(s, f.ces_easy);
    ces_hard: int = |s, f| when(s, f.ces_hard);
}

/// The length of [`Tally::to_bytes`].
pub const TALLY_BYTES: usize = Tally::COUNTERS.len() * 8;

impl Tally {
    /// The counters as little-endian 8-byte values, in field order
    /// (integers as `i64`, sums as `f64`): how weekly rollup rows store them.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(TALLY_BYTES);
        for v in self.values() {
            match v {
                Value::Int(v) => out.extend_from_slice(&v.to_le_bytes()),
                Value::Real(v) => out.extend_from_slice(&v.to_le_bytes()),
            }
        }
        out
    }

    /// Reads [`Tally::to_bytes`] back; `None` if the length is wrong.
    pub fn from_bytes(bytes: &[u8]) -> Option<Tally> {
        if bytes.len() != TALLY_BYTES {
            return None;
        }
        let mut words = bytes.chunks_exact(8).map(|w| {
            let mut b = [0_u8; 8];
            b.copy_from_slice(w);
            b
        });
        Tally::read(|c| {
            let word = words.next().ok_or(())?;
            Ok::<_, ()>(if c.real {
                Value::Real(f64::from_le_bytes(word))
            } else {
                Value::Int(i64::from_le_bytes(word))
            })
        })
        .ok()
    }

    /// The scores of METRICS.md. `csi_scale` is the survey scale's bounds
    /// when every CSI answer in the tally was on the same one.
    pub fn scores(&self, policy: RefusalPolicy, csi_scale: Option<(i64, i64)>) -> Scores {
        let refusals = self.refused + self.timed_out;
        let (n, promoters, detractors) = match policy {
            RefusalPolicy::Exclude => (self.nps_n, self.promoters, self.detractors),
            RefusalPolicy::CountAsDetractors => (
                self.nps_n + refusals,
                self.promoters,
                self.detractors + refusals,
            ),
        };
        let (nps, low, high) = nps_interval(promoters, detractors, n);
        let rank_low = nps_rank_bound(promoters, detractors, n);
        let mean = |sum: f64, n: i64| (n > 0).then(|| sum / n as f64);
        let share = |part: i64, n: i64| (n > 0).then(|| 100.0 * part as f64 / n as f64);
        let sessions = self.completed + refusals;
        Scores {
            responses: self.completed,
            refusals,
            refused: self.refused,
            timed_out: self.timed_out,
            response_rate: share(self.completed, sessions),
            refusal_rate: share(refusals, sessions),
            nps_n: n,
            promoters,
            passives: self.passives,
            detractors,
            nps,
            nps_ci95_low: low,
            nps_ci95_high: high,
            nps_rank_low: rank_low,
            csi: csi_scale.and_then(|_| mean(self.csi_sum, self.csi_n)),
            csi_scale_min: csi_scale.map(|s| s.0),
            csi_scale_max: csi_scale.map(|s| s.1),
            csi_100: mean(self.csi_norm_sum, self.csi_n),
            csi_n: self.csi_n,
            csi_weighted: mean(self.csi_w_sum, self.csi_w_n),
            csi_weighted_n: self.csi_w_n,
            csat: share(self.csat_top2, self.csat_n),
            csat_n: self.csat_n,
            ces: mean(self.ces_sum, self.ces_n),
            ces_n: self.ces_n,
            net_easy: (self.ces_n > 0)
                .then(|| 100.0 * (self.ces_easy - self.ces_hard) as f64 / self.ces_n as f64),
            delivered: 0,
            on_time: 0,
            on_time_rate: None,
            too_few: n < MIN_RANKED,
        }
    }
}

/// Groups with fewer answers are marked "too few answers" and not ranked.
pub const MIN_RANKED: i64 = 30;

/// NPS and its 95% interval (METRICS.md), or `None`s when N is too small.
pub fn nps_interval(
    promoters: i64,
    detractors: i64,
    n: i64,
) -> (Option<f64>, Option<f64>, Option<f64>) {
    if n <= 0 {
        return (None, None, None);
    }
    let nps = 100.0 * (promoters - detractors) as f64 / n as f64;
    match nps_standard_error(promoters, detractors, n) {
        None => (Some(nps), None, None),
        Some(se) => (
            Some(nps),
            Some((nps - 1.96 * se).clamp(-100.0, 100.0)),
            Some((nps + 1.96 * se).clamp(-100.0, 100.0)),
        ),
    }
}

/// The lower bound groups are ranked by (METRICS.md): the 95% interval
/// after adding one promoter, one passive and one detractor, so that it
/// cannot collapse to a point at the extremes (thirty tens are not a
/// certain +100). `None` without answers.
pub fn nps_rank_bound(promoters: i64, detractors: i64, n: i64) -> Option<f64> {
    if n <= 0 {
        return None;
    }
    nps_interval(promoters + 1, detractors + 1, n + 3).1
}

/// The standard error of an NPS (METRICS.md): `100 * sqrt((p + d - (p - d)^2) / N)`;
/// none below 2 answers.
fn nps_standard_error(promoters: i64, detractors: i64, n: i64) -> Option<f64> {
    if n < 2 {
        return None;
    }
    let total = n as f64;
    let (p, d) = (promoters as f64 / total, detractors as f64 / total);
    Some(100.0 * ((p + d - (p - d).powi(2)).max(0.0) / total).sqrt())
}

/// Whether a change between two NPS figures is beyond chance: the
/// difference against its 95% interval (the two samples independent).
pub fn nps_change_significant(now: &Scores, before: &Scores) -> bool {
    // The errors after adding one promoter, passive and detractor (as the
    // ranking does): at the extremes the plain one is zero, and a fall from
    // forty tens to forty zeros would never count.
    let error = |s: &Scores| {
        (s.nps_n >= 2)
            .then(|| nps_standard_error(s.promoters + 1, s.detractors + 1, s.nps_n + 3))
            .flatten()
    };
    match (now.nps, before.nps, error(now), error(before)) {
        (Some(x), Some(y), Some(ex), Some(ey)) => {
            let joint = (ex * ex + ey * ey).sqrt();
            joint > 0.0 && (x - y).abs() > 1.96 * joint
        }
        _ => false,
    }
}

/// How refusals and time-outs enter NPS (a deployment setting).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalPolicy {
    /// Left out of N (the standard).
    #[default]
    Exclude,
    /// Counted in N as detractors.
    CountAsDetractors,
}

impl RefusalPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalPolicy::Exclude => "exclude",
            RefusalPolicy::CountAsDetractors => "count_as_detractors",
        }
    }

    pub fn parse(s: &str) -> Option<RefusalPolicy> {
        match s {
            "exclude" => Some(RefusalPolicy::Exclude),
            "count_as_detractors" => Some(RefusalPolicy::CountAsDetractors),
            _ => None,
        }
    }
}

/// The figures of one group, as the API, the dashboard and reports show them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    /// Completed sessions.
    pub responses: i64,
    /// Refused and timed-out sessions.
    pub refusals: i64,
    pub refused: i64,
    pub timed_out: i64,
    pub response_rate: Option<f64>,
    pub refusal_rate: Option<f64>,
    /// N of the NPS (with refusals when the policy counts them).
    pub nps_n: i64,
    pub promoters: i64,
    pub passives: i64,
    pub detractors: i64,
    pub nps: Option<f64>,
    pub nps_ci95_low: Option<f64>,
    pub nps_ci95_high: Option<f64>,
    /// The lower bound the group is ranked by: the interval after adding one
    /// promoter, one passive and one detractor (never collapses to a point).
    pub nps_rank_low: Option<f64>,
    /// Mean CSI answer on the survey's own scale (when the group's answers
    /// share one scale) and that scale.
    pub csi: Option<f64>,
    pub csi_scale_min: Option<i64>,
    pub csi_scale_max: Option<i64>,
    /// CSI normalised to 0–100.
    pub csi_100: Option<f64>,
    pub csi_n: i64,
    /// The importance-weighted mean of factor scores, 0–100.
    pub csi_weighted: Option<f64>,
    pub csi_weighted_n: i64,
    pub csat: Option<f64>,
    pub csat_n: i64,
    pub ces: Option<f64>,
    pub ces_n: i64,
    pub net_easy: Option<f64>,
    /// Orders delivered in the period, those delivered within their window,
    /// and the on-time rate in % (`None` where it has no meaning: a
    /// grouping or filter by survey, channel or segment).
    pub delivered: i64,
    pub on_time: i64,
    pub on_time_rate: Option<f64>,
    /// Fewer than [`MIN_RANKED`] NPS answers: shown, not ranked.
    pub too_few: bool,
}

impl Scores {
    /// Adds the delivery figures.
    pub fn set_deliveries(&mut self, delivered: i64, on_time: i64) {
        self.delivered = delivered;
        self.on_time = on_time;
        self.on_time_rate = (delivered > 0).then(|| 100.0 * on_time as f64 / delivered as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn survey() -> SurveyDefinition {
        serde_json::from_value(serde_json::json!({"name": "t", "questions": [
            {"id": "nps", "type": "nps", "text": "x"},
            {"id": "csi", "type": "scale", "text": "x", "min": 1, "max": 9, "measures": "csi"},
            {"id": "csat", "type": "scale", "text": "x", "min": 1, "max": 5, "measures": "csat"},
            {"id": "ces", "type": "scale", "text": "x", "min": 1, "max": 7, "measures": "ces"},
            {"id": "speed", "type": "scale", "text": "x", "min": 1, "max": 5, "measures": "factor:speed", "weight": 3},
            {"id": "polite", "type": "scale", "text": "x", "min": 1, "max": 5, "measures": "factor:polite", "weight": 1}
        ]}))
        .unwrap()
    }

    fn answer(id: &str, n: f64) -> CheckedAnswer {
        CheckedAnswer {
            question_id: id.to_owned(),
            kind: if id == "nps" {
                QuestionType::Nps
            } else {
                QuestionType::Scale
            },
            number: Some(n),
            options: Vec::new(),
            text: None,
            flag: None,
        }
    }

    #[test]
    fn one_response_contributes_each_measure() {
        let f = facts(
            &survey(),
            &[
                answer("nps", 9.0),
                answer("csi", 8.0),
                answer("csat", 4.0),
                answer("ces", 2.0),
                answer("speed", 5.0),
                answer("polite", 1.0),
            ],
        );
        assert_eq!(f.nps, Some(9));
        assert_eq!((f.csi_n, f.csi_sum), (1, 8.0));
        assert!(
            (f.csi_norm_sum - 87.5).abs() < 1e-9,
            "100 * (8 - 1) / (9 - 1)"
        );
        assert_eq!((f.csat_n, f.csat_top2), (1, 1));
        assert_eq!((f.ces_n, f.ces_easy, f.ces_hard), (1, 0, 1));
        // (3 * 100 + 1 * 0) / 4
        assert_eq!(f.csi_weighted, Some(75.0));
    }

    #[test]
    fn nps_and_its_interval_follow_metrics_md() {
        // 50 promoters, 30 passives, 20 detractors: NPS 30.
        let mut t = Tally::default();
        for (n, count) in [(10, 50), (8, 30), (3, 20)] {
            for _ in 0..count {
                t.add(
                    ResponseStatus::Completed,
                    &Facts {
                        nps: Some(n),
                        ..Facts::default()
                    },
                );
            }
        }
        for _ in 0..25 {
            t.add(ResponseStatus::Refused, &Facts::default());
        }
        let s = t.scores(RefusalPolicy::Exclude, None);
        assert_eq!((s.responses, s.refusals, s.nps_n), (100, 25, 100));
        assert!((s.nps.unwrap() - 30.0).abs() < 1e-9);
        // se = 100 * sqrt((0.5 + 0.2 - 0.3^2) / 100) = 7.81…
        let se = 100.0 * ((0.7_f64 - 0.09) / 100.0).sqrt();
        assert!((s.nps_ci95_low.unwrap() - (30.0 - 1.96 * se)).abs() < 1e-9);
        assert!((s.nps_ci95_high.unwrap() - (30.0 + 1.96 * se)).abs() < 1e-9);
        assert_eq!(s.response_rate, Some(80.0));
        assert!(!s.too_few);
        // Counting refusals as detractors: (50 - 45) / 125.
        let strict = t.scores(RefusalPolicy::CountAsDetractors, None);
        assert_eq!(strict.nps_n, 125);
        assert!((strict.nps.unwrap() - 4.0).abs() < 1e-9);
    }

    #[test]
    fn the_ranking_bound_does_not_collapse_at_the_extremes() {
        // Thirty tens: the plain interval is the point +100 … +100.
        assert_eq!(
            nps_interval(30, 0, 30),
            (Some(100.0), Some(100.0), Some(100.0))
        );
        // With one promoter, passive and detractor added: 31 P, 1 D of 33.
        let (p, d) = (31.0 / 33.0, 1.0 / 33.0);
        let se = 100.0 * ((p + d - (p - d) * (p - d)) / 33.0_f64).sqrt();
        let low = nps_rank_bound(30, 0, 30).unwrap();
        assert!((low - (100.0 * (p - d) - 1.96 * se)).abs() < 1e-9, "{low}");
        assert!(low < 80.0, "{low}");
        // 200 answers at +92.5 rank above thirty tens.
        assert!(nps_rank_bound(190, 5, 200).unwrap() > low);
        // One answer has a bound, well below its score.
        assert!(nps_rank_bound(1, 0, 1).unwrap() < 0.0);
        assert_eq!(nps_rank_bound(0, 0, 0), None);
        let mut t = Tally::default();
        for _ in 0..30 {
            t.add(
                ResponseStatus::Completed,
                &Facts {
                    nps: Some(10),
                    ..Facts::default()
                },
            );
        }
        assert_eq!(
            t.scores(RefusalPolicy::Exclude, None).nps_rank_low,
            Some(low)
        );
    }

    #[test]
    fn small_samples_have_no_interval_and_are_not_ranked() {
        assert_eq!(nps_interval(1, 0, 1), (Some(100.0), None, None));
        assert_eq!(nps_interval(0, 0, 0), (None, None, None));
        let (_, low, high) = nps_interval(2, 0, 2);
        assert_eq!(
            (low, high),
            (Some(100.0), Some(100.0)),
            "clipped to the range"
        );
        let mut t = Tally::default();
        t.add(
            ResponseStatus::Completed,
            &Facts {
                nps: Some(10),
                ..Facts::default()
            },
        );
        assert!(t.scores(RefusalPolicy::Exclude, None).too_few);
        assert_eq!(
            t.scores(RefusalPolicy::Exclude, None).csi,
            None,
            "no answers: null"
        );
    }

    #[test]
    fn a_tally_survives_its_bytes() {
        let t = Tally {
            completed: 1,
            refused: 2,
            timed_out: 3,
            nps_n: 4,
            promoters: 5,
            passives: 6,
            detractors: 7,
            csi_n: 8,
            csi_sum: 9.5,
            csi_norm_sum: 10.25,
            csi_w_n: 11,
            csi_w_sum: 12.125,
            csat_n: 13,
            csat_top2: 14,
            ces_n: 15,
            ces_sum: 16.0625,
            ces_easy: 17,
            ces_hard: -18,
        };
        let bytes = t.to_bytes();
        assert_eq!(bytes.len(), TALLY_BYTES);
        assert_eq!(Tally::from_bytes(&bytes), Some(t));
        assert_eq!(Tally::from_bytes(&bytes[1..]), None);
    }

    #[test]
    fn ces_csat_and_net_easy() {
        let mut t = Tally::default();
        for (ces, csat) in [(7.0, 5.0), (6.0, 4.0), (4.0, 3.0), (2.0, 1.0)] {
            let f = facts(&survey(), &[answer("ces", ces), answer("csat", csat)]);
            t.add(ResponseStatus::Completed, &f);
        }
        let s = t.scores(RefusalPolicy::Exclude, None);
        assert_eq!(s.ces, Some(4.75));
        assert_eq!(s.net_easy, Some(25.0), "2 easy − 1 hard of 4");
        assert_eq!(s.csat, Some(50.0));
    }

    #[test]
    fn only_a_real_change_is_significant() {
        let scores = |p: i64, d: i64, n: i64| {
            let mut t = Tally::default();
            for i in 0..n {
                let v = if i < p {
                    10
                } else if i < p + d {
                    0
                } else {
                    8
                };
                t.add(
                    ResponseStatus::Completed,
                    &Facts {
                        nps: Some(v),
                        ..Facts::default()
                    },
                );
            }
            t.scores(RefusalPolicy::Exclude, None)
        };
        assert!(!nps_change_significant(
            &scores(50, 20, 100),
            &scores(48, 22, 100)
        ));
        assert!(nps_change_significant(
            &scores(600, 100, 1000),
            &scores(300, 400, 1000)
        ));
        // Forty tens, then forty zeros: the plain errors are both zero.
        assert!(nps_change_significant(
            &scores(0, 40, 40),
            &scores(40, 0, 40)
        ));
        assert!(!nps_change_significant(&scores(0, 1, 1), &scores(1, 0, 1)));
    }
}

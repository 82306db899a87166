//! Key drivers: which rated factors (speed, the courier's politeness,
//! packaging, price…) move the NPS answer. Importance is the correlation of
//! a factor's score with the NPS answer over the same responses (Pearson's
//! r); performance is the factor's mean on 0–100; the relation is called
//! significant when r differs from zero at 95% (a t-test on n − 2 degrees of
//! freedom). Sums are additive, so any set of responses can be combined.

use serde::Serialize;

/// Additive sums of (x = factor score on 0–100, y = NPS answer 0–10) pairs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PairSums {
    pub n: i64,
    pub sx: f64,
    pub sy: f64,
    pub sxx: f64,
    pub syy: f64,
    pub sxy: f64,
}

impl PairSums {
    /// One pair.
    pub fn add(&mut self, x: f64, y: f64) {
        self.n += 1;
        self.sx += x;
        self.sy += y;
        self.sxx += x * x;
        self.syy += y * y;
        self.sxy += x * y;
    }

    pub fn merge(&mut self, o: &PairSums) {
        self.n += o.n;
        self.sx += o.sx;
        self.sy += o.sy;
        self.sxx += o.sxx;
        self.syy += o.syy;
        self.sxy += o.sxy;
    }

    /// The same sums with every x put through `x ↦ a·x + b` (a factor's own
    /// scale onto 0–100).
    #[must_use]
    pub fn rescaled(&self, a: f64, b: f64) -> PairSums {
        let n = self.n as f64;
        PairSums {
            n: self.n,
            sx: a * self.sx + b * n,
            sy: self.sy,
            sxx: a * a * self.sxx + 2.0 * a * b * self.sx + b * b * n,
            syy: self.syy,
            sxy: a * self.sxy + b * self.sy,
        }
    }

    /// Pearson's r; `None` under 3 pairs or when either side never varies.
    pub fn correlation(&self) -> Option<f64> {
        if self.n < 3 {
            return None;
        }
        let n = self.n as f64;
        let vx = n * self.sxx - self.sx * self.sx;
        let vy = n * self.syy - self.sy * self.sy;
        // Relative to the sums, a variance this small is rounding noise.
        if vx <= 1e-9 * n * self.sxx.max(1.0) || vy <= 1e-9 * n * self.syy.max(1.0) {
            return None;
        }
        Some(((n * self.sxy - self.sx * self.sy) / (vx * vy).sqrt()).clamp(-1.0, 1.0))
    }
}

/// The two-sided 95% critical value of Student's t with `df` degrees of
/// freedom (a close series: 2.228 at 10, 2.042 at 30, 1.96 beyond).
pub fn t_critical_95(df: i64) -> f64 {
    match df {
        ..=0 => f64::INFINITY,
        1 => 12.706,
        2 => 4.303,
        _ => {
            let d = df as f64;
            1.96 + 2.36 / d + 3.2 / (d * d)
        }
    }
}

/// One factor's place on the importance × performance chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Driver {
    pub factor: String,
    /// Responses that rated the factor and answered the NPS question.
    pub n: i64,
    /// Correlation with the NPS answer, −1…1.
    pub importance: Option<f64>,
    /// Mean score, 0–100.
    pub performance: Option<f64>,
    /// The relation is beyond chance at 95%.
    pub significant: bool,
    pub quadrant: Quadrant,
}

/// Where a factor falls against the others (split at their means).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quadrant {
    /// Matters more than most and scores below most: fix first.
    FixFirst,
    /// Matters and scores well: keep it so.
    Keep,
    /// Matters less and scores below most: later.
    Later,
    /// Matters less and scores well: perhaps more than needed.
    Overdone,
    /// Too little evidence to place it.
    Unknown,
}

impl Quadrant {
    pub fn as_str(self) -> &'static str {
        match self {
            Quadrant::FixFirst => "fix_first",
            Quadrant::Keep => "keep",
            Quadrant::Later => "later",
            Quadrant::Overdone => "overdone",
            Quadrant::Unknown => "unknown",
        }
    }
}

/// Drivers from each factor's sums (x already on 0–100), most urgent first:
/// fix-first factors, then by importance.
pub fn drivers(factors: Vec<(String, PairSums)>) -> Vec<Driver> {
    let mut out: Vec<Driver> = factors
        .into_iter()
        .map(|(factor, s)| {
            let r = s.correlation();
            let significant = r.is_some_and(|r| {
                let df = s.n - 2;
                r.abs() < 1.0
                    && (r * ((df as f64) / (1.0 - r * r)).sqrt()).abs() > t_critical_95(df)
                    || r.abs() >= 1.0
            });
            Driver {
                factor,
                n: s.n,
                importance: r,
                performance: (s.n > 0).then(|| s.sx / s.n as f64),
                significant,
                quadrant: Quadrant::Unknown,
            }
        })
        .collect();
    let placed: Vec<(f64, f64)> = out
        .iter()
        .filter(|d| d.significant)
        .filter_map(|d| d.importance.zip(d.performance))
        .collect();
    if !placed.is_empty() {
        let k = placed.len() as f64;
        let mean_i = placed.iter().map(|p| p.0).sum::<f64>() / k;
        let mean_p = placed.iter().map(|p| p.1).sum::<f64>() / k;
        for d in &mut out {
            if let (true, Some(i), Some(p)) = (d.significant, d.importance, d.performance) {
                d.quadrant = match (i >= mean_i, p >= mean_p) {
                    (true, false) => Quadrant::FixFirst,
                    (true, true) => Quadrant::Keep,
                    (false, false) => Quadrant::Later,
                    (false, true) => Quadrant::Overdone,
                };
            }
        }
    }
    let rank = |q: Quadrant| match q {
        Quadrant::FixFirst => 0,
        Quadrant::Keep => 1,
        Quadrant::Later => 2,
        Quadrant::Overdone => 3,
        Quadrant::Unknown => 4,
    };
    out.sort_by(|a, b| {
        rank(a.quadrant).cmp(&rank(b.quadrant)).then(
            b.importance
                .unwrap_or(f64::NEG_INFINITY)
                .total_cmp(&a.importance.unwrap_or(f64::NEG_INFINITY)),
        )
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(pairs: &[(f64, f64)]) -> PairSums {
        let mut s = PairSums::default();
        for (x, y) in pairs {
            s.add(*x, *y);
        }
        s
    }

    #[test]
    fn correlation_is_pearsons_r_and_survives_rescaling() {
        let s = sums(&[(1.0, 2.0), (2.0, 4.0), (3.0, 6.5), (4.0, 8.0), (5.0, 9.0)]);
        let r = s.correlation().unwrap();
        // By hand: Σdxdy = 18, Σdx² = 10, Σdy² = 33.2, r = 18 / √332 = 0.9879…
        assert!((r - 0.9879).abs() < 1e-3, "{r}");
        // 1–5 onto 0–100: x ↦ 25x − 25; r stays, the mean moves.
        let t = s.rescaled(25.0, -25.0);
        assert!((t.correlation().unwrap() - r).abs() < 1e-9);
        assert!((t.sx / t.n as f64 - 50.0).abs() < 1e-9);
        assert_eq!(
            sums(&[(3.0, 1.0), (3.0, 5.0), (3.0, 9.0)]).correlation(),
            None
        );
        assert_eq!(sums(&[(1.0, 1.0), (2.0, 5.0)]).correlation(), None);
    }

    #[test]
    fn t_critical_values_match_the_table() {
        for (df, t) in [
            (1, 12.706),
            (5, 2.571),
            (10, 2.228),
            (30, 2.042),
            (1000, 1.962),
        ] {
            assert!(
                (t_critical_95(df) - t).abs() < 0.03,
                "{df}: {}",
                t_critical_95(df)
            );
        }
    }

    #[test]
    fn factors_are_placed_by_importance_and_performance() {
        let mut speed = PairSums::default();
        let mut courier = PairSums::default();
        let mut packaging = PairSums::default();
        for i in 0..200 {
            let nps = f64::from(i % 11);
            // Speed follows the score closely and is rated low.
            speed.add(nps * 5.0, nps);
            // Politeness follows it loosely and is rated high.
            courier.add(60.0 + nps * 3.0 + f64::from((i * 7) % 13), nps);
            // Packaging does not follow it at all.
            packaging.add(f64::from((i * 37) % 100), nps);
        }
        let d = drivers(vec![
            ("packaging".into(), packaging),
            ("courier".into(), courier),
            ("speed".into(), speed),
        ]);
        let order: Vec<(&str, Quadrant, bool)> = d
            .iter()
            .map(|d| (d.factor.as_str(), d.quadrant, d.significant))
            .collect();
        assert_eq!(
            order,
            vec![
                ("speed", Quadrant::FixFirst, true),
                ("courier", Quadrant::Overdone, true),
                ("packaging", Quadrant::Unknown, false),
            ]
        );
    }
}

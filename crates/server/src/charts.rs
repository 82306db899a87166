//! Charts drawn on the server as SVG (plotters): they need no script, print
//! sharply, and show the same figures as the tables beside them.

use plotters::prelude::*;

/// One point of a trend: its label (a date), the score, its 95% interval.
pub struct Point {
    pub label: String,
    pub value: Option<f64>,
    pub interval: Option<(f64, f64)>,
}

const WIDTH: u32 = 960;
const HEIGHT: u32 = 260;
const LINE: RGBColor = RGBColor(11, 107, 203);

/// The NPS trend of time groups (their keys are the labels).
pub fn nps_trend(groups: &[crate::metrics::Group]) -> Option<String> {
    let points: Vec<Point> = groups
        .iter()
        .map(|g| Point {
            label: g.key.clone(),
            value: g.scores.nps,
            interval: g.scores.nps_ci95_low.zip(g.scores.nps_ci95_high),
        })
        .collect();
    trend(&points, "NPS")
}

/// A trend line with its interval as a band; points with no answers leave
/// a gap in the band and are skipped by the line. `None` when nothing is
/// there to draw.
pub fn trend(points: &[Point], y_label: &str) -> Option<String> {
    let known: Vec<(usize, f64)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.value.map(|v| (i, v)))
        .collect();
    if known.is_empty() {
        return None;
    }
    let lows = points
        .iter()
        .filter_map(|p| p.interval.map(|i| i.0))
        .chain(known.iter().map(|k| k.1));
    let highs = points
        .iter()
        .filter_map(|p| p.interval.map(|i| i.1))
        .chain(known.iter().map(|k| k.1));
    let lo = lows.fold(f64::INFINITY, f64::min);
    let hi = highs.fold(f64::NEG_INFINITY, f64::max);
    // At least 20 points of height, so whole-number labels never repeat.
    let pad = ((hi - lo) * 0.1).max(10.0);
    let (lo, hi) = ((lo - pad).max(-100.0), (hi + pad).min(100.0));
    let last = points.len().saturating_sub(1).max(1) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(44)
            .build_cartesian_2d(-0.3..last + 0.3, lo..hi)
            .ok()?;
        let labels: Vec<&str> = points.iter().map(|p| p.label.as_str()).collect();
        chart
            .configure_mesh()
            .x_labels(points.len().min(12))
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() > 0.01 || i < 0.0 {
                    return String::new();
                }
                labels
                    .get(i as usize)
                    .map(|l| (*l).to_owned())
                    .unwrap_or_default()
            })
            .y_desc(y_label)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .light_line_style(RGBColor(236, 239, 243))
            .bold_line_style(RGBColor(214, 219, 226))
            .axis_style(RGBColor(160, 168, 180))
            .label_style(
                ("sans-serif", 12)
                    .into_font()
                    .color(&RGBColor(90, 100, 115)),
            )
            .draw()
            .ok()?;
        // The interval, one band per run of points that have one.
        let mut run: Vec<(f64, f64, f64)> = Vec::new();
        let mut bands: Vec<Vec<(f64, f64, f64)>> = Vec::new();
        for (i, p) in points.iter().enumerate() {
            match p.interval {
                Some((l, h)) => run.push((i as f64, l, h)),
                None if !run.is_empty() => bands.push(std::mem::take(&mut run)),
                None => {}
            }
        }
        if !run.is_empty() {
            bands.push(run);
        }
        for band in bands {
            let mut outline: Vec<(f64, f64)> = band.iter().map(|(x, _, h)| (*x, *h)).collect();
            outline.extend(band.iter().rev().map(|(x, l, _)| (*x, *l)));
            chart
                .draw_series(std::iter::once(Polygon::new(
                    outline,
                    LINE.mix(0.12).filled(),
                )))
                .ok()?;
        }
        if lo < 0.0 && hi > 0.0 {
            chart
                .draw_series(LineSeries::new(
                    vec![(-0.3, 0.0), (last + 0.3, 0.0)],
                    RGBColor(160, 168, 180),
                ))
                .ok()?;
        }
        chart
            .draw_series(LineSeries::new(
                known.iter().map(|(i, v)| (*i as f64, *v)),
                LINE.stroke_width(2),
            ))
            .ok()?;
        chart
            .draw_series(
                known
                    .iter()
                    .map(|(i, v)| Circle::new((*i as f64, *v), 3, LINE.filled())),
            )
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trend_is_an_svg_with_its_labels_and_nothing_without_data() {
        let points = vec![
            Point {
                label: "2026-11-02".into(),
                value: Some(30.0),
                interval: Some((20.0, 40.0)),
            },
            Point {
                label: "2026-11-09".into(),
                value: None,
                interval: None,
            },
            Point {
                label: "2026-11-16".into(),
                value: Some(-10.0),
                interval: Some((-25.0, 5.0)),
            },
        ];
        let svg = trend(&points, "NPS").unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("2026-11-16") && svg.contains("NPS"),
            "{svg}"
        );
        assert!(
            svg.contains("<polygon") || svg.contains("<path"),
            "the interval band"
        );
        let empty = vec![Point {
            label: "x".into(),
            value: None,
            interval: None,
        }];
        assert!(trend(&empty, "NPS").is_none());
    }
}

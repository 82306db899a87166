//! Charts drawn on the server as SVG (plotters): they need no script, print
//! sharply, and show the same figures as the tables beside them.

use plotters::prelude::*;

/// One point of a trend: its label (a date), the score, its 95% interval.
pub struct Point {
    pub label: String,
    pub value: Option<f64>,
    pub interval: Option<(f64, f64)>,
    /// A period not over yet (today, this week): drawn dashed and hollow.
    pub partial: bool,
}

/// The label of the category at `x` on an axis of categories 0, 1, 2…
/// (nothing between them).
fn index_label(labels: &[impl AsRef<str>], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() > 0.01 || i < 0.0 {
        return String::new();
    }
    labels
        .get(i as usize)
        .map(|l| l.as_ref().to_owned())
        .unwrap_or_default()
}

const WIDTH: u32 = 960;
const HEIGHT: u32 = 260;
const LINE: RGBColor = RGBColor(11, 107, 203);

/// The NPS trend of time groups by `step` (their keys are the labels); the
/// group that holds `today` is the period so far.
pub fn nps_trend(
    groups: &[crate::app::survey::metrics::Group],
    step: doorstep_store::survey::rollups::GroupBy,
    today: jiff::civil::Date,
) -> Option<String> {
    let points: Vec<Point> = groups
        .iter()
        .map(|g| {
            let partial = in_progress(&g.key, step, today);
            // Days as the console writes them, short: 07.11; months 11.2026.
            let label = g.key.parse::<jiff::civil::Date>().map_or_else(
                |_| match g.key.split_once('-') {
                    Some((y, m)) => format!("{m}.{y}"),
                    None => g.key.clone(),
                },
                |d| d.strftime("%d.%m").to_string(),
            );
            Point {
                label: if partial {
                    format!("{label} …")
                } else {
                    label
                },
                value: g.scores.nps,
                interval: g.scores.nps_ci95_low.zip(g.scores.nps_ci95_high),
                partial,
            }
        })
        .collect();
    trend(&points, "NPS")
}

/// The trend in words, for readers who cannot see the chart: the first and
/// last points, the lowest and the highest (label, value).
pub fn trend_words(
    groups: &[crate::app::survey::metrics::Group],
    t: crate::i18n::Tr<'_>,
) -> String {
    let known: Vec<(&str, f64)> = groups
        .iter()
        .filter_map(|g| g.scores.nps.map(|v| (g.key.as_str(), v)))
        .collect();
    let (Some(first), Some(last)) = (known.first(), known.last()) else {
        return t.t("dashboard-no-answers");
    };
    let low = known
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or(first);
    let high = known
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or(first);
    let show = |(key, v): &(&str, f64)| format!("{v:+.1} ({})", crate::http::pages::show_day(key));
    t.args(
        "trend-words",
        vec![
            ("first", show(first).into()),
            ("last", show(last).into()),
            ("low", show(low).into()),
            ("high", show(high).into()),
        ],
    )
}

/// Whether a time group's key (a day, a week by its Monday, a month
/// `YYYY-MM`) names the period that holds `today`: one not over yet.
pub fn in_progress(
    key: &str,
    step: doorstep_store::survey::rollups::GroupBy,
    today: jiff::civil::Date,
) -> bool {
    use doorstep_store::survey::rollups::GroupBy;
    match step {
        GroupBy::Day => key == today.to_string(),
        GroupBy::Week => {
            let back = i64::from(today.weekday().to_monday_zero_offset());
            today
                .checked_sub(jiff::Span::new().days(back))
                .is_ok_and(|monday| key == monday.to_string())
        }
        GroupBy::Month => key == format!("{:04}-{:02}", today.year(), today.month()),
        _ => false,
    }
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
            .x_label_formatter(&|x| index_label(&labels, *x))
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
        // Complete periods: a line and dots; the period so far: a dashed
        // line to a hollow dot.
        let partial = |i: usize| points[i].partial;
        let done: Vec<(f64, f64)> = known
            .iter()
            .filter(|(i, _)| !partial(*i))
            .map(|(i, v)| (*i as f64, *v))
            .collect();
        chart
            .draw_series(LineSeries::new(done.clone(), LINE.stroke_width(2)))
            .ok()?;
        chart
            .draw_series(done.iter().map(|p| Circle::new(*p, 3, LINE.filled())))
            .ok()?;
        for (i, v) in known.iter().filter(|(i, _)| partial(*i)) {
            let from = known.iter().rev().find(|(j, _)| j < i && !partial(*j));
            if let Some((j, w)) = from {
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(*j as f64, *w), (*i as f64, *v)],
                        6,
                        5,
                        LINE.stroke_width(2),
                    ))
                    .ok()?;
            }
            chart
                .draw_series(std::iter::once(Circle::new(
                    (*i as f64, *v),
                    4,
                    LINE.stroke_width(2),
                )))
                .ok()?;
        }
        root.present().ok()?;
    }
    Some(svg)
}

/// A small line of counts for a table cell (no axes; the table has the
/// figures). `None` with fewer than two points.
pub fn sparkline(values: &[f64]) -> Option<String> {
    if values.len() < 2 {
        return None;
    }
    let top = values.iter().copied().fold(1.0_f64, f64::max);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (120, 28)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(3)
            .build_cartesian_2d(0.0..(values.len() - 1) as f64, 0.0..top)
            .ok()?;
        chart
            .draw_series(LineSeries::new(
                values.iter().enumerate().map(|(i, v)| (i as f64, *v)),
                LINE.stroke_width(2),
            ))
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// One factor on the key-driver chart.
pub struct DriverPoint {
    pub label: String,
    /// Correlation with the NPS answer.
    pub importance: f64,
    /// Mean score, 0–100.
    pub performance: f64,
    pub significant: bool,
}

/// Importance (across) × performance (up), split at the means of the
/// factors that matter, with each corner named by `corners` (fix first,
/// keep, later, overdone). Factors whose relation is not significant are
/// drawn hollow. `None` when nothing is there to draw.
pub fn drivers(points: &[DriverPoint], axes: (&str, &str), corners: [&str; 4]) -> Option<String> {
    if points.is_empty() {
        return None;
    }
    let lo_x = points.iter().map(|p| p.importance).fold(0.0_f64, f64::min) - 0.05;
    let hi_x = points.iter().map(|p| p.importance).fold(0.5_f64, f64::max) + 0.1;
    let lo_y = points
        .iter()
        .map(|p| p.performance)
        .fold(100.0_f64, f64::min)
        .min(50.0)
        - 5.0;
    let (lo_y, hi_y) = (lo_y.max(0.0), 100.0);
    let placed: Vec<&DriverPoint> = points.iter().filter(|p| p.significant).collect();
    let mean = |f: fn(&DriverPoint) -> f64| {
        (!placed.is_empty()).then(|| placed.iter().map(|p| f(p)).sum::<f64>() / placed.len() as f64)
    };
    let (mid_x, mid_y) = (mean(|p| p.importance), mean(|p| p.performance));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 380)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(48)
            .build_cartesian_2d(lo_x..hi_x, lo_y..hi_y)
            .ok()?;
        let style = ("sans-serif", 12)
            .into_font()
            .color(&RGBColor(90, 100, 115));
        chart
            .configure_mesh()
            .x_desc(axes.0)
            .y_desc(axes.1)
            .x_label_formatter(&|x| format!("{x:.1}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .light_line_style(RGBColor(244, 246, 249))
            .bold_line_style(RGBColor(228, 232, 238))
            .axis_style(RGBColor(160, 168, 180))
            .label_style(style.clone())
            .draw()
            .ok()?;
        let split = RGBColor(190, 196, 206);
        if let (Some(mx), Some(my)) = (mid_x, mid_y) {
            chart
                .draw_series(LineSeries::new(vec![(mx, lo_y), (mx, hi_y)], split))
                .ok()?;
            chart
                .draw_series(LineSeries::new(vec![(lo_x, my), (hi_x, my)], split))
                .ok()?;
            let corner = ("sans-serif", 13)
                .into_font()
                .color(&RGBColor(150, 158, 170));
            let fix = ("sans-serif", 13).into_font().color(&RGBColor(196, 60, 40));
            let dx = (hi_x - lo_x) * 0.01;
            let dy = (hi_y - lo_y) * 0.04;
            for (text, at, font) in [
                (corners[0], (hi_x - (hi_x - mx) * 0.6, lo_y + dy), &fix),
                (corners[1], (hi_x - (hi_x - mx) * 0.6, hi_y - dy), &corner),
                (corners[2], (lo_x + dx, lo_y + dy), &corner),
                (corners[3], (lo_x + dx, hi_y - dy), &corner),
            ] {
                chart
                    .draw_series(std::iter::once(Text::new(
                        text.to_owned(),
                        at,
                        font.clone(),
                    )))
                    .ok()?;
            }
        }
        let label = ("sans-serif", 13).into_font().color(&RGBColor(30, 40, 55));
        chart
            .draw_series(points.iter().map(|p| {
                let dot: ShapeStyle = if p.significant {
                    LINE.filled()
                } else {
                    LINE.stroke_width(2)
                };
                EmptyElement::at((p.importance, p.performance))
                    + Circle::new((0, 0), 6, dot)
                    + Text::new(p.label.clone(), (10, -6), label.clone())
            }))
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// A Pareto chart: one bar per cause, largest first, and the cumulative
/// share of all mentions as a line on a 0–100% axis at the right. `None`
/// when there is nothing to draw.
pub fn pareto(bars: &[(String, i64)], count_label: &str, share_label: &str) -> Option<String> {
    let total: i64 = bars.iter().map(|b| b.1).sum();
    if bars.is_empty() || total == 0 {
        return None;
    }
    let top = bars.iter().map(|b| b.1).max().unwrap_or(1) as f64 * 1.1;
    let last = bars.len() as f64 - 0.5;
    let mut cumulative = Vec::with_capacity(bars.len());
    let mut sum = 0;
    for (i, (_, n)) in bars.iter().enumerate() {
        sum += n;
        cumulative.push((i as f64, 100.0 * sum as f64 / total as f64));
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 300)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(48)
            .right_y_label_area_size(64)
            .build_cartesian_2d(-0.5..last, 0.0..top)
            .ok()?
            .set_secondary_coord(-0.5..last, 0.0..100.0);
        // As much of each name as its bar's width holds (12 px text is
        // about 7 px a letter); the table below has them whole.
        let fits = ((f64::from(WIDTH) - 150.0) / bars.len() as f64 / 7.0).floor() as usize;
        let fits = fits.clamp(8, 40);
        let labels: Vec<String> = bars
            .iter()
            .map(|(l, _)| {
                if l.chars().count() > fits {
                    format!("{}…", l.chars().take(fits - 1).collect::<String>())
                } else {
                    l.clone()
                }
            })
            .collect();
        let style = ("sans-serif", 12)
            .into_font()
            .color(&RGBColor(90, 100, 115));
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(bars.len())
            .x_label_formatter(&|x| index_label(&labels, *x))
            .y_desc(count_label)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .light_line_style(RGBColor(236, 239, 243))
            .bold_line_style(RGBColor(214, 219, 226))
            .axis_style(RGBColor(160, 168, 180))
            .label_style(style.clone())
            .draw()
            .ok()?;
        chart
            .configure_secondary_axes()
            .y_desc(share_label)
            .y_label_formatter(&|y| format!("{y:.0}%"))
            .axis_style(RGBColor(160, 168, 180))
            .label_style(style)
            .draw()
            .ok()?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, n))| {
                let x = i as f64;
                Rectangle::new(
                    [(x - 0.35, 0.0), (x + 0.35, *n as f64)],
                    LINE.mix(0.75).filled(),
                )
            }))
            .ok()?;
        let accent = RGBColor(214, 96, 38);
        chart
            .draw_secondary_series(LineSeries::new(cumulative.clone(), accent.stroke_width(2)))
            .ok()?;
        chart
            .draw_secondary_series(
                cumulative
                    .iter()
                    .map(|(x, y)| Circle::new((*x, *y), 3, accent.filled())),
            )
            .ok()?;
        // The 80% line of the Pareto rule.
        chart
            .draw_secondary_series(LineSeries::new(
                vec![(-0.5, 80.0), (last, 80.0)],
                RGBColor(190, 196, 206),
            ))
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// The colours of the lines of a [`percent_lines`] chart, in order (the
/// legend's `.swatch.s0`… in app.css).
pub const SERIES_COLOURS: [RGBColor; 4] = [
    LINE,
    RGBColor(217, 119, 6),
    RGBColor(22, 163, 74),
    RGBColor(147, 51, 234),
];

/// Rates in % over time (periods as labels), one line per series (at
/// most four; the legend is the page's, in these colours); a period with
/// no value leaves a gap. `None` when nothing is there to draw.
pub fn percent_lines(
    labels: &[String],
    series: &[Vec<Option<f64>>],
    y_label: &str,
) -> Option<String> {
    if series.iter().flatten().all(Option::is_none) {
        return None;
    }
    let last = labels.len().saturating_sub(1).max(1) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(44)
            .build_cartesian_2d(-0.3..last + 0.3, 0.0..100.0)
            .ok()?;
        chart
            .configure_mesh()
            .x_labels(labels.len().min(12))
            .x_label_formatter(&|x| index_label(labels, *x))
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
        for (values, colour) in series.iter().zip(SERIES_COLOURS) {
            for run in known_runs(values) {
                chart
                    .draw_series(LineSeries::new(run.clone(), colour.stroke_width(2)))
                    .ok()?;
                chart
                    .draw_series(run.into_iter().map(|p| Circle::new(p, 3, colour.filled())))
                    .ok()?;
            }
        }
        root.present().ok()?;
    }
    Some(svg)
}

/// The runs of known values of a series, as points at their positions:
/// one line each, a gap where a value is missing.
fn known_runs(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => {
                if let Some(run) = runs.last_mut() {
                    run.push((i as f64, *v));
                }
            }
            None => runs.push(Vec::new()),
        }
    }
    runs.retain(|r| !r.is_empty());
    runs
}

/// Calls by hour of the day (bars, left axis) against the service level
/// of each hour (a line, right axis, %) and the target (a dashed line):
/// where the bars rise and the line falls under the target, the centre is
/// short of agents. `None` without calls.
pub fn calls_by_hour(
    offered: &[i64; 24],
    service_level: &[Option<f64>; 24],
    target: f64,
    calls_label: &str,
    level_label: &str,
) -> Option<String> {
    let most = *offered.iter().max()?;
    if most == 0 {
        return None;
    }
    let top = (most as f64 * 1.15).ceil().max(1.0);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(48)
            .right_y_label_area_size(44)
            .build_cartesian_2d(-0.5..23.5, 0.0..top)
            .ok()?
            .set_secondary_coord(-0.5..23.5, 0.0..100.0);
        let label_style = ("sans-serif", 12)
            .into_font()
            .color(&RGBColor(90, 100, 115));
        chart
            .configure_mesh()
            .x_labels(24)
            .x_label_formatter(&|x: &f64| format!("{:02}", x.round() as i64))
            .y_desc(calls_label)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .light_line_style(RGBColor(236, 239, 243))
            .bold_line_style(RGBColor(214, 219, 226))
            .axis_style(RGBColor(160, 168, 180))
            .label_style(label_style.clone())
            .draw()
            .ok()?;
        chart
            .configure_secondary_axes()
            .y_desc(level_label)
            .y_label_formatter(&|y| format!("{y:.0}%"))
            .axis_style(RGBColor(160, 168, 180))
            .label_style(label_style)
            .draw()
            .ok()?;
        chart
            .draw_series(offered.iter().enumerate().map(|(h, n)| {
                let x = h as f64;
                Rectangle::new(
                    [(x - 0.35, 0.0), (x + 0.35, *n as f64)],
                    RGBColor(191, 214, 240).filled(),
                )
            }))
            .ok()?;
        let target_line = DashedLineSeries::new(
            [(-0.5, target), (23.5, target)],
            6,
            4,
            RGBColor(220, 38, 38).stroke_width(2),
        );
        chart.draw_secondary_series(target_line).ok()?;
        for run in known_runs(service_level) {
            chart
                .draw_secondary_series(LineSeries::new(run.clone(), LINE.stroke_width(2)))
                .ok()?;
            chart
                .draw_secondary_series(run.into_iter().map(|p| Circle::new(p, 3, LINE.filled())))
                .ok()?;
        }
        root.present().ok()?;
    }
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_by_hour_draw_bars_the_level_and_the_target() {
        let mut offered = [0i64; 24];
        offered[9] = 120;
        offered[10] = 80;
        let mut level = [None; 24];
        level[9] = Some(61.0);
        level[10] = Some(88.0);
        let svg = calls_by_hour(&offered, &level, 80.0, "calls", "service level").unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("service level"));
        assert!(svg.matches("<rect").count() >= 24, "a bar per hour");
        assert_eq!(calls_by_hour(&[0; 24], &[None; 24], 80.0, "c", "s"), None);
    }

    #[test]
    fn a_trend_is_an_svg_with_its_labels_and_nothing_without_data() {
        let points = vec![
            Point {
                label: "2026-11-02".into(),
                value: Some(30.0),
                interval: Some((20.0, 40.0)),
                partial: false,
            },
            Point {
                label: "2026-11-09".into(),
                value: None,
                interval: None,
                partial: false,
            },
            Point {
                label: "2026-11-16".into(),
                value: Some(-10.0),
                interval: Some((-25.0, 5.0)),
                partial: false,
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
            partial: false,
        }];
        assert!(trend(&empty, "NPS").is_none());
    }

    #[test]
    fn the_period_so_far_is_drawn_apart() {
        use doorstep_store::survey::rollups::GroupBy;
        let today: jiff::civil::Date = "2026-12-09".parse().unwrap(); // a Wednesday
        assert!(in_progress("2026-12-09", GroupBy::Day, today));
        assert!(!in_progress("2026-12-07", GroupBy::Day, today));
        assert!(in_progress("2026-12-07", GroupBy::Week, today));
        assert!(!in_progress("2026-11-30", GroupBy::Week, today));
        assert!(in_progress("2026-12", GroupBy::Month, today));
        assert!(!in_progress("2026-11", GroupBy::Month, today));
        let point = |label: &str, value: f64, partial: bool| Point {
            label: label.into(),
            value: Some(value),
            interval: None,
            partial,
        };
        let whole = trend(&[point("a", 30.0, false), point("b", 32.0, false)], "NPS").unwrap();
        let so_far = trend(&[point("a", 30.0, false), point("b", -90.0, true)], "NPS").unwrap();
        // The dashed line is drawn as short segments, the dot hollow.
        let hollow = |svg: &str| {
            svg.split("<circle")
                .skip(1)
                .filter(|c| c.split('>').next().unwrap_or("").contains("fill=\"none\""))
                .count()
        };
        assert_eq!((hollow(&whole), hollow(&so_far)), (0, 1), "{so_far}");
        assert!(
            so_far.matches("<polyline").count() > whole.matches("<polyline").count(),
            "{so_far}"
        );
    }

    #[test]
    fn a_pareto_has_a_bar_per_cause_and_the_cumulative_share() {
        let svg = pareto(
            &[
                ("Late delivery".into(), 60),
                ("Damaged order".into(), 30),
                ("Something was missing entirely".into(), 10),
            ],
            "Answers",
            "Cumulative %",
        )
        .unwrap();
        // Three bars leave room for whole names; twelve cut the long ones.
        assert!(
            svg.contains("Late delivery") && svg.contains("Something was missing entirely"),
            "{svg}"
        );
        let many: Vec<(String, i64)> = (0..12)
            .map(|i| (format!("Something was missing entirely {i}"), 12 - i))
            .collect();
        let crowded = pareto(&many, "Answers", "Cumulative %").unwrap();
        assert!(
            crowded.contains("Somethin…") && !crowded.contains("entirely 3"),
            "{crowded}"
        );
        assert!(svg.contains("100%") && svg.contains("Cumulative"), "{svg}");
        assert!(svg.matches("<rect").count() >= 3, "a bar per cause");
        assert!(pareto(&[], "", "").is_none());
        assert!(pareto(&[("x".into(), 0)], "", "").is_none());
    }
}

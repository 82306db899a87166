//! `/dashboard`: the survey scores of a period — headline tiles beside the
//! previous period (marked only where the change is beyond chance), and a
//! breakdown by any grouping, ranked by the lower bound of the NPS interval.
//! Every choice lives in the URL, so a view can be bookmarked and sent.

use askama::Template;
use axum::extract::{Query, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use doorstep_domain::survey::metrics::{nps_change_significant, Scores};
use doorstep_domain::survey::Channel;
use doorstep_domain::time::day_number;
use doorstep_domain::Segment;
use doorstep_store::survey::rollups::GroupBy;
use jiff::civil::Date;

use super::{failed, internal, render, Chrome, OrPage, PageResult};
use crate::app::survey::metrics::{compute, Answer, Group, MetricsQuery, Request};
use crate::app::survey::report::ReportFormat;
use crate::http::auth::{AnyStaff, Staff};
use crate::http::AppState;
use crate::i18n::Tr;

/// One headline figure.
pub struct Tile {
    pub label: String,
    pub value: String,
    pub detail: String,
    pub previous: String,
    /// `up` or `down` when the change is statistically significant.
    pub change: &'static str,
}

/// One point of the trend, as a row under the chart.
pub struct TrendPoint {
    pub label: String,
    pub so_far: bool,
    pub nps: String,
    pub n: i64,
    pub causes_href: Option<String>,
    pub orders_href: Option<String>,
}

/// One row of the breakdown.
pub struct Row {
    pub label: String,
    pub key: String,
    pub href: String,
    pub n: i64,
    pub nps: String,
    pub interval: String,
    pub csi: String,
    pub ces: String,
    pub response_rate: String,
    pub on_time: String,
    pub rank: String,
    pub too_few: bool,
    /// A courier's self-filling signals, named, and where their evidence is.
    pub signals: String,
    pub evidence: String,
    /// The slice's causes and its orders (with their answers).
    pub causes_href: Option<String>,
    pub orders_href: Option<String>,
    /// Its NPS fell beyond chance since the previous period: what changed.
    pub why_href: Option<String>,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A column header that sorts the table.
pub struct Sorter {
    pub name: &'static str,
    pub label: String,
    pub href: String,
    /// `ascending`, `descending` or `none` (as `aria-sort` says it).
    pub direction: &'static str,
    pub numeric: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    c: Chrome,
    from: String,
    to: String,
    previous: String,
    policy: String,
    groupings: Vec<Choice>,
    filters: Vec<(String, &'static str, Vec<Choice>)>,
    tiles: Vec<Tile>,
    sorters: Vec<Sorter>,
    rows: Vec<Row>,
    group_label: String,
    query: String,
    error: Option<String>,
    /// The NPS trend over the period, as SVG.
    trend: Option<String>,
    /// The trend's points as rows (what the chart shows, each a link away).
    trend_points: Vec<TrendPoint>,
    trend_title: String,
    /// The trend in words (the chart's text alternative).
    trend_words: String,
    /// Closing the loop over the period (the whole period: `rows` is
    /// empty, as the shared table expects), and who was at fault.
    total: Option<super::recovery::LoopRowView>,
    rows_loop: Vec<super::recovery::LoopRowView>,
    fault_groups: Vec<(String, Vec<super::recovery::FaultLine>)>,
    loop_href: Option<String>,
    /// The service figures of the period (METRICS.md, "Support"): all
    /// lines, then each line.
    total_support: Option<super::support::SupportRow>,
    support_rows: Vec<super::support::SupportRow>,
    support_href: Option<String>,
    /// Late orders of the period told first (METRICS.md, Delivery).
    told_first: Option<ToldFirstView>,
    /// Items refused at the door over the period (METRICS.md, Delivery):
    /// by the grouping (city, partner or courier) and by reason.
    refusals: Option<RefusalsView>,
    /// The drill-down so far, each level a link back up: (label, href).
    crumbs: Vec<(String, Option<String>)>,
    /// The headline NPS fell beyond chance: what changed.
    why_href: Option<String>,
    /// The period and filters, for the printed page (the form is not printed).
    print_scope: String,
}

/// The NPS fell from `before` to `now` beyond chance.
fn fell(now: &Scores, before: &Scores) -> bool {
    nps_change_significant(now, before) && now.nps < before.nps
}

/// The filters set, in drill-down order (city → partner → courier → …),
/// each a step back up to its level: the first step is everyone.
fn crumbs(req: &Request, query: &str, lists: &Lists, t: Tr<'_>) -> Vec<(String, Option<String>)> {
    const LEVELS: [(&str, GroupBy); 6] = [
        ("city", GroupBy::City),
        ("partner", GroupBy::Partner),
        ("courier", GroupBy::Courier),
        ("segment", GroupBy::Segment),
        ("survey", GroupBy::Survey),
        ("channel", GroupBy::Channel),
    ];
    let d = &req.dims;
    let set: Vec<(&str, GroupBy, String)> = LEVELS
        .iter()
        .filter_map(|(name, group)| {
            let value = match *name {
                "city" => d.city.clone(),
                "partner" => d.partner.clone(),
                "courier" => d.courier.clone(),
                "segment" => d.segment.map(|s| s.as_str().to_owned()),
                "survey" => d.survey.clone(),
                _ => d.channel.map(|c| c.as_str().to_owned()),
            }?;
            Some((*name, *group, value))
        })
        .collect();
    if set.is_empty() {
        return Vec::new();
    }
    let label = |name: &str, value: &str| match name {
        "courier" => lists
            .couriers
            .iter()
            .find(|(id, _)| id == value)
            .map_or(value.to_owned(), |(_, n)| n.clone()),
        "segment" => t.t(&format!("segment-{value}")),
        "channel" => t.t(&format!("channel-{value}")),
        "survey" => lists
            .surveys
            .iter()
            .find(|(id, _)| id == value)
            .map_or(value.to_owned(), |(_, n)| n.clone()),
        _ => value.to_owned(),
    };
    let cleared: Vec<(&str, &str)> = set.iter().map(|(n, _, _)| (*n, "")).collect();
    let mut out = vec![(
        t.t("dashboard-all"),
        Some(format!(
            "/dashboard{}",
            with_params(
                query,
                &[cleared.as_slice(), &[("group_by", "city"), ("sort", "")]].concat()
            )
        )),
    )];
    for (i, (name, group, value)) in set.iter().enumerate() {
        let last = i + 1 == set.len();
        let href = (!last).then(|| {
            let mut pairs: Vec<(&str, &str)> =
                set[i + 1..].iter().map(|(n, _, _)| (*n, "")).collect();
            pairs.push(("group_by", next_level(*group)));
            pairs.push(("sort", ""));
            format!("/dashboard{}", with_params(query, &pairs))
        });
        out.push((label(name, value), href));
    }
    out
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct DashboardQuery {
    #[serde(flatten)]
    metrics: MetricsQuery,
    sort: Option<String>,
}

const GROUPINGS: [&str; 9] = [
    "city", "courier", "partner", "segment", "survey", "channel", "day", "week", "month",
];
/// The sortable columns, in the table's order after the group's name.
const SORTS: [&str; 8] = [
    "key",
    "n",
    "nps",
    "csi",
    "ces",
    "response_rate",
    "on_time",
    "rank",
];

pub async fn page(
    State(app): State<AppState>,
    Staff(user, _): Staff<AnyStaff>,
    Query(mut q): Query<DashboardQuery>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let deployment = app.deployment();
    let tz = deployment.tz();
    let today = jiff::Timestamp::now().to_zoned(tz).date();
    if q.metrics.group_by.as_deref().is_none_or(str::is_empty) {
        q.metrics.group_by = Some("city".to_owned());
    }
    let mut c = Chrome::new(&app, &user, "/dashboard", "nav-dashboard");
    c.title = c.tr.t("dashboard-title");
    let t = c.tr;
    q.metrics = super::console_query(&q.metrics);
    let (req, error) = match q.metrics.request(today) {
        Ok(r) => (r, None),
        Err(e) => (
            MetricsQuery {
                group_by: q.metrics.group_by.clone(),
                ..MetricsQuery::default()
            }
            .request(today)
            .unwrap_or_else(|_| fallback(today)),
            Some(e.to_string()),
        ),
    };
    let now = compute(&app.store, &deployment, &req.overall())
        .await
        .page(user.lang)?;
    let days = day_number(req.to) - day_number(req.from) + 1;
    let before = req.overall().previous();
    let then = compute(&app.store, &deployment, &before)
        .await
        .page(user.lang)?;
    let breakdown = compute(&app.store, &deployment, &req)
        .await
        .page(user.lang)?;
    // Each group in the period before, to mark the ones that fell.
    let breakdown_before: std::collections::HashMap<String, Scores> =
        if req.group.is_time() || req.group == GroupBy::All {
            std::collections::HashMap::new()
        } else {
            crate::app::survey::metrics::compute_scores(&app.store, &deployment, &req.previous())
                .await
                .page(user.lang)?
                .groups
                .into_iter()
                .map(|g| (g.key, g.scores))
                .collect()
        };
    // The trend: by day up to two months, by week up to two years, else by month.
    let step = match days {
        ..=62 => GroupBy::Day,
        63..=730 => GroupBy::Week,
        _ => GroupBy::Month,
    };
    let series = match compute(
        &app.store,
        &deployment,
        &Request {
            group: step,
            period: None,
            ..req.clone()
        },
    )
    .await
    {
        Ok(a) => a,
        Err(e) => return Err(failed(user.lang, e)),
    };
    let trend = crate::charts::nps_trend(&series.groups, step, today);
    let trend_words = crate::charts::trend_words(&series.groups, t);
    // Each point of the trend, with its causes and answers a click away.
    let step_req = Request {
        group: step,
        period: None,
        ..req.clone()
    };
    let query_text = raw.clone().unwrap_or_default();
    let trend_points: Vec<TrendPoint> = series
        .groups
        .iter()
        .filter(|g| g.scores.nps_n > 0)
        .map(|g| TrendPoint {
            label: super::show_day(&g.key),
            so_far: crate::charts::in_progress(&g.key, step, today),
            nps: opt(g.scores.nps, signed),
            n: g.scores.nps_n,
            causes_href: slice_href(g, &step_req, &query_text, "/causes"),
            orders_href: slice_href(g, &step_req, &query_text, "/orders"),
        })
        .collect();
    let (start, end) = doorstep_domain::time::day_range(req.from, req.to, &deployment.tz());
    let (start, end) = (
        doorstep_domain::time::to_millis(start),
        doorstep_domain::time::to_millis(end),
    );
    let loop_total = crate::app::helpdesk::reports::loop_figures(
        &app.store,
        &deployment.tz(),
        start,
        end,
        crate::app::helpdesk::reports::LoopGroup::All,
    )
    .await
    .page(user.lang)?;
    let found_faults = crate::app::helpdesk::reports::faults(&app.store, start, end)
        .await
        .page(user.lang)?;
    let support = |group| crate::app::helpdesk::support::SupportRequest {
        from: req.from,
        to: req.to,
        group,
    };
    use crate::app::helpdesk::support::Grouping as SupportGrouping;
    let support_total =
        crate::app::helpdesk::support::compute(&app, &support(SupportGrouping::All))
            .await
            .page(user.lang)?;
    let support_lines =
        crate::app::helpdesk::support::compute(&app, &support(SupportGrouping::Line))
            .await
            .page(user.lang)?;
    let told_first = crate::app::helpdesk::late::told_first(&app, start, end)
        .await
        .page(user.lang)?;
    let lists = Lists::load(&app).await.page(user.lang)?;
    let refusals = RefusalsView::load(&app, &req, &lists, t)
        .await
        .page(user.lang)?;
    let query = raw.unwrap_or_default();
    let sort = q
        .sort
        .as_deref()
        .map(str::trim)
        .filter(|s| SORTS.contains(&s.trim_start_matches('-')))
        .unwrap_or(if req.group.is_time() { "key" } else { "rank" });
    let mut groups = breakdown.groups.clone();
    sort_groups(&mut groups, sort);
    let view = DashboardPage {
        from: req.from.to_string(),
        to: req.to.to_string(),
        previous: t.with2(
            "dashboard-previous",
            "from",
            super::show_day(&before.from.to_string()),
            "to",
            super::show_day(&before.to.to_string()),
        ),
        policy: t.t(&format!("refusal-policy-{}", now.refusal_policy)),
        groupings: GROUPINGS
            .iter()
            .map(|g| Choice {
                value: (*g).to_owned(),
                label: t.t(&format!("group-{g}")),
                selected: req.group.as_str() == *g,
            })
            .collect(),
        filters: lists.choices(&req, t),
        tiles: tiles(&now, &then, t),
        sorters: SORTS
            .iter()
            .map(|s| {
                // A column sorts ascending first; the sorted one turns over.
                let direction = if sort == *s {
                    "ascending"
                } else if sort.strip_prefix('-') == Some(s) {
                    "descending"
                } else {
                    "none"
                };
                let next = if direction == "ascending" {
                    format!("-{s}")
                } else {
                    (*s).to_owned()
                };
                Sorter {
                    name: s,
                    label: if *s == "key" {
                        t.t(&format!("group-{}", req.group.as_str()))
                    } else {
                        t.t(&format!("dashboard-col-{s}"))
                    },
                    href: with_param(&query, "sort", &next),
                    direction,
                    numeric: !matches!(*s, "key"),
                }
            })
            .collect(),
        rows: groups
            .iter()
            .map(|g| {
                let mut r = row(g, &req, &query, t);
                if breakdown_before
                    .get(&g.key)
                    .is_some_and(|b| fell(&g.scores, b))
                {
                    let mut pairs: Vec<(&str, String)> = slice(g, &req);
                    pairs.push(("group_by", String::new()));
                    let pairs: Vec<(&str, &str)> =
                        pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    r.why_href = Some(format!("/dashboard/why{}", with_params(&query, &pairs)));
                }
                r
            })
            .collect(),
        print_scope: {
            let chosen: Vec<String> = lists
                .choices(&req, t)
                .into_iter()
                .filter_map(|(label, _, options)| {
                    options
                        .into_iter()
                        .find(|o| o.selected && !o.value.is_empty())
                        .map(|o| format!("{label}: {}", o.label))
                })
                .collect();
            t.args(
                "dashboard-print-scope",
                vec![
                    ("from", super::show_day(&req.from.to_string()).into()),
                    ("to", super::show_day(&req.to.to_string()).into()),
                    (
                        "filters",
                        if chosen.is_empty() {
                            t.t("dashboard-any")
                        } else {
                            chosen.join(", ")
                        }
                        .into(),
                    ),
                ],
            )
        },
        crumbs: crumbs(&req, &query, &lists, t),
        why_href: match (now.groups.first(), then.groups.first()) {
            (Some(current), Some(earlier)) => fell(&current.scores, &earlier.scores),
            _ => false,
        }
        .then(|| format!("/dashboard/why{}", with_params(&query, &[("group_by", "")]))),
        group_label: t.t(&format!("group-{}", req.group.as_str())),
        query,
        error,
        total: loop_total
            .first()
            .filter(|r| r.figures.incidents > 0)
            .map(|r| super::recovery::loop_view(t, t.t("loop-all"), &r.figures)),
        rows_loop: Vec::new(),
        fault_groups: super::recovery::fault_groups(t, &found_faults, &deployment.currency),
        loop_href: user
            .may::<crate::http::auth::DispatchDesk>()
            .then(|| format!("/dispatch/loop?from={}&to={}", req.from, req.to)),
        total_support: support_total
            .groups
            .first()
            .filter(|g| g.cases > 0 || g.resolved > 0)
            .map(|g| super::support::row(t, t.t("loop-all"), g)),
        support_rows: support_lines
            .groups
            .iter()
            .map(|g| {
                super::support::row(
                    t,
                    super::support::key_label(t, SupportGrouping::Line, &g.key, &[]),
                    g,
                )
            })
            .collect(),
        support_href: user
            .may::<crate::http::auth::DispatchDesk>()
            .then(|| format!("/support?from={}&to={}", req.from, req.to)),
        told_first: told_first_view(t, &told_first),
        refusals,
        trend,
        trend_words,
        trend_points,
        trend_title: t.with(
            "dashboard-trend",
            "step",
            t.t(&format!("group-{}", step.as_str())).to_lowercase(),
        ),
        c,
    };
    Ok(render(&view))
}

fn fallback(today: Date) -> Request {
    Request::new(
        today
            .checked_sub(jiff::Span::new().days(29))
            .unwrap_or(today),
        today,
        GroupBy::City,
    )
}

/// The request a query asks for, or the last 30 days by city and what was
/// wrong with the query.
pub(super) fn requested(q: &MetricsQuery, today: Date) -> (Request, Option<String>) {
    match super::console_query(q).request(today) {
        Ok(r) => (r, None),
        Err(e) => (fallback(today), Some(e.to_string())),
    }
}

/// `query` with `name` set to `value` (others kept).
pub(super) fn with_param(query: &str, name: &str, value: &str) -> String {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .filter(|(k, _)| k != name)
        .collect();
    pairs.push((name.to_owned(), value.to_owned()));
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    format!("?{}", s.finish())
}

/// Sorts by a column: `nps` lowest first, `-nps` highest first (a `-`
/// reverses any column). Groups without the figure come last either way;
/// by rank, the unranked (too few answers) come last, largest first.
fn sort_groups(groups: &mut [Group], sort: &str) {
    use std::cmp::Ordering;
    let (descending, column) = match sort.strip_prefix('-') {
        Some(c) => (true, c),
        None => (false, sort),
    };
    let turn = |o: Ordering| if descending { o.reverse() } else { o };
    let figure = |g: &Group| -> Option<f64> {
        let s = &g.scores;
        match column {
            "n" => Some(s.nps_n as f64),
            "nps" => s.nps,
            "csi" => s.csi_100,
            "ces" => s.ces,
            "response_rate" => s.response_rate,
            "on_time" => s.on_time_rate,
            _ => g.rank.map(|r| r as f64),
        }
    };
    if column == "key" {
        groups.sort_by(|a, b| turn(a.key.cmp(&b.key)));
        return;
    }
    groups.sort_by(|a, b| match (figure(a), figure(b)) {
        (Some(x), Some(y)) => turn(x.total_cmp(&y)).then_with(|| a.key.cmp(&b.key)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => b
            .scores
            .nps_n
            .cmp(&a.scores.nps_n)
            .then_with(|| a.key.cmp(&b.key)),
    });
}

pub(super) fn signed(v: f64) -> String {
    if v > 0.0 {
        format!("+{v:.1}")
    } else {
        format!("{v:.1}")
    }
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "—".to_owned(), f)
}

fn csi_text(s: &Scores) -> String {
    match (s.csi, s.csi_scale_max) {
        (Some(v), Some(max)) => format!("{v:.2} / {max}"),
        _ => opt(s.csi_100, |v| format!("{v:.1} / 100")),
    }
}

/// Items refused at the door, as the dashboard shows them.
pub(super) struct RefusalsView {
    /// What the first table is by (a city, partner or courier).
    pub by_label: String,
    pub total: String,
    pub by_group: Vec<(String, String)>,
    pub by_reason: Vec<(String, String)>,
}

impl RefusalsView {
    async fn load(
        app: &AppState,
        req: &Request,
        lists: &Lists,
        t: Tr<'_>,
    ) -> anyhow::Result<Option<RefusalsView>> {
        use crate::app::survey::refusals::refusal_rates;
        use doorstep_store::refusals::RefusalCut;
        let filter = req.filter(&app.deployment().tz());
        let (cut, group) = match req.group {
            GroupBy::Partner => (RefusalCut::Partner, GroupBy::Partner),
            GroupBy::Courier => (RefusalCut::Courier, GroupBy::Courier),
            _ => (RefusalCut::City, GroupBy::City),
        };
        let Some(total) = refusal_rates(&app.store, &filter, RefusalCut::All).await? else {
            return Ok(None);
        };
        let Some(total) = total.into_iter().next() else {
            return Ok(None);
        };
        let by_group = refusal_rates(&app.store, &filter, cut)
            .await?
            .unwrap_or_default();
        let by_reason = refusal_rates(&app.store, &filter, RefusalCut::Reason)
            .await?
            .unwrap_or_default();
        let label = |key: &str| -> String {
            if key.is_empty() {
                return t.t("dashboard-none");
            }
            if cut == RefusalCut::Courier {
                if let Some((_, name)) = lists.couriers.iter().find(|(id, _)| id == key) {
                    if name != key {
                        return format!("{name} ({key})");
                    }
                }
            }
            key.to_owned()
        };
        Ok(Some(RefusalsView {
            by_label: t.t(&format!("group-{}", group.as_str())),
            total: refusal_share(t, &total),
            by_group: by_group
                .iter()
                .map(|r| (label(&r.key), refusal_share(t, r)))
                .collect(),
            by_reason: by_reason
                .iter()
                .map(|r| (t.t(&format!("term-refusal-{}", r.key)), refusal_share(t, r)))
                .collect(),
        }))
    }
}

/// Refused of delivered, as "2.4% (12 of 500)".
pub(super) fn refusal_share(t: Tr<'_>, r: &crate::app::survey::refusals::RefusalRow) -> String {
    match r.rate() {
        Some(p) => t.args(
            "share",
            vec![
                ("percent", format!("{:.1}", p * 100.0).into()),
                ("count", r.refused.into()),
                ("of", r.delivered.into()),
            ],
        ),
        None => t.with("dashboard-refused-undelivered", "count", r.refused),
    }
}

/// The late orders told first, as the dashboard shows them.
pub(super) struct ToldFirstView {
    pub late: u64,
    pub told_first: String,
    pub told_nps: String,
    pub untold_nps: String,
    /// The told-first customers' NPS is above the others' beyond chance.
    pub better: bool,
}

fn group_nps(t: Tr<'_>, g: &doorstep_domain::helpdesk::late::GroupNps) -> String {
    match (g.nps, g.ci95_low, g.ci95_high) {
        (Some(nps), Some(low), Some(high)) => t.with2(
            "told-nps-interval",
            "nps",
            signed(nps),
            "interval",
            format!("{} … {} · N = {}", signed(low), signed(high), g.answers),
        ),
        (Some(nps), _, _) => format!("{} · N = {}", signed(nps), g.answers),
        _ => t.t("told-no-answers"),
    }
}

pub(super) fn told_first_view(
    t: Tr<'_>,
    f: &doorstep_domain::helpdesk::late::ToldFirst,
) -> Option<ToldFirstView> {
    (f.told_first.of > 0).then(|| ToldFirstView {
        late: f.told_first.of,
        told_first: super::recovery::share(t, &f.told_first, true),
        told_nps: group_nps(t, &f.told_nps),
        untold_nps: group_nps(t, &f.untold_nps),
        better: f.told_score_better(),
    })
}

/// Two shares differ beyond chance (a two-proportion z-test at 95%).
pub(super) fn shares_differ(a: (i64, i64), b: (i64, i64)) -> bool {
    let (xa, na, xb, nb) = (a.0 as f64, a.1 as f64, b.0 as f64, b.1 as f64);
    if na < 2.0 || nb < 2.0 {
        return false;
    }
    let pooled = (xa + xb) / (na + nb);
    let se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    se > 0.0 && ((xa / na - xb / nb).abs() / se) > 1.96
}

fn direction(now: Option<f64>, then: Option<f64>, significant: bool) -> &'static str {
    match (now, then) {
        (Some(a), Some(b)) if significant && a > b => "up",
        (Some(a), Some(b)) if significant && a < b => "down",
        _ => "",
    }
}

pub(super) fn tiles(now: &Answer, then: &Answer, t: Tr<'_>) -> Vec<Tile> {
    let empty = Group {
        key: String::new(),
        label: String::new(),
        period: None,
        rank: None,
        self_filling_signals: Vec::new(),
        scores: doorstep_domain::survey::metrics::Tally::default().scores(
            doorstep_domain::survey::metrics::RefusalPolicy::Exclude,
            None,
        ),
    };
    let cur = &now.groups.first().unwrap_or(&empty).scores;
    let prev = &then.groups.first().unwrap_or(&empty).scores;
    let sessions = |s: &Scores| s.responses + s.refusals;
    // A figure with nothing to count says why instead of a bare dash.
    let why_empty = [
        (cur.nps_n, "dashboard-empty-nps"),
        (cur.csi_n, "dashboard-empty-csi"),
        (cur.csat_n, "dashboard-empty-csat"),
        (cur.ces_n, "dashboard-empty-ces"),
        (sessions(cur), "dashboard-empty-sessions"),
        (cur.delivered, "dashboard-empty-deliveries"),
        (sessions(cur), "dashboard-empty-sessions"),
    ];
    let mut tiles = vec![
        Tile {
            label: t.t("metric-nps"),
            value: opt(cur.nps, signed),
            detail: match (cur.nps_ci95_low, cur.nps_ci95_high) {
                (Some(l), Some(h)) => t.with2(
                    "tile-n-interval",
                    "n",
                    cur.nps_n,
                    "interval",
                    format!("{} … {}", signed(l), signed(h)),
                ),
                _ => t.with("tile-n", "n", cur.nps_n),
            },
            previous: opt(prev.nps, signed),
            change: direction(cur.nps, prev.nps, nps_change_significant(cur, prev)),
        },
        Tile {
            label: t.t("metric-csi"),
            value: csi_text(cur),
            detail: t.with("tile-n", "n", cur.csi_n),
            previous: csi_text(prev),
            change: "",
        },
        Tile {
            label: t.t("metric-csat"),
            value: opt(cur.csat, |v| format!("{v:.1}%")),
            detail: t.with("tile-n", "n", cur.csat_n),
            previous: opt(prev.csat, |v| format!("{v:.1}%")),
            change: direction(cur.csat, prev.csat, {
                let top = |s: &Scores| {
                    s.csat
                        .map_or(0, |p| (p * s.csat_n as f64 / 100.0).round() as i64)
                };
                shares_differ((top(cur), cur.csat_n), (top(prev), prev.csat_n))
            }),
        },
        Tile {
            label: t.t("metric-ces"),
            value: opt(cur.ces, |v| format!("{v:.2} / 7")),
            detail: opt(cur.net_easy, |v| {
                t.with2("tile-net-easy", "value", signed(v), "n", cur.ces_n)
            }),
            previous: opt(prev.ces, |v| format!("{v:.2}")),
            change: "",
        },
        Tile {
            label: t.t("metric-response-rate"),
            value: opt(cur.response_rate, |v| format!("{v:.1}%")),
            detail: t.with("tile-sessions", "n", sessions(cur)),
            previous: opt(prev.response_rate, |v| format!("{v:.1}%")),
            change: direction(
                cur.response_rate,
                prev.response_rate,
                shares_differ(
                    (cur.responses, sessions(cur)),
                    (prev.responses, sessions(prev)),
                ),
            ),
        },
        Tile {
            label: t.t("metric-on-time"),
            value: opt(cur.on_time_rate, |v| format!("{v:.1}%")),
            detail: t.with("tile-delivered", "n", cur.delivered),
            previous: opt(prev.on_time_rate, |v| format!("{v:.1}%")),
            change: direction(
                cur.on_time_rate,
                prev.on_time_rate,
                shares_differ((cur.on_time, cur.delivered), (prev.on_time, prev.delivered)),
            ),
        },
        Tile {
            label: t.t("metric-refusal-rate"),
            value: opt(cur.refusal_rate, |v| format!("{v:.1}%")),
            detail: t.with2(
                "tile-refusals",
                "refused",
                cur.refused,
                "timed_out",
                cur.timed_out,
            ),
            previous: opt(prev.refusal_rate, |v| format!("{v:.1}%")),
            change: direction(
                cur.refusal_rate,
                prev.refusal_rate,
                shares_differ(
                    (cur.refusals, sessions(cur)),
                    (prev.refusals, sessions(prev)),
                ),
            ),
        },
    ];
    for (tile, (n, why)) in tiles.iter_mut().zip(why_empty) {
        if n == 0 {
            tile.detail = t.t(why);
        }
    }
    tiles
}

/// The filters that make a row's slice: its group as a filter (a city, a
/// courier…; a day, week or month as the period).
fn slice(g: &Group, req: &Request) -> Vec<(&'static str, String)> {
    let key = g.key.clone();
    match req.group {
        GroupBy::City => vec![("city", key)],
        GroupBy::Courier => vec![("courier", key)],
        GroupBy::Partner => vec![("partner", key)],
        GroupBy::Segment => vec![("segment", key)],
        GroupBy::Survey => vec![("survey", key)],
        GroupBy::Channel => vec![("channel", key)],
        GroupBy::Day => vec![("from", key.clone()), ("to", key)],
        GroupBy::Week => {
            let end = key
                .parse::<Date>()
                .ok()
                .and_then(|d| d.checked_add(jiff::Span::new().days(6)).ok())
                .map(|d| d.to_string())
                .unwrap_or_default();
            vec![("from", key), ("to", end)]
        }
        GroupBy::Month => {
            let first = format!("{key}-01");
            let last = first
                .parse::<Date>()
                .map(|d| d.last_of_month().to_string())
                .unwrap_or_default();
            vec![("from", first), ("to", last)]
        }
        GroupBy::All => Vec::new(),
    }
}

/// The grouping one level down from a filter or a grouping: a city's or a
/// partner's couriers, a courier's weeks, a week's days…
fn next_level(group: GroupBy) -> &'static str {
    match group {
        GroupBy::City | GroupBy::Partner | GroupBy::Day => "courier",
        GroupBy::Courier | GroupBy::Month => "week",
        GroupBy::Week => "day",
        GroupBy::Segment | GroupBy::Survey | GroupBy::Channel | GroupBy::All => "city",
    }
}

/// `query` with these parameters set (others kept).
fn with_params(query: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = format!("?{}", query.trim_start_matches('?'));
    for (k, v) in pairs {
        out = with_param(out.trim_start_matches('?'), k, v);
    }
    out
}

/// Where a row leads: into that group, one level down.
fn drill(g: &Group, req: &Request, query: &str) -> String {
    let mut pairs: Vec<(&str, String)> = slice(g, req);
    pairs.push(("group_by", next_level(req.group).to_owned()));
    pairs.push(("sort", String::new()));
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    with_params(query, &pairs)
}

/// A row's slice on another page: its causes (same period and filters)
/// or its orders with their answers (which filter by city, courier,
/// partner and dates only).
fn slice_href(g: &Group, req: &Request, query: &str, page: &str) -> Option<String> {
    let pairs = slice(g, req);
    if page == "/orders" {
        if matches!(
            req.group,
            GroupBy::Segment | GroupBy::Survey | GroupBy::Channel
        ) || req.dims.segment.is_some()
            || req.dims.survey.is_some()
            || req.dims.channel.is_some()
        {
            return None;
        }
        let mut q: Vec<(String, String)> = vec![
            ("from".into(), req.from.to_string()),
            ("to".into(), req.to.to_string()),
        ];
        for (k, v) in [
            ("city", &req.dims.city),
            ("courier", &req.dims.courier),
            ("partner", &req.dims.partner),
        ] {
            if let Some(v) = v {
                q.push((k.into(), v.clone()));
            }
        }
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &q {
            if !pairs.iter().any(|(p, _)| p == k) {
                out.append_pair(k, v);
            }
        }
        for (k, v) in &pairs {
            out.append_pair(k, v);
        }
        return Some(format!("/orders?{}", out.finish()));
    }
    let mut all: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend([("group_by", ""), ("sort", "")]);
    Some(format!("{page}{}", with_params(query, &all)))
}

fn row(g: &Group, req: &Request, query: &str, t: Tr<'_>) -> Row {
    let scores = &g.scores;
    // Segments and channels are words of the product: named in the
    // reader's language, the code not repeated.
    let named = match req.group {
        GroupBy::Segment if !g.key.is_empty() => Some(t.t(&format!("segment-{}", g.key))),
        GroupBy::Channel if !g.key.is_empty() => Some(t.t(&format!("channel-{}", g.key))),
        _ => None,
    };
    Row {
        label: if let Some(name) = &named {
            name.clone()
        } else if req.group.is_time() {
            super::show_day(&g.label)
        } else if g.label.is_empty() {
            t.t("dashboard-none")
        } else {
            g.label.clone()
        },
        key: if g.label == g.key || named.is_some() {
            String::new()
        } else {
            g.key.clone()
        },
        href: drill(g, req, query),
        causes_href: slice_href(g, req, query, "/causes"),
        orders_href: slice_href(g, req, query, "/orders"),
        why_href: None,
        n: scores.nps_n,
        nps: opt(scores.nps, signed),
        interval: match (scores.nps_ci95_low, scores.nps_ci95_high) {
            (Some(low), Some(high)) => format!("{} … {}", signed(low), signed(high)),
            _ => String::new(),
        },
        csi: csi_text(scores),
        ces: opt(scores.ces, |v| format!("{v:.2}")),
        response_rate: opt(scores.response_rate, |v| format!("{v:.1}%")),
        on_time: opt(scores.on_time_rate, |v| format!("{v:.1}%")),
        rank: g.rank.map(|r| r.to_string()).unwrap_or_default(),
        too_few: scores.too_few,
        signals: g
            .self_filling_signals
            .iter()
            .map(|k| t.t(&format!("signal-short-{k}")))
            .collect::<Vec<_>>()
            .join(", "),
        evidence: format!(
            "/couriers/{}?from={}&to={}",
            url::form_urlencoded::byte_serialize(g.key.as_bytes()).collect::<String>(),
            req.from,
            req.to
        ),
    }
}

/// What the filters can be set to.
pub(super) struct Lists {
    cities: Vec<String>,
    partners: Vec<String>,
    couriers: Vec<(String, String)>,
    surveys: Vec<(String, String)>,
}

impl Lists {
    pub(super) async fn load(app: &AppState) -> anyhow::Result<Lists> {
        Ok(Lists {
            cities: app
                .store
                .cities()
                .await?
                .into_iter()
                .map(|(c, _)| c)
                .collect(),
            partners: app.store.partners().await?,
            couriers: app.store.courier_names().await?,
            surveys: app
                .store
                .surveys()
                .await?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect(),
        })
    }

    pub(super) fn choices(
        &self,
        req: &Request,
        t: Tr<'_>,
    ) -> Vec<(String, &'static str, Vec<Choice>)> {
        let make = |items: Vec<(String, String)>, current: Option<&str>| -> Vec<Choice> {
            let mut out = vec![Choice {
                value: String::new(),
                label: t.t("dashboard-any"),
                selected: current.is_none(),
            }];
            out.extend(items.into_iter().map(|(value, label)| Choice {
                selected: current == Some(value.as_str()),
                value,
                label,
            }));
            out
        };
        let same = |v: &Vec<String>| v.iter().map(|x| (x.clone(), x.clone())).collect::<Vec<_>>();
        vec![
            (
                t.t("group-city"),
                "city",
                make(same(&self.cities), req.dims.city.as_deref()),
            ),
            (
                t.t("group-partner"),
                "partner",
                make(same(&self.partners), req.dims.partner.as_deref()),
            ),
            (
                t.t("group-courier"),
                "courier",
                make(
                    self.couriers
                        .iter()
                        .map(|(id, name)| {
                            (
                                id.clone(),
                                if id == name {
                                    id.clone()
                                } else {
                                    format!("{name} ({id})")
                                },
                            )
                        })
                        .collect(),
                    req.dims.courier.as_deref(),
                ),
            ),
            (
                t.t("group-segment"),
                "segment",
                make(
                    vec![
                        ("new".into(), t.t("segment-new")),
                        ("repeat".into(), t.t("segment-repeat")),
                    ],
                    req.dims.segment.map(Segment::as_str),
                ),
            ),
            (
                t.t("group-survey"),
                "survey",
                make(self.surveys.clone(), req.dims.survey.as_deref()),
            ),
            (
                t.t("group-channel"),
                "channel",
                make(
                    Channel::ALL
                        .iter()
                        .map(|c| {
                            let c = c.as_str();
                            (c.to_owned(), t.t(&format!("channel-{c}")))
                        })
                        .collect(),
                    req.dims.channel.map(Channel::as_str),
                ),
            ),
        ]
    }
}

/// `/dashboard/report.{csv,xlsx,json}`: the dashboard's breakdown as a file.
pub async fn download(
    State(app): State<AppState>,
    Staff(user, _): Staff<AnyStaff>,
    axum::extract::Path(file): axum::extract::Path<String>,
    Query(q): Query<DashboardQuery>,
) -> Response {
    let Some(format) = file.strip_prefix("report.").and_then(ReportFormat::parse) else {
        return super::status_page(user.lang, StatusCode::NOT_FOUND);
    };
    let deployment = app.deployment();
    let today = jiff::Timestamp::now().to_zoned(deployment.tz()).date();
    let req = match super::console_query(&q.metrics).request(today) {
        Ok(r) => r,
        Err(e) => return (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
    };
    let bytes = crate::app::survey::report::render(&app.store, &deployment, &req, format)
        .await
        .map(|(_, bytes)| bytes);
    match bytes {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, format.content_type().to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"doorstep-{}-{}-{}.{}\"",
                        req.group.as_str(),
                        req.from,
                        req.to,
                        format.extension()
                    ),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => internal(user.lang, &e),
    }
}

/// `/dashboard/events`: the live dashboard's event stream (new answers only;
/// no personal data).
pub async fn events(
    State(app): State<AppState>,
    Staff(_user, _): Staff<AnyStaff>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    super::live_events(&app, &headers, &uri, |name| name == "response.created")
}

#[cfg(test)]
mod tests {
    use super::{sort_groups, Group};
    use doorstep_domain::survey::metrics::{RefusalPolicy, Tally};

    fn group(key: &str, promoters: i64, detractors: i64, n: i64, rank: Option<usize>) -> Group {
        let tally = Tally {
            completed: n,
            nps_n: n,
            promoters,
            detractors,
            passives: n - promoters - detractors,
            ces_n: n,
            ces_sum: (promoters * 7) as f64,
            ..Tally::default()
        };
        Group {
            key: key.into(),
            label: key.into(),
            period: None,
            rank,
            self_filling_signals: Vec::new(),
            scores: tally.scores(RefusalPolicy::Exclude, None),
        }
    }

    fn keys(groups: &[Group]) -> Vec<&str> {
        groups.iter().map(|g| g.key.as_str()).collect()
    }

    #[test]
    fn every_column_sorts_both_ways_with_the_empty_last() {
        let mut groups = vec![
            group("b", 30, 10, 50, Some(2)),
            group("a", 45, 0, 50, Some(1)),
            group("c", 5, 30, 50, Some(3)),
            group("none", 0, 0, 0, None),
        ];
        sort_groups(&mut groups, "nps");
        assert_eq!(keys(&groups), ["c", "b", "a", "none"]);
        sort_groups(&mut groups, "-nps");
        assert_eq!(keys(&groups), ["a", "b", "c", "none"]);
        sort_groups(&mut groups, "ces");
        assert_eq!(keys(&groups), ["c", "b", "a", "none"]);
        sort_groups(&mut groups, "-ces");
        assert_eq!(keys(&groups), ["a", "b", "c", "none"]);
        sort_groups(&mut groups, "rank");
        assert_eq!(keys(&groups), ["a", "b", "c", "none"]);
        sort_groups(&mut groups, "-rank");
        assert_eq!(keys(&groups), ["c", "b", "a", "none"]);
        sort_groups(&mut groups, "-key");
        assert_eq!(keys(&groups), ["none", "c", "b", "a"]);
    }
}

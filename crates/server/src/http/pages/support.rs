//! `/support`: the service figures of METRICS.md for a period — cases,
//! first-contact resolution, repeat contacts, SLA attainment, the median
//! first response in business time, CSAT — by line, channel, operator or
//! category, with the weekly trend of the rates.

use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::orders::Choice;
use super::{render, Chrome, OrPage, PageResult};
use crate::app::helpdesk::support::{compute, Grouping, SupportGroup, SupportRequest};
use crate::http::auth::{DispatchDesk, Staff};
use crate::http::AppState;
use crate::i18n::Tr;

/// One row of the table, as shown.
pub struct SupportRow {
    pub key: String,
    pub cases: i64,
    pub resolved: i64,
    pub fcr: String,
    pub repeat: String,
    pub first: String,
    pub resolution: String,
    pub median: String,
    pub csat: String,
    pub csat_answers: i64,
}

#[derive(Template)]
#[template(path = "support.html")]
struct SupportPage {
    c: Chrome,
    from: String,
    to: String,
    groupings: Vec<Choice>,
    total: Option<SupportRow>,
    rows: Vec<SupportRow>,
    chart: Option<String>,
    /// (class naming its colour, label) of the chart's lines.
    legend: Vec<(String, String)>,
    error: Option<String>,
    /// Self-service: chats settled without a person, in words.
    containment: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct SupportPageQuery {
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
}

fn rate(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}%"))
}

/// A business time as people read it: "45 s", "12 min", "3 h 5 min".
fn duration(t: Tr<'_>, seconds: Option<i64>) -> String {
    match seconds {
        None => "—".to_owned(),
        Some(s) if s < 60 => t.with("duration-seconds", "n", s),
        Some(s) => super::cases::age(t, s * 1000, 0),
    }
}

pub(super) fn row(t: Tr<'_>, key: String, g: &SupportGroup) -> SupportRow {
    SupportRow {
        key,
        cases: g.cases,
        resolved: g.resolved,
        fcr: rate(g.fcr),
        repeat: rate(g.repeat_contact_rate),
        first: rate(g.first_response_attainment),
        resolution: rate(g.resolution_attainment),
        median: duration(t, g.median_first_response_seconds),
        csat: rate(g.csat),
        csat_answers: g.csat_answers,
    }
}

/// A group's key as people read it: a line, channel or category by name,
/// "nobody yet" for unowned cases.
pub(super) fn key_label(
    t: Tr<'_>,
    group: Grouping,
    key: &str,
    categories: &[doorstep_store::helpdesk::CaseCategory],
) -> String {
    match group {
        Grouping::Line => t.t(&format!("line-{key}")),
        Grouping::Channel => t.t(&format!("channel-{key}")),
        Grouping::Operator if key.is_empty() => t.t("loop-nobody"),
        Grouping::Category => categories
            .iter()
            .find(|c| c.id == key)
            .map_or_else(|| key.to_owned(), |c| c.name(t.lang()).to_owned()),
        _ => key.to_owned(),
    }
}

pub async fn page(
    State(app): State<AppState>,
    Staff(user, _): Staff<DispatchDesk>,
    Query(q): Query<SupportPageQuery>,
) -> PageResult {
    let c = Chrome::new(&app, &user, "/dispatch", "support-title");
    let t = c.tr;
    let tz = app.deployment().tz();
    let today = jiff::Timestamp::now().to_zoned(tz).date();
    let (mut from, to, mut error) =
        super::page_period(q.from.as_deref(), q.to.as_deref(), today, 89);
    if from > to {
        error = Some(t.t("support-from-after-to"));
        from = to;
    }
    let group = q
        .group_by
        .as_deref()
        .and_then(Grouping::parse)
        .filter(|g| {
            matches!(
                g,
                Grouping::Line | Grouping::Channel | Grouping::Operator | Grouping::Category
            )
        })
        .unwrap_or(Grouping::Line);
    let request = |group| SupportRequest { from, to, group };
    let groups = compute(&app, &request(group)).await.page(user.lang)?;
    let weeks = compute(&app, &request(Grouping::Week))
        .await
        .page(user.lang)?;
    let categories = app.store.case_categories().await.page(user.lang)?;
    let total = compute(&app, &request(Grouping::All))
        .await
        .page(user.lang)?;
    let series_names = [
        "support-col-fcr",
        "support-col-first",
        "support-col-resolution",
        "support-col-csat",
    ];
    let labels: Vec<String> = weeks
        .groups
        .iter()
        .map(|g| super::show_day(&g.key))
        .collect();
    let series: Vec<Vec<Option<f64>>> = vec![
        weeks.groups.iter().map(|g| g.fcr).collect(),
        weeks
            .groups
            .iter()
            .map(|g| g.first_response_attainment)
            .collect(),
        weeks
            .groups
            .iter()
            .map(|g| g.resolution_attainment)
            .collect(),
        weeks.groups.iter().map(|g| g.csat).collect(),
    ];
    let chart = crate::charts::percent_lines(&labels, &series, "%");
    let (start, end) = doorstep_domain::time::day_range(from, to, &app.deployment().tz());
    let (chats, contained) = app
        .store
        .chat_containment(start.as_millisecond(), end.as_millisecond())
        .await
        .page(user.lang)?;
    #[allow(clippy::cast_sign_loss)]
    let containment = (chats > 0).then(|| {
        super::recovery::share(
            t,
            &doorstep_domain::helpdesk::recovery::Share::new(contained as u64, chats as u64),
            true,
        )
    });
    let view = SupportPage {
        containment,
        from: from.to_string(),
        to: to.to_string(),
        groupings: [
            Grouping::Line,
            Grouping::Channel,
            Grouping::Operator,
            Grouping::Category,
        ]
        .iter()
        .map(|g| Choice {
            value: g.as_str().to_owned(),
            label: t.t(&format!("support-group-{}", g.as_str())),
            selected: *g == group,
        })
        .collect(),
        total: total.groups.first().map(|g| row(t, t.t("loop-all"), g)),
        rows: groups
            .groups
            .iter()
            .map(|g| row(t, key_label(t, group, &g.key, &categories), g))
            .collect(),
        chart,
        legend: series_names
            .iter()
            .enumerate()
            .map(|(i, k)| (format!("s{i}"), t.t(k)))
            .collect(),
        error,
        c,
    };
    Ok(render(&view))
}

//! `/dispatch/loop`: did closing the loop work? How soon unhappy customers
//! were called and reached, how many were recovered, and whether they
//! ordered again more often than those nobody reached — by city,
//! dispatcher or period. The dashboard shows the whole period's figures
//! and who was at fault; this page breaks them down.

use askama::Template;
use axum::extract::{Query, State};
use doorstep_domain::helpdesk::recovery::{LoopFigures, Share};
use doorstep_domain::time::{day_range, to_millis};
use serde::Deserialize;

use super::orders::Choice;
use super::{render, Chrome, OrPage, PageResult};
use crate::app::helpdesk::reports::{faults, loop_figures, Faults, LoopGroup};
use crate::http::auth::{DispatchDesk, Staff};
use crate::http::AppState;
use crate::i18n::Tr;

/// "18 min", "3 h 10 min", "2 d 4 h" for a number of seconds.
pub fn duration(t: Tr<'_>, seconds: i64) -> String {
    let minutes = seconds / 60;
    if seconds < 60 {
        t.with("duration-seconds", "n", seconds)
    } else if minutes < 60 {
        t.with("age-minutes", "n", minutes)
    } else if minutes < 48 * 60 {
        t.with2("age-hours", "h", minutes / 60, "m", minutes % 60)
    } else {
        t.with2(
            "duration-days",
            "d",
            minutes / (24 * 60),
            "h",
            minutes / 60 % 24,
        )
    }
}

/// A share as "62% (31 of 50)", with its interval when asked.
pub fn share(t: Tr<'_>, s: &Share, interval: bool) -> String {
    match (s.percent, s.ci95_low, s.ci95_high) {
        (Some(p), Some(lo), Some(hi)) if interval => t.args(
            "share-interval",
            vec![
                ("percent", format!("{p:.0}").into()),
                ("count", (s.count as i64).into()),
                ("of", (s.of as i64).into()),
                ("low", format!("{lo:.0}").into()),
                ("high", format!("{hi:.0}").into()),
            ],
        ),
        (Some(p), _, _) => t.args(
            "share",
            vec![
                ("percent", format!("{p:.0}").into()),
                ("count", (s.count as i64).into()),
                ("of", (s.of as i64).into()),
            ],
        ),
        _ => "—".to_owned(),
    }
}

/// The loop's figures, for people.
pub struct LoopRowView {
    pub key: String,
    pub incidents: u64,
    pub to_attempt: String,
    pub to_reach: String,
    pub within_hour: String,
    pub recovery: String,
    pub retention_recovered: String,
    pub retention_unreached: String,
}

pub fn loop_view(t: Tr<'_>, key: String, f: &LoopFigures) -> LoopRowView {
    let pair = |median: Option<i64>, p90: Option<i64>| match (median, p90) {
        (Some(m), Some(p)) => t.with2(
            "median-p90",
            "median",
            duration(t, m),
            "p90",
            duration(t, p),
        ),
        _ => "—".to_owned(),
    };
    LoopRowView {
        key,
        incidents: f.incidents,
        to_attempt: pair(f.median_to_attempt_seconds, f.p90_to_attempt_seconds),
        to_reach: pair(f.median_to_reach_seconds, f.p90_to_reach_seconds),
        within_hour: share(t, &f.reached_within_hour, false),
        recovery: share(t, &f.recovery, false),
        retention_recovered: share(t, &f.retention_recovered, true),
        retention_unreached: share(t, &f.retention_unreached, true),
    }
}

/// Faults for people: (label, cases, compensation).
pub struct FaultLine {
    pub label: String,
    pub cases: i64,
    pub compensation: String,
}

/// The three fault tables (by party, courier, partner) under their
/// titles; empty when no fault was recorded.
pub fn fault_groups(t: Tr<'_>, f: &Faults, currency: &str) -> Vec<(String, Vec<FaultLine>)> {
    let lines = |list: &[(String, i64, i64)], party: bool| {
        list.iter()
            .map(|(k, n, c)| FaultLine {
                label: if party {
                    t.t(&format!("fault-{k}"))
                } else {
                    k.clone()
                },
                cases: *n,
                compensation: super::cases::money(*c, currency),
            })
            .collect()
    };
    if f.by_party.is_empty() {
        return Vec::new();
    }
    vec![
        (t.t("faults-by-party"), lines(&f.by_party, true)),
        (t.t("faults-by-courier"), lines(&f.by_courier, false)),
        (t.t("faults-by-partner"), lines(&f.by_partner, false)),
    ]
}

#[derive(Template)]
#[template(path = "recovery.html")]
struct LoopPage {
    c: Chrome,
    from: String,
    to: String,
    groupings: Vec<Choice>,
    total: Option<LoopRowView>,
    rows: Vec<LoopRowView>,
    fault_groups: Vec<(String, Vec<FaultLine>)>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct LoopQuery {
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
}

pub async fn page(
    State(app): State<AppState>,
    Staff(user, _): Staff<DispatchDesk>,
    Query(q): Query<LoopQuery>,
) -> PageResult {
    let c = Chrome::new(&app, &user, "/dispatch", "loop-title");
    let t = c.tr;
    let tz = app.deployment().tz();
    let today = jiff::Timestamp::now().to_zoned(tz.clone()).date();
    let (from, to, error) = super::page_period(q.from.as_deref(), q.to.as_deref(), today, 89);
    let group = q
        .group_by
        .as_deref()
        .and_then(LoopGroup::parse)
        .filter(|g| *g != LoopGroup::All)
        .unwrap_or(LoopGroup::City);
    let (start, end) = day_range(from, to, &tz);
    let (start, end) = (to_millis(start), to_millis(end));
    let total = loop_figures(&app.store, &tz, start, end, LoopGroup::All)
        .await
        .page(user.lang)?;
    let rows = loop_figures(&app.store, &tz, start, end, group)
        .await
        .page(user.lang)?;
    let found = faults(&app.store, start, end).await.page(user.lang)?;
    let fault_groups = fault_groups(t, &found, &app.deployment().currency);
    let view = LoopPage {
        from: from.to_string(),
        to: to.to_string(),
        groupings: ["city", "dispatcher", "day", "week", "month"]
            .iter()
            .map(|g| Choice {
                value: (*g).to_owned(),
                label: t.t(&format!("loop-group-{g}")),
                selected: group.as_str() == *g,
            })
            .collect(),
        total: total
            .first()
            .map(|r| loop_view(t, t.t("loop-all"), &r.figures)),
        rows: rows
            .iter()
            .map(|r| {
                let key = if r.key.is_empty() {
                    t.t("loop-nobody")
                } else {
                    r.key.clone()
                };
                loop_view(t, key, &r.figures)
            })
            .collect(),
        fault_groups,
        error,
        c,
    };
    Ok(render(&view))
}

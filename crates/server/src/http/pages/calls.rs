//! `/calls`: the contact center's figures of METRICS.md for a period —
//! offered, answered, abandoned, service level against the target, ASA,
//! AHT — by queue, agent, line or period, and the calls of each hour of the
//! day against its service level, the target drawn: where the morning peak
//! misses the target.

use askama::Template;
use axum::extract::{Query, State};
use doorstep_domain::helpdesk::cases::Line;
use serde::Deserialize;

use super::orders::Choice;
use super::{render, Chrome, OrPage, PageResult};
use crate::app::calls::{figures, CallGroup, CallGrouping, CallsRequest};
use crate::http::auth::{DispatchDesk, Staff};
use crate::http::AppState;
use crate::i18n::Tr;

/// One row of the table, as shown.
pub struct CallRow {
    pub key: String,
    pub offered: i64,
    pub answered: i64,
    pub abandoned: i64,
    pub answer_rate: String,
    pub service_level: String,
    /// The service level is under the target.
    pub short: bool,
    pub asa: String,
    pub aht: String,
    pub abandonment: String,
    pub longest: String,
    /// Its share of the calls.
    pub share: String,
}

#[derive(Template)]
#[template(path = "calls.html")]
struct CallsPage {
    c: Chrome,
    from: String,
    to: String,
    groupings: Vec<Choice>,
    lines: Vec<Choice>,
    target: String,
    total: Option<CallRow>,
    rows: Vec<CallRow>,
    chart: Option<String>,
    /// The calls waiting in each queue now.
    waiting: Vec<WaitingRow>,
    /// Grouped by reason: the share column says most.
    by_reason: bool,
    /// The staffing day (its key and how it reads) and its half hours.
    day: String,
    staffing: Vec<StaffRow>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct CallsPageQuery {
    from: Option<String>,
    to: Option<String>,
    line: Option<String>,
    group_by: Option<String>,
    /// The day whose staffing is shown.
    day: Option<String>,
}

/// One half hour of the staffing table, as shown.
pub struct StaffRow {
    pub start: String,
    pub offered: i64,
    pub aht: String,
    pub needed: u32,
    pub answered_by: usize,
    /// Agents on duty ("—" when the PBX logs no logins).
    pub on_duty: String,
    /// Fewer agents answered than were needed.
    pub short: bool,
    pub service_level: String,
}

fn rate(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}%"))
}

fn seconds(t: Tr<'_>, v: Option<f64>) -> String {
    #[allow(clippy::cast_possible_truncation)]
    v.map_or_else(
        || "—".to_owned(),
        |s| t.with("duration-seconds", "n", s.round() as i64),
    )
}

fn row(t: Tr<'_>, key: String, g: &CallGroup, target: i64) -> CallRow {
    #[allow(clippy::cast_precision_loss)]
    let short = g.service_level.is_some_and(|l| l < target as f64);
    CallRow {
        key,
        offered: g.offered,
        answered: g.answered,
        abandoned: g.abandoned,
        answer_rate: rate(g.answer_rate),
        service_level: rate(g.service_level),
        short,
        asa: seconds(t, g.asa_seconds),
        aht: seconds(t, g.aht_seconds),
        abandonment: rate(g.abandonment_rate),
        longest: t.with("duration-seconds", "n", g.longest_wait_seconds),
        share: rate(g.share),
    }
}

const GROUPINGS: [CallGrouping; 7] = [
    CallGrouping::Queue,
    CallGrouping::Agent,
    CallGrouping::Reason,
    CallGrouping::Line,
    CallGrouping::Day,
    CallGrouping::Week,
    CallGrouping::Month,
];

pub async fn page(
    State(app): State<AppState>,
    Staff(user, _): Staff<DispatchDesk>,
    Query(q): Query<CallsPageQuery>,
) -> PageResult {
    let c = Chrome::new(&app, &user, "/dispatch", "calls-title");
    let t = c.tr;
    let tz = app.deployment().tz();
    let today = jiff::Timestamp::now().to_zoned(tz.clone()).date();
    let (mut from, to, mut error) =
        super::page_period(q.from.as_deref(), q.to.as_deref(), today, 29);
    if from > to {
        error = Some(t.t("support-from-after-to"));
        from = to;
    }
    let group = q
        .group_by
        .as_deref()
        .and_then(|g| GROUPINGS.into_iter().find(|c| c.as_str() == g))
        .unwrap_or(CallGrouping::Queue);
    let line = q.line.as_deref().and_then(Line::parse);
    let request = |group| CallsRequest {
        from,
        to,
        line,
        group,
    };
    let groups = figures(&app.store, &tz, &request(group))
        .await
        .page(user.lang)?;
    let total = figures(&app.store, &tz, &request(CallGrouping::All))
        .await
        .page(user.lang)?;
    let hours = figures(&app.store, &tz, &request(CallGrouping::Hour))
        .await
        .page(user.lang)?;
    let target = groups.target;
    let mut offered = [0i64; 24];
    let mut level = [None; 24];
    for (i, h) in hours.groups.iter().enumerate().take(24) {
        offered[i] = h.offered;
        level[i] = h.service_level;
    }
    #[allow(clippy::cast_precision_loss)]
    let chart = crate::charts::calls_by_hour(
        &offered,
        &level,
        target.percent as f64,
        &t.t("calls-chart-calls"),
        &t.t("calls-chart-level"),
    );
    // A whole day: the period's last, or yesterday when that is today.
    let day = q
        .day
        .as_deref()
        .and_then(|d| doorstep_domain::time::parse_date(d.trim()).ok())
        .unwrap_or_else(|| {
            if to >= today {
                today.yesterday().unwrap_or(today)
            } else {
                to
            }
        });
    let staffing = crate::app::calls::staffing(&app.store, &tz, day, line)
        .await
        .page(user.lang)?
        .into_iter()
        .map(|h| StaffRow {
            short: h.answered_by < h.needed as usize,
            aht: seconds(t, h.aht_seconds),
            service_level: rate(h.service_level),
            start: h.start,
            offered: h.offered,
            needed: h.needed,
            answered_by: h.answered_by,
            on_duty: h.on_duty.map_or_else(|| "—".to_owned(), |n| n.to_string()),
        })
        .collect();
    let reasons = crate::app::calls::reasons(&app.store)
        .await
        .page(user.lang)?;
    let people = agent_people(&app).await.page(user.lang)?;
    let waiting = waiting_rows(&app, t).await.page(user.lang)?;
    let label = |key: &str| match group {
        CallGrouping::Line => t.t(&format!("line-{key}")),
        CallGrouping::Agent if key.is_empty() => t.t("calls-no-agent"),
        CallGrouping::Agent => people
            .get(key)
            .map_or_else(|| key.to_owned(), |person| format!("{person} ({key})")),
        CallGrouping::Reason => reasons.iter().find(|r| r.id == key).map_or_else(
            || {
                if key == crate::app::calls::NO_REASON {
                    t.t("calls-no-reason")
                } else {
                    key.to_owned()
                }
            },
            |r| r.name(t.lang()).to_owned(),
        ),
        CallGrouping::Day | CallGrouping::Week => super::show_day(key),
        _ => key.to_owned(),
    };
    let view = CallsPage {
        from: from.to_string(),
        to: to.to_string(),
        groupings: GROUPINGS
            .iter()
            .map(|g| Choice {
                value: g.as_str().to_owned(),
                label: t.t(&format!("calls-group-{}", g.as_str())),
                selected: *g == group,
            })
            .collect(),
        lines: std::iter::once(Choice {
            value: String::new(),
            label: t.t("calls-line-all"),
            selected: line.is_none(),
        })
        .chain(Line::ALL.iter().map(|l| Choice {
            value: l.as_str().to_owned(),
            label: t.t(&format!("line-{}", l.as_str())),
            selected: line == Some(*l),
        }))
        .collect(),
        target: t.with2(
            "calls-target",
            "percent",
            target.percent,
            "seconds",
            target.seconds,
        ),
        total: total
            .groups
            .first()
            .filter(|g| g.offered > 0)
            .map(|g| row(t, t.t("loop-all"), g, target.percent)),
        rows: {
            let mut shown: Vec<&CallGroup> = groups.groups.iter().collect();
            if group == CallGrouping::Reason {
                // The most common reason first, calls without one last.
                shown.sort_by_key(|g| (g.key == crate::app::calls::NO_REASON, -g.offered));
            }
            shown
                .into_iter()
                .map(|g| row(t, label(&g.key), g, target.percent))
                .collect()
        },
        chart,
        waiting,
        by_reason: group == CallGrouping::Reason,
        day: day.to_string(),
        staffing,
        error,
        c,
    };
    Ok(render(&view))
}

/// The persons of the console the agents are (agent → login or name).
async fn agent_people(
    app: &AppState,
) -> Result<std::collections::HashMap<String, String>, doorstep_store::StoreError> {
    let users = app.store.users().await?;
    Ok(app
        .store
        .call_agent_people()
        .await?
        .into_iter()
        .filter_map(|(agent, user)| {
            let user = users.iter().find(|u| Some(&u.id) == user.as_ref())?;
            Some((agent, user.login.clone()))
        })
        .collect())
}

/// One queue's calls waiting now.
pub struct WaitingRow {
    pub queue: String,
    pub line: String,
    pub waiting: i64,
    /// How long the longest waiting caller has waited, in words.
    pub longest: String,
    /// Longer than the target's seconds: in red.
    pub over: bool,
}

/// How long a call may sit unanswered before it counts as lost rather
/// than waiting (its end never reached Doorstep).
const WAITING_AT_MOST_MS: i64 = 2 * 3_600_000;

async fn waiting_rows(
    app: &AppState,
    t: Tr<'_>,
) -> Result<Vec<WaitingRow>, doorstep_store::StoreError> {
    let now = doorstep_store::now_millis();
    let target = crate::app::calls::ServiceLevel::of(&app.store).await?;
    let lines = crate::app::calls::QueueLines::load(&app.store).await?;
    Ok(app
        .store
        .calls_waiting(now - WAITING_AT_MOST_MS)
        .await?
        .into_iter()
        .map(|(queue, waiting, oldest)| {
            let seconds = ((now - oldest) / 1000).max(0);
            WaitingRow {
                line: t.t(&format!("line-{}", lines.of(&queue))),
                queue,
                waiting,
                longest: t.with("duration-seconds", "n", seconds),
                over: seconds > target.seconds,
            }
        })
        .collect())
}

#[derive(Template)]
#[template(path = "calls_waiting.html")]
struct WaitingFragment {
    c: Chrome,
    waiting: Vec<WaitingRow>,
}

/// `/calls/waiting`: the "waiting now" table alone, which the page asks
/// for again every few seconds.
pub async fn waiting(
    State(app): State<AppState>,
    Staff(user, _): Staff<DispatchDesk>,
) -> PageResult {
    let c = Chrome::new(&app, &user, "/dispatch", "calls-title");
    let waiting = waiting_rows(&app, c.tr).await.page(user.lang)?;
    Ok(render(&WaitingFragment { c, waiting }))
}

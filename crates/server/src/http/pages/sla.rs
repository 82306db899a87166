//! Settings → Service promises: each line's business calendar (working
//! hours per weekday, holidays) and its promises per channel (first reply,
//! next reply, resolution, and resolution for urgent cases), in business
//! minutes. A saved change applies to open cases at once, from the
//! business time they had already spent.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use doorstep_domain::helpdesk::alerts::Priority;
use doorstep_domain::helpdesk::cases::{CaseChannel, Line};
use doorstep_domain::helpdesk::sla::{format_hours, parse_hours, LineSla, Policy, PolicyRule};
use serde::Deserialize;

use super::{render, Chrome, OrPage, PageResult};
use crate::http::auth::{AdminOnly, CurrentUser, Staff, StaffForm};
use crate::http::AppState;
use crate::i18n::Tr;

/// One weekday of a line's form.
pub struct DayRow {
    pub index: usize,
    pub label: String,
    pub hours: String,
}

/// One channel's promises, in minutes ("" where the default applies; the
/// default shown as the placeholder).
pub struct PromiseRow {
    pub channel: String,
    pub label: String,
    pub first: String,
    pub next: String,
    pub resolution: String,
    pub urgent: String,
    pub default_first: i64,
    pub default_next: i64,
    pub default_resolution: i64,
    pub default_urgent: i64,
}

/// One line's form.
pub struct LineForm {
    pub line: String,
    pub label: String,
    pub always: bool,
    pub days: Vec<DayRow>,
    pub holidays: String,
    pub promises: Vec<PromiseRow>,
    pub open: bool,
    /// The week at a glance: "Mon–Sat 07:00-23:00 · Sun 09:00-21:00".
    pub summary: String,
}

const WEEKDAY_SHORT: [&str; 7] = [
    "weekday-short-mon",
    "weekday-short-tue",
    "weekday-short-wed",
    "weekday-short-thu",
    "weekday-short-fri",
    "weekday-short-sat",
    "weekday-short-sun",
];

/// Runs of weekdays with the same hours, as people read a timetable.
fn week_summary(week: &[Vec<(u16, u16)>], t: Tr<'_>) -> String {
    let mut parts = Vec::new();
    let mut start = 0;
    while start < week.len() {
        let mut end = start;
        while end + 1 < week.len() && week[end + 1] == week[start] {
            end += 1;
        }
        let days = if end == start {
            t.t(WEEKDAY_SHORT[start])
        } else {
            format!("{}–{}", t.t(WEEKDAY_SHORT[start]), t.t(WEEKDAY_SHORT[end]))
        };
        let hours = if week[start].is_empty() {
            t.t("sla-settings-day-off")
        } else {
            format_hours(&week[start])
        };
        parts.push(format!("{days} {hours}"));
        start = end + 1;
    }
    parts.join(" · ")
}

#[derive(Template)]
#[template(path = "sla.html")]
struct SlaPage {
    c: Chrome,
    lines: Vec<LineForm>,
    /// The quiet hours of notices to customers, as the form shows them.
    quiet: String,
    notice: Option<String>,
    error: Option<String>,
}

const WEEKDAY_KEYS: [&str; 7] = [
    "weekday-mon",
    "weekday-tue",
    "weekday-wed",
    "weekday-thu",
    "weekday-fri",
    "weekday-sat",
    "weekday-sun",
];

fn minutes(ms: i64) -> i64 {
    ms / 60_000
}

fn line_form(line: Line, sla: &LineSla, t: Tr<'_>, open: bool) -> LineForm {
    let always = sla.week.is_empty();
    let days = (0..7)
        .map(|i| DayRow {
            index: i,
            label: t.t(WEEKDAY_KEYS[i]),
            hours: if always {
                "00:00-24:00".to_owned()
            } else {
                format_hours(sla.week.get(i).map_or(&[][..], Vec::as_slice))
            },
        })
        .collect();
    let rule = |channel: CaseChannel, priority: Option<Priority>| {
        sla.rules
            .iter()
            .find(|r| r.channel == channel && r.priority == priority)
    };
    let promises = CaseChannel::ALL
        .iter()
        .map(|&channel| {
            let normal = Policy::default_for(channel, Priority::Normal);
            let urgent_default = Policy::default_for(channel, Priority::Urgent);
            let own = rule(channel, None);
            let urgent = rule(channel, Some(Priority::Urgent));
            let show = |v: Option<u32>| v.map(|m| m.to_string()).unwrap_or_default();
            PromiseRow {
                channel: channel.as_str().to_owned(),
                label: t.t(&format!("channel-{}", channel.as_str())),
                first: show(own.map(|r| r.first_response_minutes)),
                next: show(own.map(|r| r.next_response_minutes)),
                resolution: show(own.map(|r| r.resolution_minutes)),
                urgent: show(urgent.map(|r| r.resolution_minutes)),
                default_first: minutes(normal.first_response_ms),
                default_next: minutes(normal.next_response_ms),
                default_resolution: minutes(normal.resolution_ms),
                default_urgent: minutes(urgent_default.resolution_ms),
            }
        })
        .collect();
    LineForm {
        line: line.as_str().to_owned(),
        label: t.t(&format!("line-{}", line.as_str())),
        always,
        days,
        holidays: sla
            .holidays
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        promises,
        open,
        summary: if always {
            t.t("sla-settings-always")
        } else {
            week_summary(&sla.week, t)
        },
    }
}

/// Puts back what the person typed into a form that was refused.
fn keep_typed(form: &mut LineForm, typed: &[(String, String)]) {
    let field = |name: &str| {
        typed
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    form.always = field("always").as_deref() == Some("on");
    for day in &mut form.days {
        day.hours = field(&format!("day{}", day.index)).unwrap_or_default();
    }
    form.holidays = field("holidays").unwrap_or_default();
    for p in &mut form.promises {
        p.first = field(&format!("first_{}", p.channel)).unwrap_or_default();
        p.next = field(&format!("next_{}", p.channel)).unwrap_or_default();
        p.resolution = field(&format!("resolution_{}", p.channel)).unwrap_or_default();
        p.urgent = field(&format!("urgent_{}", p.channel)).unwrap_or_default();
    }
}

/// A refused form: its line, what is wrong, and what was typed.
type Refused<'f> = (String, String, &'f [(String, String)]);

async fn page(
    app: &AppState,
    user: &CurrentUser,
    notice: Option<String>,
    error: Option<Refused<'_>>,
) -> PageResult {
    let c = Chrome::new(app, user, "/settings", "sla-settings-title");
    let t = c.tr;
    let setup = app.store.sla_setup().await.page(user.lang)?;
    let lines = Line::ALL
        .iter()
        .map(|&line| {
            let refused = error.as_ref().filter(|(l, _, _)| l == line.as_str());
            let mut form = line_form(line, &setup.line(line.as_str()), t, refused.is_some());
            if let Some((_, _, typed)) = refused {
                keep_typed(&mut form, typed);
            }
            form
        })
        .collect();
    let quiet = crate::app::helpdesk::notices::quiet_hours(&app.store)
        .await
        .page(user.lang)?
        .map(|q| q.to_string())
        .unwrap_or_default();
    let view = SlaPage {
        quiet,
        lines,
        notice,
        error: error.map(|(_, e, _)| e),
        c,
    };
    Ok(render(&view))
}

#[derive(Deserialize, Default)]
pub struct SlaQuery {
    saved: Option<String>,
}

pub async fn show(
    State(app): State<AppState>,
    Staff(user, _): Staff<AdminOnly>,
    Query(q): Query<SlaQuery>,
) -> PageResult {
    let t = crate::i18n::tr(user.lang);
    let notice = q.saved.as_deref().and_then(Line::parse).map(|l| {
        t.with(
            "sla-settings-saved",
            "line",
            t.t(&format!("line-{}", l.as_str())),
        )
    });
    page(&app, &user, notice, None).await
}

/// Reads a line's form: what is wrong names the field.
fn read_form(form: &[(String, String)], t: Tr<'_>) -> Result<(Line, LineSla), String> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let line = Line::parse(field("line")).ok_or_else(|| t.t("sla-settings-no-line"))?;
    let week = if field("always") == "on" {
        Vec::new()
    } else {
        (0..7)
            .map(|i| {
                parse_hours(field(&format!("day{i}")))
                    .map_err(|e| format!("{}: {e}", t.t(WEEKDAY_KEYS[i])))
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    let holidays = field("holidays")
        .split(|c: char| c == '\n' || c == ',' || c.is_whitespace())
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            doorstep_domain::time::parse_date(s.trim())
                .map_err(|e| format!("{}: {e}", t.t("sla-settings-holidays")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut rules = Vec::new();
    for &channel in CaseChannel::ALL {
        let number = |what: &str| -> Result<Option<u32>, String> {
            let v = field(&format!("{what}_{}", channel.as_str())).trim();
            if v.is_empty() {
                return Ok(None);
            }
            v.parse::<u32>().map(Some).map_err(|_| {
                t.with2(
                    "sla-settings-bad-minutes",
                    "channel",
                    t.t(&format!("channel-{}", channel.as_str())),
                    "value",
                    v.to_owned(),
                )
            })
        };
        let normal = Policy::default_for(channel, Priority::Normal);
        let (first, next, resolution, urgent) = (
            number("first")?,
            number("next")?,
            number("resolution")?,
            number("urgent")?,
        );
        let or = |v: Option<u32>, ms: i64| v.unwrap_or(u32::try_from(ms / 60_000).unwrap_or(1));
        if first.is_some() || next.is_some() || resolution.is_some() {
            rules.push(PolicyRule {
                channel,
                priority: None,
                first_response_minutes: or(first, normal.first_response_ms),
                next_response_minutes: or(next, normal.next_response_ms),
                resolution_minutes: or(resolution, normal.resolution_ms),
            });
        }
        if let Some(urgent) = urgent {
            let base = Policy::default_for(channel, Priority::Urgent);
            rules.push(PolicyRule {
                channel,
                priority: Some(Priority::Urgent),
                first_response_minutes: or(first, base.first_response_ms),
                next_response_minutes: or(next, base.next_response_ms),
                resolution_minutes: urgent,
            });
        }
    }
    let sla = LineSla {
        week,
        holidays,
        rules,
    }
    .validated()
    .map_err(|e| e.to_string())?;
    Ok((line, sla))
}

pub async fn save(
    State(app): State<AppState>,
    StaffForm(user, form, _): StaffForm<AdminOnly, Vec<(String, String)>>,
) -> PageResult {
    let t = crate::i18n::tr(user.lang);
    match read_form(&form, t) {
        Ok((line, sla)) => {
            app.store
                .save_line_sla(line.as_str(), &sla)
                .await
                .page(user.lang)?;
            tracing::info!(by = %user.login, line = line.as_str(), "a line's SLA saved");
            Ok(Redirect::to(&format!("/settings/sla?saved={}", line.as_str())).into_response())
        }
        Err(message) => {
            let line = form
                .iter()
                .find(|(k, _)| k == "line")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            page(&app, &user, None, Some((line, message, &form))).await
        }
    }
}

#[derive(Deserialize)]
pub struct QuietForm {
    #[serde(default)]
    quiet_hours: String,
}

/// Saves the quiet hours of notices to customers.
pub async fn save_quiet(
    State(app): State<AppState>,
    StaffForm(user, form, _): StaffForm<AdminOnly, QuietForm>,
) -> PageResult {
    use doorstep_domain::helpdesk::quiet::QuietHours;
    let t = crate::i18n::tr(user.lang);
    match QuietHours::parse(&form.quiet_hours) {
        Ok(q) => {
            let value = q.map(|q| q.to_string()).unwrap_or_default();
            app.store
                .set_setting(crate::app::helpdesk::notices::QUIET_SETTING, &value)
                .await
                .page(user.lang)?;
            tracing::info!(by = %user.login, quiet = %value, "quiet hours saved");
            Ok(Redirect::to("/settings/sla?saved=quiet").into_response())
        }
        Err(e) => {
            page(
                &app,
                &user,
                None,
                Some((
                    "quiet".to_owned(),
                    format!("{}: {e}", t.t("sla-settings-quiet")),
                    &[],
                )),
            )
            .await
        }
    }
}

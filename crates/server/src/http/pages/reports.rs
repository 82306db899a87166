//! `/reports`: reports e-mailed on a schedule (daily, weekly, monthly) to
//! the people who should read them, and the mail server they go through
//! (admins set it and send a test e-mail).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use doorstep_store::survey::rollups::GroupBy;
use doorstep_store::survey::schedules::ReportSchedule;
use serde::Deserialize;

use super::{failed, internal, render, Chrome, Found, OrPage, PageResult};
use crate::app::survey::schedules::{deliver, last_period, FREQUENCIES};
use crate::http::auth::{AdminOnly, CurrentUser, QualityDesk, Staff, StaffForm};
use crate::http::AppState;
use crate::mail::{addresses, send, Mail, Security, Smtp};

pub struct ScheduleRow {
    pub id: String,
    pub frequency: String,
    pub group: String,
    pub format: String,
    pub recipients: String,
    pub last: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    c: Chrome,
    admin: bool,
    smtp: Smtp,
    smtp_set: bool,
    password_set: bool,
    schedules: Vec<ScheduleRow>,
    frequencies: Vec<(&'static str, String)>,
    groupings: Vec<(&'static str, String)>,
    notice: Option<String>,
    error: Option<String>,
}

const GROUPINGS: [&str; 6] = ["city", "courier", "partner", "day", "week", "month"];

async fn reports_page(
    app: &AppState,
    user: &CurrentUser,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let mut c = Chrome::new(app, user, "/reports", "reports-title");
    let t = c.tr;
    c.title = t.t("reports-title");
    let (smtp, schedules) = match (
        Smtp::load(&app.store).await,
        app.store.report_schedules().await,
    ) {
        (Ok(s), Ok(list)) => (s, list),
        (Err(e), _) => return internal(user.lang, &e),
        (_, Err(e)) => return internal(user.lang, &e),
    };
    let tz = app.deployment().tz();
    let page = ReportsPage {
        admin: user.may::<AdminOnly>(),
        smtp_set: smtp.is_some(),
        password_set: smtp.as_ref().is_some_and(|s| !s.password.is_empty()),
        smtp: smtp.unwrap_or(Smtp {
            host: String::new(),
            port: 587,
            security: Security::Starttls,
            username: String::new(),
            password: String::new(),
            from: String::new(),
        }),
        schedules: schedules
            .into_iter()
            .map(|s| ScheduleRow {
                frequency: t.t(&format!("reports-{}", s.frequency)),
                group: t.t(&format!("group-{}", s.group_by)),
                format: s.format.to_uppercase(),
                last: match (&s.last_period, s.last_sent_at) {
                    (Some(p), Some(at)) => format!(
                        "{} · {}",
                        p.replace("..", " – "),
                        doorstep_domain::time::format_local(
                            doorstep_domain::time::from_millis(at),
                            &tz
                        )
                    ),
                    _ => t.t("reports-never"),
                },
                error: s.last_error,
                recipients: s.recipients,
                id: s.id,
            })
            .collect(),
        frequencies: FREQUENCIES
            .iter()
            .map(|f| (*f, t.t(&format!("reports-{f}"))))
            .collect(),
        groupings: GROUPINGS
            .iter()
            .map(|g| (*g, t.t(&format!("group-{g}"))))
            .collect(),
        notice,
        error,
        c,
    };
    (status, render(&page)).into_response()
}

#[derive(Deserialize, Default)]
pub struct ReportsQuery {
    done: Option<String>,
}

pub async fn page(
    State(app): State<AppState>,
    Staff(user, _): Staff<QualityDesk>,
    Query(q): Query<ReportsQuery>,
) -> Response {
    let t = crate::i18n::tr(user.lang);
    let notice = q.done.as_deref().map(|d| {
        t.t(&format!(
            "reports-done-{}",
            match d {
                "smtp" | "added" | "deleted" => d,
                _ => "saved",
            }
        ))
    });
    reports_page(&app, &user, notice, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct SmtpForm {
    host: String,
    port: String,
    security: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    from: String,
}

/// `POST /reports/smtp` (admins): saves the mail server. A blank password
/// keeps the saved one.
pub async fn save_smtp(
    State(app): State<AppState>,
    StaffForm(user, f, _): StaffForm<AdminOnly, SmtpForm>,
) -> PageResult {
    let old = Smtp::load(&app.store).await.ok().flatten();
    let smtp = Smtp {
        host: f.host.trim().to_owned(),
        port: f.port.trim().parse().unwrap_or(0),
        security: Security::parse(&f.security).unwrap_or(Security::Starttls),
        username: f.username.trim().to_owned(),
        password: if f.password.is_empty() && !f.username.trim().is_empty() {
            old.map(|o| o.password).unwrap_or_default()
        } else {
            f.password
        },
        from: f.from.trim().to_owned(),
    };
    let problems = smtp.problems();
    if !problems.is_empty() {
        return Ok(reports_page(
            &app,
            &user,
            None,
            Some(problems.join("; ")),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await);
    }
    smtp.save(&app.store).await.page(user.lang)?;
    tracing::info!(by = %user.login, host = %smtp.host, "mail server saved");
    Ok(Redirect::to("/reports?done=smtp").into_response())
}

#[derive(Deserialize)]
pub struct TestForm {
    to: String,
}

/// `POST /reports/smtp/test` (admins): sends a test e-mail now and says
/// what the mail server answered.
pub async fn test_smtp(
    State(app): State<AppState>,
    StaffForm(user, f, _): StaffForm<AdminOnly, TestForm>,
) -> Response {
    let t = crate::i18n::tr(user.lang);
    let fail =
        |e: String| reports_page(&app, &user, None, Some(e), StatusCode::UNPROCESSABLE_ENTITY);
    let to = match addresses(&f.to) {
        Ok(to) => to,
        Err(e) => return fail(e).await,
    };
    let smtp = match Smtp::load(&app.store).await {
        Ok(Some(s)) => s,
        Ok(None) => return fail(t.t("reports-no-smtp")).await,
        Err(e) => return internal(user.lang, &e),
    };
    let mail = Mail {
        to: to.clone(),
        subject: t.t("mail-test-subject"),
        text: t.with("mail-test-text", "company", app.deployment().name),
        attachment: None,
        thread: None,
    };
    match send(&smtp, &mail).await {
        Ok(()) => {
            reports_page(
                &app,
                &user,
                Some(t.with("reports-test-sent", "to", to.join(", "))),
                None,
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            reports_page(
                &app,
                &user,
                None,
                Some(e.to_string()),
                StatusCode::BAD_GATEWAY,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct ScheduleForm {
    frequency: String,
    group_by: String,
    format: String,
    recipients: String,
}

/// `POST /reports/schedules`: a new scheduled report.
pub async fn add_schedule(
    State(app): State<AppState>,
    StaffForm(user, f, _): StaffForm<QualityDesk, ScheduleForm>,
) -> PageResult {
    let mut problems = Vec::new();
    if !FREQUENCIES.contains(&f.frequency.as_str()) {
        problems.push(format!(
            "frequency: {:?} is not daily, weekly or monthly",
            f.frequency
        ));
    }
    if !GROUPINGS.contains(&f.group_by.as_str()) || GroupBy::parse(&f.group_by).is_none() {
        problems.push(format!(
            "group_by: {:?} is not one of {}",
            f.group_by,
            GROUPINGS.join(", ")
        ));
    }
    if !matches!(f.format.as_str(), "csv" | "xlsx") {
        problems.push(format!("format: {:?} is not csv or xlsx", f.format));
    }
    let recipients = match addresses(&f.recipients) {
        Ok(list) => list.join(", "),
        Err(e) => {
            problems.push(format!("recipients: {e}"));
            String::new()
        }
    };
    if !problems.is_empty() {
        return Ok(reports_page(
            &app,
            &user,
            None,
            Some(problems.join("; ")),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await);
    }
    let schedule = ReportSchedule {
        id: uuid::Uuid::new_v4().simple().to_string(),
        frequency: f.frequency,
        group_by: f.group_by,
        format: f.format,
        recipients,
        language: user.lang.code().to_owned(),
        created_by: user.login.clone(),
        created_at: doorstep_store::now_millis(),
        last_period: None,
        last_sent_at: None,
        last_error: None,
    };
    app.store
        .add_report_schedule(&schedule)
        .await
        .page(user.lang)?;
    tracing::info!(by = %user.login, frequency = %schedule.frequency, "report schedule added");
    Ok(Redirect::to("/reports?done=added").into_response())
}

/// `POST /reports/schedules/{id}/delete`
pub async fn delete_schedule(
    State(app): State<AppState>,
    Path(id): Path<String>,
    StaffForm(user, _, _): StaffForm<QualityDesk, crate::http::auth::NoFields>,
) -> Response {
    match app.store.delete_report_schedule(&id).await {
        Ok(true) => Redirect::to("/reports?done=deleted").into_response(),
        Ok(false) => super::status_page(user.lang, StatusCode::NOT_FOUND),
        Err(e) => internal(user.lang, &e),
    }
}

/// `POST /reports/schedules/{id}/send`: sends the last full period now
/// (the schedule's own round is not disturbed).
pub async fn send_now(
    State(app): State<AppState>,
    Path(id): Path<String>,
    StaffForm(user, _, _): StaffForm<QualityDesk, crate::http::auth::NoFields>,
) -> PageResult {
    let t = crate::i18n::tr(user.lang);
    let schedule = app.store.report_schedule(&id).await.found(user.lang)?;
    let smtp = match Smtp::load(&app.store).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Ok(reports_page(
                &app,
                &user,
                None,
                Some(t.t("reports-no-smtp")),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await)
        }
        Err(e) => return Err(failed(user.lang, e)),
    };
    let today = jiff::Timestamp::now()
        .to_zoned(app.deployment().tz())
        .date();
    let Some((from, to)) = last_period(&schedule.frequency, today) else {
        return Ok(super::status_page(user.lang, StatusCode::NOT_FOUND));
    };
    Ok(match deliver(&app, &smtp, &schedule, from, to).await {
        Ok(()) => {
            let notice = t.with("reports-sent-now", "to", schedule.recipients.clone());
            reports_page(&app, &user, Some(notice), None, StatusCode::OK).await
        }
        Err(e) => {
            reports_page(
                &app,
                &user,
                None,
                Some(e.to_string()),
                StatusCode::BAD_GATEWAY,
            )
            .await
        }
    })
}

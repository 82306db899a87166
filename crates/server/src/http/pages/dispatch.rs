//! `/dispatch`: the dispatcher's live queue of incidents — what the alert
//! rules raised, ordered by priority and age, updated as events arrive —
//! and each incident's page, where it is claimed, called back and closed.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use doorstep_domain::helpdesk::incidents::{AttemptResult, IncidentStatus, Outcome};
use doorstep_domain::time::{format_local, from_millis, parse_timestamp};
use doorstep_store::helpdesk::incidents::{Actor, Incident, IncidentFilter, Refusal};
use serde::Deserialize;

use super::cases::age;
use super::orders::{encode, response_views, row, Choice, OrderRow, ResponseView, Zones};
use super::{non_empty, render, Chrome, Found, OrPage, PageResult};
use crate::http::auth::{CurrentUser, DispatchDesk, Dispatchers, Staff, StaffForm};
use crate::http::AppState;
use crate::i18n::Tr;

/// An incident as a row of the queue.
pub struct IncidentRow {
    pub id: String,
    pub priority: String,
    pub priority_label: String,
    pub reason: String,
    pub order_number: String,
    pub order_href: String,
    pub phone: String,
    pub customer_href: String,
    pub city: String,
    pub courier: String,
    pub age: String,
    pub status: String,
    pub status_label: String,
    pub owner: String,
    pub mine: bool,
    pub attempts: i64,
    /// "Call again at …" when it is not due yet.
    pub later: String,
    pub outcome: String,
}

fn incident_row(
    i: &Incident,
    user: &CurrentUser,
    t: Tr<'_>,
    tz: &jiff::tz::TimeZone,
    now: i64,
) -> IncidentRow {
    // A call-back about a case without an order (its customer's low
    // rating) leads to the case.
    let (order_number, order_href) = match i.case_number() {
        Some(n) => (t.with("incident-case", "number", n), format!("/cases/{n}")),
        None => (
            i.order_number.clone(),
            format!("/orders/{}", encode(&i.order_number)),
        ),
    };
    IncidentRow {
        priority_label: t.t(&format!("priority-{}", i.priority)),
        status_label: t.t(&format!("incident-status-{}", i.status)),
        customer_href: if i.customer_phone.is_empty() {
            order_href.clone()
        } else {
            format!("/customers/{}", encode(&i.customer_phone))
        },
        order_href,
        age: age(t, now, i.created_at),
        mine: i.owner_id.as_deref() == Some(user.id.as_str()),
        owner: i.owner_login.clone().unwrap_or_default(),
        later: if i.due_at > now && i.status != "closed" {
            t.with(
                "incident-call-again-at",
                "at",
                format_local(from_millis(i.due_at), tz),
            )
        } else {
            String::new()
        },
        outcome: i
            .outcome
            .as_deref()
            .map(|o| t.t(&format!("outcome-{o}")))
            .unwrap_or_default(),
        id: i.id.clone(),
        priority: i.priority.clone(),
        reason: i.reason.clone(),
        order_number,
        phone: i.customer_phone.clone(),
        city: i.city.clone(),
        courier: i.courier_id.clone().unwrap_or_default(),
        status: i.status.clone(),
        attempts: i.attempts,
    }
}

#[derive(Template)]
#[template(path = "dispatch.html")]
struct QueuePage {
    c: Chrome,
    rows: Vec<IncidentRow>,
    closed: Vec<IncidentRow>,
    /// Open cases that missed a deadline: the dispatcher's SLA alerts.
    breached: Vec<super::cases::BreachRow>,
    cities: Vec<Choice>,
    city: String,
    may_act: bool,
    may_edit_rules: bool,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    city: Option<String>,
    taken: Option<String>,
}

pub async fn queue(
    State(app): State<AppState>,
    Staff(user, _): Staff<DispatchDesk>,
    Query(q): Query<QueueQuery>,
) -> PageResult {
    let c = Chrome::new(&app, &user, "/dispatch", "dispatch-title");
    let t = c.tr;
    let city = non_empty(q.city);
    let live = app
        .store
        .incidents(&IncidentFilter {
            status: None,
            city: city.clone(),
            limit: 300,
        })
        .await
        .page(user.lang)?;
    let closed = app
        .store
        .incidents(&IncidentFilter {
            status: Some(IncidentStatus::Closed),
            city: city.clone(),
            limit: 10,
        })
        .await
        .page(user.lang)?;
    let cities = app.store.cities().await.page(user.lang)?;
    let tz = app.deployment().tz();
    let now = doorstep_store::now_millis();
    let breached = super::cases::breach_rows(&app, t, &tz, now)
        .await
        .page(user.lang)?;
    let view = QueuePage {
        breached,
        rows: live
            .iter()
            .map(|i| incident_row(i, &user, t, &tz, now))
            .collect(),
        closed: closed
            .iter()
            .map(|i| incident_row(i, &user, t, &tz, now))
            .collect(),
        cities: cities
            .into_iter()
            .map(|(name, _)| Choice {
                selected: city.as_deref() == Some(name.as_str()),
                label: name.clone(),
                value: name,
            })
            .collect(),
        city: city.unwrap_or_default(),
        may_act: user.may::<Dispatchers>(),
        may_edit_rules: user.may::<crate::http::auth::QualityDesk>(),
        notice: q.taken.map(|by| t.with("incident-taken", "owner", by)),
        c,
    };
    Ok(render(&view))
}

/// The live queue's event stream: incidents raised, claimed, worked, closed.
pub async fn events(
    State(app): State<AppState>,
    Staff(_user, _): Staff<DispatchDesk>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    super::live_events(&app, &headers, &uri, |name| {
        name.starts_with("incident.") || name == "case.sla_breached" || name == "case.resolved"
    })
}

#[derive(Template)]
#[template(path = "incident.html")]
struct IncidentPage {
    c: Chrome,
    i: IncidentRow,
    o: Option<OrderRow>,
    responses: Vec<ResponseView>,
    attempts: Vec<AttemptRow>,
    may_act: bool,
    /// May work it now: open, or claimed by this user (or an admin).
    workable: bool,
    results: Vec<Choice>,
    /// The root causes a reached customer may name (filed on their answer;
    /// none when the incident has no answer to file them on).
    causes: Vec<Choice>,
    outcomes: Vec<Choice>,
    /// "Turn into a case": the categories (one guessed from the reason)
    /// and lines.
    categories: Vec<Choice>,
    lines: Vec<Choice>,
    case_text: String,
    case_href: String,
    notice: Option<String>,
    error: Option<String>,
}

pub struct AttemptRow {
    pub when: String,
    pub who: String,
    pub result: String,
    pub note: String,
    pub again: String,
}

#[derive(Deserialize, Default)]
pub struct IncidentQuery {
    done: Option<String>,
    taken: Option<String>,
    error: Option<String>,
}

pub async fn detail(
    State(app): State<AppState>,
    Staff(user, _): Staff<DispatchDesk>,
    Path(id): Path<String>,
    Query(q): Query<IncidentQuery>,
) -> PageResult {
    let incident = app.store.incident(&id).await.found(user.lang)?;
    let mut c = Chrome::new(&app, &user, "/dispatch", "incident-title");
    let t = c.tr;
    c.title = match incident.case_number() {
        Some(n) => t.with("incident-title-case", "number", n),
        None => t.with("incident-title", "order", incident.order_number.clone()),
    };
    let tz = app.deployment().tz();
    let now = doorstep_store::now_millis();
    let order = app
        .store
        .order(&incident.order_number)
        .await
        .page(user.lang)?;
    let zones = Zones::load(&app).await.page(user.lang)?;
    // The answers in the order's city's zone, as the order's window is.
    let answers_tz = order
        .as_ref()
        .map_or_else(|| tz.clone(), |o| zones.of(&o.city).clone());
    let responses = response_views(&app, &incident.order_number, t, &answers_tz, true)
        .await
        .page(user.lang)?;
    let attempts = app.store.incident_attempts(&id).await.page(user.lang)?;
    let categories = app.store.case_categories().await.page(user.lang)?;
    let causes = if responses.is_empty() {
        Vec::new()
    } else {
        app.store
            .vocabulary()
            .await
            .page(user.lang)?
            .causes
            .iter()
            .map(|k| Choice {
                value: k.id.clone(),
                label: k.label_in(t.lang()).to_owned(),
                selected: false,
            })
            .collect()
    };
    // A reason that names a category ("why: late", "cause late") picks it.
    let guessed = categories
        .iter()
        .find(|k| {
            incident
                .reason
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|w| w == k.id)
        })
        .map_or("other", |k| k.id.as_str())
        .to_owned();
    let case_href = match &incident.case_id {
        Some(id) => app
            .store
            .case(id)
            .await
            .page(user.lang)?
            .map(|k| format!("/cases/{}", k.number))
            .unwrap_or_default(),
        None => String::new(),
    };
    let may_act = user.may::<Dispatchers>();
    let workable = may_act
        && incident.status != "closed"
        && (incident.owner_id.is_none()
            || incident.owner_id.as_deref() == Some(user.id.as_str())
            || user.role == doorstep_domain::Role::Admin);
    let view = IncidentPage {
        i: incident_row(&incident, &user, t, &tz, now),
        o: order.as_ref().map(|o| row(o, t, &zones, now)),
        responses,
        attempts: attempts
            .into_iter()
            .map(|a| AttemptRow {
                when: format_local(from_millis(a.created_at), &tz),
                who: a.author_login,
                result: t.t(&format!("attempt-{}", a.result)),
                note: a.note.unwrap_or_default(),
                again: a
                    .call_again_at
                    .map(|ms| format_local(from_millis(ms), &tz))
                    .unwrap_or_default(),
            })
            .collect(),
        may_act,
        workable,
        results: AttemptResult::ALL
            .iter()
            .map(|r| Choice {
                value: r.as_str().to_owned(),
                label: t.t(&format!("attempt-{}", r.as_str())),
                selected: false,
            })
            .collect(),
        causes,
        outcomes: Outcome::ALL
            .iter()
            .filter(|o| **o != Outcome::CaseOpened)
            .map(|o| Choice {
                value: o.as_str().to_owned(),
                label: t.t(&format!("outcome-{}", o.as_str())),
                selected: false,
            })
            .collect(),
        categories: categories
            .iter()
            .map(|k| Choice {
                selected: k.id == guessed,
                value: k.id.clone(),
                label: k.name(t.lang()).to_owned(),
            })
            .collect(),
        lines: doorstep_domain::helpdesk::cases::Line::ALL
            .iter()
            .map(|l| Choice {
                selected: *l == doorstep_domain::helpdesk::cases::Line::Customers,
                value: l.as_str().to_owned(),
                label: t.t(&format!("line-{}", l.as_str())),
            })
            .collect(),
        case_text: t.with("incident-case-text", "reason", incident.reason.clone()),
        case_href,
        notice: q.done.as_deref().map(|d| {
            t.t(&format!(
                "incident-done-{}",
                if d == "attempt" { "attempt" } else { "closed" }
            ))
        }),
        error: q
            .taken
            .map(|by| t.with("incident-taken", "owner", by))
            .or_else(|| {
                q.error.map(|e| {
                    t.t(&format!(
                        "incident-error-{}",
                        match e.as_str() {
                            "time" => "time",
                            "case" => "case",
                            _ => "closed",
                        }
                    ))
                })
            }),
        c,
    };
    Ok(render(&view))
}

fn actor(user: &CurrentUser) -> Actor<'_> {
    Actor {
        id: &user.id,
        login: &user.login,
        overrides: user.role == doorstep_domain::Role::Admin,
    }
}

/// Where a refused change sends the dispatcher: the incident, told why.
fn refused(id: &str, refusal: Refusal, from_queue: bool) -> Response {
    let at = |query: String| {
        if from_queue {
            Redirect::to(&format!("/dispatch?{query}")).into_response()
        } else {
            Redirect::to(&format!("/dispatch/{}?{query}", encode(id))).into_response()
        }
    };
    match refusal {
        Refusal::ClaimedBy(by) => at(format!("taken={}", encode(&by))),
        Refusal::Closed => at("error=closed".to_owned()),
        Refusal::NotFound => Redirect::to("/dispatch").into_response(),
    }
}

#[derive(Deserialize)]
pub struct ClaimForm {
    /// Set when claimed from the queue: back to the queue afterwards.
    #[serde(default)]
    from: Option<String>,
}

pub async fn claim(
    State(app): State<AppState>,
    Path(id): Path<String>,
    StaffForm(user, form, _): StaffForm<Dispatchers, ClaimForm>,
) -> PageResult {
    let from_queue = form.from.as_deref() == Some("queue");
    match app
        .store
        .claim_incident(&id, actor(&user))
        .await
        .page(user.lang)?
    {
        Ok(_) => Ok(Redirect::to(&format!("/dispatch/{}", encode(&id))).into_response()),
        Err(refusal) => Ok(refused(&id, refusal, from_queue)),
    }
}

#[derive(Deserialize)]
pub struct AttemptForm {
    result: String,
    #[serde(default)]
    note: String,
    /// `datetime-local`: the deployment's local time.
    #[serde(default)]
    call_again_at: String,
    /// A root cause the reached customer named (its id), or empty.
    #[serde(default)]
    cause: String,
}

pub async fn attempt(
    State(app): State<AppState>,
    Path(id): Path<String>,
    StaffForm(user, form, _): StaffForm<Dispatchers, AttemptForm>,
) -> PageResult {
    let Some(result) = AttemptResult::parse(&form.result) else {
        return Ok(Redirect::to(&format!("/dispatch/{}", encode(&id))).into_response());
    };
    let tz = app.deployment().tz();
    let again = match form.call_again_at.trim() {
        "" => None,
        s => match parse_timestamp(s, &tz) {
            Ok(ts) if ts.as_millisecond() > doorstep_store::now_millis() => {
                Some(ts.as_millisecond())
            }
            _ => {
                return Ok(
                    Redirect::to(&format!("/dispatch/{}?error=time", encode(&id))).into_response(),
                )
            }
        },
    };
    let note = non_empty(Some(form.note)).map(|n| n.chars().take(2000).collect::<String>());
    // Only a cause of the vocabulary is filed.
    let vocabulary = app.store.vocabulary().await.page(user.lang)?;
    let cause = form.cause.trim();
    let cause = vocabulary.causes.iter().find(|c| c.id == cause).map(|c| {
        doorstep_store::helpdesk::incidents::CallCause {
            cause_id: &c.id,
            tz: &tz,
        }
    });
    match app
        .store
        .log_attempt(&id, actor(&user), result, note.as_deref(), again, cause)
        .await
        .page(user.lang)?
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/dispatch/{}?done=attempt", encode(&id))).into_response())
        }
        Err(refusal) => Ok(refused(&id, refusal, false)),
    }
}

#[derive(Deserialize)]
pub struct CloseForm {
    outcome: String,
}

pub async fn close(
    State(app): State<AppState>,
    Path(id): Path<String>,
    StaffForm(user, form, _): StaffForm<Dispatchers, CloseForm>,
) -> PageResult {
    let Some(outcome) = Outcome::parse(&form.outcome).filter(|o| *o != Outcome::CaseOpened) else {
        return Ok(Redirect::to(&format!("/dispatch/{}", encode(&id))).into_response());
    };
    match app
        .store
        .close_incident(&id, actor(&user), outcome, None)
        .await
        .page(user.lang)?
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/dispatch/{}?done=closed", encode(&id))).into_response())
        }
        Err(refusal) => Ok(refused(&id, refusal, false)),
    }
}

#[derive(Deserialize)]
pub struct CaseForm {
    category: String,
    line: String,
    text: String,
}

/// Hands an incident to support as a case: the case opens (or the
/// customer's open case about the order takes it) and the incident closes
/// with "turned into a case", in one transaction.
pub async fn to_case(
    State(app): State<AppState>,
    Path(id): Path<String>,
    StaffForm(user, form, _): StaffForm<Dispatchers, CaseForm>,
) -> PageResult {
    let categories = app.store.case_categories().await.page(user.lang)?;
    let (Some(category), Some(line)) = (
        categories.iter().find(|k| k.id == form.category),
        doorstep_domain::helpdesk::cases::Line::parse(&form.line),
    ) else {
        return Ok(Redirect::to(&format!("/dispatch/{}?error=case", encode(&id))).into_response());
    };
    let Ok(text) = doorstep_domain::helpdesk::cases::check_text(&form.text) else {
        return Ok(Redirect::to(&format!("/dispatch/{}?error=case", encode(&id))).into_response());
    };
    match app
        .store
        .case_from_incident(&id, actor(&user), &category.id, line.as_str(), text)
        .await
        .page(user.lang)?
    {
        Ok(opened) => Ok(Redirect::to(&format!("/cases/{}", opened.case().number)).into_response()),
        Err(refusal) => Ok(refused(&id, refusal, false)),
    }
}

//! `/cases`: the operators' inbox — my cases, each line's unassigned ones,
//! the departments' hand-offs and the approvals queue — a case taken from
//! a call, and each case's page: its timeline, replies and notes, status
//! and owner, the category's playbook of remedies, who was at fault.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use doorstep_domain::helpdesk::cases::{CaseChannel, CaseStatus, Direction, Fault, Line};
use doorstep_domain::helpdesk::remedies::{RemedyStatus, RemedyType};
use doorstep_domain::time::{format_local, from_millis};
use doorstep_domain::{Money, Role};
use doorstep_store::helpdesk::cases::{Case, CaseFilter, CaseRefusal, CaseView, Opened};
use doorstep_store::helpdesk::ledger::{LedgerRefusal, Remedy};
use doorstep_store::helpdesk::{Actor, CaseCategory};
use serde::{Deserialize, Serialize};

use super::orders::{encode, Choice};
use super::{non_empty, render, Chrome, Found, OrPage, PageResult};
use crate::app::helpdesk::cases::{self as use_cases, CaseError, CaseRequest, ContactRequest};
use crate::app::helpdesk::remedies::{self, RemedyError, RemedyRequest};
use crate::http::auth::{CaseDesk, CurrentUser, Dispatchers, NoFields, Staff, StaffForm};
use crate::http::AppState;
use crate::i18n::Tr;

/// How a person acts on cases: dispatchers and admins may act on what
/// another operator owns.
pub fn actor(user: &CurrentUser) -> Actor<'_> {
    Actor {
        id: &user.id,
        login: &user.login,
        overrides: matches!(user.role, Role::Admin | Role::Dispatcher),
    }
}

/// "5 min", "3 h 10 min", "2 d" since `ms`.
pub fn age(t: Tr<'_>, now: i64, ms: i64) -> String {
    let minutes = (now - ms).max(0) / 60_000;
    if minutes < 60 {
        t.with("age-minutes", "n", minutes)
    } else if minutes < 48 * 60 {
        t.with2("age-hours", "h", minutes / 60, "m", minutes % 60)
    } else {
        t.with("age-days", "n", minutes / (24 * 60))
    }
}

/// An amount with its currency: "300.00 RUB".
pub fn money(minor: i64, currency: &str) -> String {
    format!("{} {currency}", Money::from_minor(minor))
}

/// A case's SLA timer as people read it: the nearest deadline still owed
/// ("reply in 3 min", "overdue 12 min"), or where it ended.
pub struct SlaBadge {
    /// `within`, `at_risk`, `breached`, `paused`, `met`: the colour.
    pub state: String,
    pub label: String,
    /// Which deadline the label is about ("" when none).
    pub what: String,
    /// The deadlines in full, for the tooltip.
    pub title: String,
}

/// The badge of `c` at `now`, from the standing kept on the case (a
/// deadline passed since is shown overdue at once, before the SLA job
/// looks).
pub fn sla_badge(c: &Case, t: Tr<'_>, tz: &jiff::tz::TimeZone, now: i64) -> SlaBadge {
    let open = c.is_open();
    let owed = [
        (
            "sla-first-response",
            c.first_response_due_at
                .filter(|_| c.first_response_at.is_none() && open),
        ),
        ("sla-next-response", c.next_response_due_at.filter(|_| open)),
        ("sla-resolution", c.resolution_due_at.filter(|_| open)),
    ];
    let nearest = owed
        .iter()
        .filter_map(|(what, due)| due.map(|d| (d, *what)))
        .min();
    let stored = c.sla_state.clone().unwrap_or_else(|| "within".to_owned());
    let title = owed
        .iter()
        .filter_map(|(what, due)| {
            due.map(|d| format!("{}: {}", t.t(what), format_local(from_millis(d), tz)))
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let what = match nearest {
        Some((_, what)) if !(stored == "paused" && open) => t.t(what),
        _ => String::new(),
    };
    let (state, label) = match nearest {
        _ if stored == "paused" && open => (stored, t.t("sla-paused")),
        Some((due, _)) if due < now => (
            "breached".to_owned(),
            t.with("sla-overdue", "time", age(t, now, due)),
        ),
        Some((due, _)) => (
            if stored == "breached" || stored == "at_risk" {
                stored
            } else {
                "within".to_owned()
            },
            t.with("sla-due-in", "time", age(t, due, now)),
        ),
        None if stored == "breached" => (stored, t.t("sla-state-breached")),
        None if !open => (
            stored,
            t.t(&format!(
                "sla-state-{}",
                if c.sla_breaches > 0 {
                    "breached"
                } else {
                    "met"
                }
            )),
        ),
        None => (stored, String::new()),
    };
    SlaBadge {
        state,
        label,
        what,
        title,
    }
}

/// An open case that missed a deadline, as the dispatcher's alert list
/// shows it.
pub struct BreachRow {
    pub href: String,
    pub number: i64,
    pub subject: String,
    pub line: String,
    pub channel: String,
    pub owner: String,
    pub sla: SlaBadge,
}

/// The open cases that missed a deadline, most urgent first.
pub async fn breach_rows(
    app: &AppState,
    t: Tr<'_>,
    tz: &jiff::tz::TimeZone,
    now: i64,
) -> Result<Vec<BreachRow>, doorstep_store::StoreError> {
    let mut filter = CaseFilter::new(CaseView::All);
    filter.breached = true;
    filter.limit = 100;
    let cases = app.store.cases(&filter).await?;
    Ok(cases
        .iter()
        .map(|c| BreachRow {
            href: format!("/cases/{}", c.number),
            number: c.number,
            subject: c.subject.clone(),
            line: t.t(&format!("line-{}", c.line)),
            channel: t.t(&format!("channel-{}", c.channel)),
            owner: c.owner_login.clone().unwrap_or_default(),
            sla: sla_badge(c, t, tz, now),
        })
        .collect())
}

/// A case as a row of the inbox.
pub struct CaseRow {
    pub number: i64,
    pub href: String,
    pub priority: String,
    pub priority_label: String,
    pub subject: String,
    pub customer: String,
    pub order: String,
    pub channel: String,
    pub category: String,
    pub status: String,
    pub status_label: String,
    pub owner: String,
    pub age: String,
    pub updated: String,
    pub contacts: i64,
    pub handed_to: String,
    pub sla: SlaBadge,
    /// Where replies written on it go: the customer's e-mail thread or
    /// messenger chat (empty: the operator reaches them themselves).
    pub replies_to: String,
}

fn category_name(categories: &[CaseCategory], id: &str, t: Tr<'_>) -> String {
    categories
        .iter()
        .find(|c| c.id == id)
        .map_or_else(|| id.to_owned(), |c| c.name(t.lang()).to_owned())
}

fn case_row(
    c: &Case,
    categories: &[CaseCategory],
    t: Tr<'_>,
    tz: &jiff::tz::TimeZone,
    now: i64,
) -> CaseRow {
    CaseRow {
        sla: sla_badge(c, t, tz, now),
        number: c.number,
        href: format!("/cases/{}", c.number),
        priority_label: t.t(&format!("priority-{}", c.priority)),
        priority: c.priority.clone(),
        subject: c.subject.clone(),
        customer: c.customer_phone.clone().unwrap_or_default(),
        order: c.order_number.clone().unwrap_or_default(),
        channel: t.t(&format!("channel-{}", c.channel)),
        category: category_name(categories, &c.category, t),
        status_label: t.t(&format!("case-status-{}", c.status)),
        status: c.status.clone(),
        owner: c.owner_login.clone().unwrap_or_default(),
        age: age(t, now, c.created_at),
        updated: age(t, now, c.updated_at),
        contacts: c.contacts,
        handed_to: c
            .handed_to
            .as_deref()
            .map(|d| t.t(&format!("fault-{d}")))
            .unwrap_or_default(),
        replies_to: match (c.email_address(), c.gateway_conversation()) {
            (Some(address), _) => t.with("case-replies-email", "address", address),
            (None, Some((gateway, chat))) => {
                t.with2("case-replies-gateway", "gateway", gateway, "chat", chat)
            }
            (None, None) => String::new(),
        },
    }
}

/// One tab of the inbox.
pub struct Tab {
    pub href: String,
    pub label: String,
    pub count: Option<i64>,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "cases.html")]
struct InboxPage {
    c: Chrome,
    tabs: Vec<Tab>,
    rows: Vec<CaseRow>,
    view: String,
    q: InboxQuery,
    statuses: Vec<Choice>,
    categories: Vec<Choice>,
    channels: Vec<Choice>,
    ages: Vec<Choice>,
    departments: Vec<Choice>,
    explain: String,
}

#[derive(Deserialize, Serialize, Default, Clone)]
pub struct InboxQuery {
    /// `mine` (default), `customers`, `couriers` (a line's unassigned),
    /// `open` (every open case), `department`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Opened more than this many hours ago.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub older: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// An order number, a phone or a case number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
}

fn choices<'a>(
    items: impl IntoIterator<Item = (&'a str, String)>,
    selected: Option<&str>,
) -> Vec<Choice> {
    items
        .into_iter()
        .map(|(value, label)| Choice {
            selected: selected == Some(value),
            value: value.to_owned(),
            label,
        })
        .collect()
}

pub async fn inbox(
    State(app): State<AppState>,
    Staff(user, _): Staff<CaseDesk>,
    Query(mut q): Query<InboxQuery>,
) -> PageResult {
    let c = Chrome::new(&app, &user, "/cases", "cases-title");
    let t = c.tr;
    let now = doorstep_store::now_millis();
    let tz = app.deployment().tz();
    let categories = app.store.case_categories().await.page(user.lang)?;
    q.view = non_empty(q.view.take());
    q.status = non_empty(q.status.take()).filter(|s| CaseStatus::parse(s).is_some());
    q.category = non_empty(q.category.take());
    q.channel = non_empty(q.channel.take()).filter(|s| CaseChannel::parse(s).is_some());
    q.department = non_empty(q.department.take()).filter(|s| Fault::parse(s).is_some());
    q.q = non_empty(q.q.take());
    q.older = non_empty(q.older.take()).filter(|s| s.parse::<i64>().is_ok());
    let view = match q.view.as_deref() {
        Some(v @ ("customers" | "couriers" | "open" | "department")) => v.to_owned(),
        _ => "mine".to_owned(),
    };
    let mut filter = CaseFilter::new(match view.as_str() {
        "customers" | "couriers" => CaseView::Unassigned,
        "open" => CaseView::All,
        "department" => match &q.department {
            Some(d) => CaseView::Department(d.clone()),
            None => CaseView::Department("courier".to_owned()),
        },
        _ => CaseView::Mine(user.id.clone()),
    });
    if matches!(view.as_str(), "customers" | "couriers") {
        filter.line = Some(view.clone());
    }
    filter.status = q.status.clone();
    filter.category = q.category.clone();
    filter.channel = q.channel.clone();
    filter.opened_before = q
        .older
        .as_deref()
        .and_then(|h| h.parse::<i64>().ok())
        .map(|h| now - h * 3_600_000);
    filter.limit = 200;
    if let Some(search) = &q.q {
        // A phone as people type it, else an order or case number as is.
        filter.view = CaseView::All;
        filter.search = Some(
            crate::app::helpdesk::parse_phone(&app, "q", search).unwrap_or_else(|_| search.clone()),
        );
    }
    let cases = app.store.cases(&filter).await.page(user.lang)?;
    let counts = app.store.inbox_counts(&user.id).await.page(user.lang)?;
    let unassigned = |line: &str| {
        counts
            .unassigned
            .iter()
            .find(|(l, _)| l == line)
            .map_or(0, |(_, n)| *n)
    };
    let mut tabs = vec![Tab {
        href: "/cases?view=mine".to_owned(),
        label: t.t("cases-tab-mine"),
        count: Some(counts.mine),
        active: view == "mine" && q.q.is_none(),
    }];
    for line in Line::ALL {
        tabs.push(Tab {
            href: format!("/cases?view={}", line.as_str()),
            label: t.t(&format!("cases-tab-{}", line.as_str())),
            count: Some(unassigned(line.as_str())),
            active: view == line.as_str() && q.q.is_none(),
        });
    }
    tabs.push(Tab {
        href: "/cases?view=open".to_owned(),
        label: t.t("cases-tab-open"),
        count: None,
        active: view == "open" && q.q.is_none(),
    });
    tabs.push(Tab {
        href: "/cases?view=department".to_owned(),
        label: t.t("cases-tab-department"),
        count: None,
        active: view == "department" && q.q.is_none(),
    });
    if user.may::<Dispatchers>() {
        let pending = app.store.pending_count().await.page(user.lang)?;
        tabs.push(Tab {
            href: "/cases/approvals".to_owned(),
            label: t.t("cases-tab-approvals"),
            count: Some(pending),
            active: false,
        });
    }
    let explain = if q.q.is_some() {
        t.t("cases-explain-search")
    } else {
        t.t(&format!("cases-explain-{view}"))
    };
    let view_page = InboxPage {
        rows: cases
            .iter()
            .map(|k| case_row(k, &categories, t, &tz, now))
            .collect(),
        statuses: choices(
            CaseStatus::ALL
                .iter()
                .map(|s| (s.as_str(), t.t(&format!("case-status-{}", s.as_str())))),
            q.status.as_deref(),
        ),
        categories: choices(
            categories
                .iter()
                .map(|k| (k.id.as_str(), k.name(t.lang()).to_owned())),
            q.category.as_deref(),
        ),
        channels: choices(
            CaseChannel::ALL
                .iter()
                .map(|s| (s.as_str(), t.t(&format!("channel-{}", s.as_str())))),
            q.channel.as_deref(),
        ),
        ages: choices(
            [("1", 1), ("4", 4), ("24", 24), ("72", 72)]
                .into_iter()
                .map(|(v, h)| (v, t.with("cases-older-than", "h", h))),
            q.older.as_deref(),
        ),
        departments: choices(
            Fault::ALL
                .iter()
                .filter(|f| f.department().is_some())
                .map(|f| (f.as_str(), t.t(&format!("fault-{}", f.as_str())))),
            Some(q.department.as_deref().unwrap_or("courier")),
        ),
        tabs,
        view,
        explain,
        q,
        c,
    };
    Ok(render(&view_page))
}

/// The inbox's and the case page's event stream: cases and remedies.
pub async fn events(
    State(app): State<AppState>,
    Staff(_user, _): Staff<CaseDesk>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    super::live_events(&app, &headers, &uri, |name| {
        name.starts_with("case.") || name.starts_with("remedy.")
    })
}

#[derive(Template)]
#[template(path = "case_new.html")]
struct NewCasePage {
    c: Chrome,
    channels: Vec<Choice>,
    lines: Vec<Choice>,
    categories: Vec<Choice>,
    form: NewCaseForm,
    error: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct NewCaseForm {
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub line: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub order_number: String,
    #[serde(default)]
    pub customer_phone: String,
    #[serde(default)]
    pub text: String,
}

async fn new_case_page(
    app: &AppState,
    user: &CurrentUser,
    form: NewCaseForm,
    error: Option<String>,
) -> PageResult {
    let c = Chrome::new(app, user, "/cases", "case-new-title");
    let t = c.tr;
    let categories = app.store.case_categories().await.page(user.lang)?;
    let channel = if form.channel.is_empty() {
        "phone"
    } else {
        form.channel.as_str()
    };
    let view = NewCasePage {
        channels: choices(
            CaseChannel::ALL
                .iter()
                .map(|s| (s.as_str(), t.t(&format!("channel-{}", s.as_str())))),
            Some(channel),
        ),
        lines: choices(
            Line::ALL
                .iter()
                .map(|l| (l.as_str(), t.t(&format!("line-{}", l.as_str())))),
            Some(if form.line.is_empty() {
                "customers"
            } else {
                form.line.as_str()
            }),
        ),
        categories: choices(
            categories
                .iter()
                .map(|k| (k.id.as_str(), k.name(t.lang()).to_owned())),
            Some(if form.category.is_empty() {
                "other"
            } else {
                form.category.as_str()
            }),
        ),
        form,
        error,
        c,
    };
    Ok(render(&view))
}

#[derive(Deserialize, Default)]
pub struct NewCaseQuery {
    order: Option<String>,
    phone: Option<String>,
}

pub async fn new_case(
    State(app): State<AppState>,
    Staff(user, _): Staff<CaseDesk>,
    Query(q): Query<NewCaseQuery>,
) -> PageResult {
    let form = NewCaseForm {
        order_number: q.order.unwrap_or_default(),
        customer_phone: q.phone.unwrap_or_default(),
        ..NewCaseForm::default()
    };
    new_case_page(&app, &user, form, None).await
}

/// A problem with a form, in the reader's language where we have words
/// for the field.
fn problem_text(t: Tr<'_>, field: &str, message: &str) -> String {
    format!("{}: {message}", t.t(&format!("field-{field}")))
}

pub async fn create(
    State(app): State<AppState>,
    StaffForm(user, form, _): StaffForm<CaseDesk, NewCaseForm>,
) -> PageResult {
    let t = crate::i18n::tr(user.lang);
    let req = CaseRequest {
        channel: form.channel.clone(),
        line: Some(form.line.clone()),
        category: Some(form.category.clone()),
        priority: None,
        order_number: Some(form.order_number.clone()),
        customer_phone: Some(form.customer_phone.clone()),
        text: form.text.clone(),
        external_id: None,
        direction: None,
        conversation: None,
    };
    match use_cases::open(&app, &req, &user.login).await {
        Ok(opened) => {
            let case = opened.case();
            // The operator who took the call owns the case they opened.
            if matches!(opened, Opened::Created(_)) {
                app.store
                    .assign_case(&case.id, actor(&user), actor(&user))
                    .await
                    .page(user.lang)?
                    .ok();
            }
            let note = if matches!(opened, Opened::Joined(_)) {
                "?done=joined"
            } else {
                ""
            };
            Ok(Redirect::to(&format!("/cases/{}{note}", case.number)).into_response())
        }
        Err(CaseError::Invalid(p)) => {
            new_case_page(
                &app,
                &user,
                form,
                Some(problem_text(t, &p.field, &p.message)),
            )
            .await
        }
        Err(CaseError::Store(e)) => Err(super::failed(user.lang, e)),
    }
}

/// One line of a case's timeline, for people.
pub struct EntryRow {
    pub kind: String,
    pub when: String,
    pub who: String,
    pub text: String,
    pub label: String,
    pub direction: String,
    /// A photo the customer sent with it: its address.
    pub photo: String,
}

/// A remedy as the case page shows it.
pub struct RemedyRow {
    pub id: String,
    pub label: String,
    pub amount: String,
    pub status: String,
    pub status_label: String,
    pub who: String,
    pub when: String,
    pub note: String,
    /// The ledger entry it credited, while it can be reversed.
    pub reversible: Option<String>,
}

/// A playbook action as a one-click button.
pub struct PlaybookButton {
    pub kind: String,
    pub label: String,
    /// Minor units to propose, in major units for the input ("300.00").
    pub amount: String,
    pub takes_amount: bool,
    pub hint: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    c: Chrome,
    case: CaseRow,
    /// The customer's calls that may be attached as contacts.
    calls: Vec<Choice>,
    /// The contact reasons a call is wrapped up with.
    call_reasons: Vec<Choice>,
    /// The customer's live status page and chat, to send them.
    status_url: String,
    case_id: String,
    customer_href: String,
    order_href: String,
    incident_href: String,
    line: String,
    created: String,
    first_response: String,
    fault: String,
    fault_note: String,
    entries: Vec<EntryRow>,
    remedies: Vec<RemedyRow>,
    playbook: Vec<PlaybookButton>,
    other_remedies: Vec<Choice>,
    statuses: Vec<Choice>,
    faults: Vec<Choice>,
    channels: Vec<Choice>,
    operators: Vec<Choice>,
    /// A fresh key per page view: a double click applies the action once.
    action_key: String,
    may_take: bool,
    may_assign: bool,
    may_approve: bool,
    is_open: bool,
    balance: String,
    currency: String,
    /// The customer's claims look like abuse: the evidence.
    claims: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct CaseQuery {
    done: Option<String>,
    error: Option<String>,
    by: Option<String>,
}

fn entry_row(
    e: &doorstep_store::helpdesk::cases::CaseEntry,
    number: i64,
    t: Tr<'_>,
    tz: &jiff::tz::TimeZone,
) -> EntryRow {
    let label = match (
        e.kind.as_str(),
        e.channel.as_deref(),
        e.direction.as_deref(),
    ) {
        ("contact", Some(channel), Some(direction)) => t.with2(
            "case-entry-contact",
            "channel",
            t.t(&format!("channel-{channel}")),
            "direction",
            t.t(&format!("direction-{direction}")),
        ),
        ("note", _, _) => t.t("case-entry-note"),
        _ => t.t("case-entry-event"),
    };
    EntryRow {
        kind: e.kind.clone(),
        when: format_local(from_millis(e.created_at), tz),
        who: e.author.clone(),
        text: if e.kind == "event" {
            event_text(&e.body, t)
        } else {
            e.body.clone()
        },
        label,
        direction: e.direction.clone().unwrap_or_default(),
        photo: e
            .attachment_id
            .as_ref()
            .map(|id| format!("/cases/{number}/photos/{id}"))
            .unwrap_or_default(),
    }
}

/// What was done, in the reader's language. The store writes it as
/// "status: resolved", "owner: olga", "fault: courier — note",
/// "remedy: bonus_credit 300.00 RUB — applied", "remedy approved: …".
fn event_text(body: &str, t: Tr<'_>) -> String {
    let (head, note) = match body.split_once(" — ") {
        Some((h, n)) => (h, Some(n)),
        None => (body, None),
    };
    let remedy = |rest: &str| match rest.split_once(' ') {
        Some((kind, amount)) => format!("{} {amount}", t.t(&format!("remedy-{kind}"))),
        None => t.t(&format!("remedy-{rest}")),
    };
    let text = if let Some(status) = head.strip_prefix("status: ") {
        t.with(
            "case-event-status",
            "status",
            t.t(&format!("case-status-{status}")),
        )
    } else if let Some(rating) = head.strip_prefix(doorstep_store::helpdesk::support::RATING_EVENT)
    {
        t.with("case-event-rating", "rating", rating.to_owned())
    } else if let Some(owner) = head.strip_prefix("owner: ") {
        t.with("case-event-owner", "owner", owner.to_owned())
    } else if let Some(fault) = head.strip_prefix("fault: ") {
        t.with("case-event-fault", "fault", t.t(&format!("fault-{fault}")))
    } else if let Some(rest) = head.strip_prefix("remedy: ") {
        // "remedy: TYPE AMOUNT — STATUS": the status is the note's place.
        let status = note
            .map(|s| t.t(&format!("remedy-status-{s}")))
            .unwrap_or_default();
        return t.with2(
            "case-event-remedy",
            "remedy",
            remedy(rest),
            "status",
            status,
        );
    } else if let Some((verb, rest)) = head
        .strip_prefix("remedy ")
        .and_then(|r| r.split_once(": "))
    {
        t.with2(
            "case-event-remedy-decided",
            "remedy",
            remedy(rest),
            "what",
            t.t(&format!("case-event-{verb}")),
        )
    } else {
        head.to_owned()
    };
    match note {
        Some(n) => format!("{text} — {n}"),
        None => text,
    }
}

fn remedy_row(
    r: &Remedy,
    t: Tr<'_>,
    tz: &jiff::tz::TimeZone,
    credited: &[(String, String)],
) -> RemedyRow {
    RemedyRow {
        id: r.id.clone(),
        label: t.t(&format!("remedy-{}", r.remedy_type)),
        amount: r
            .amount_minor
            .map(|a| money(a, &r.currency))
            .unwrap_or_default(),
        status_label: t.t(&format!("remedy-status-{}", r.status)),
        status: r.status.clone(),
        who: match &r.decided_by {
            Some(d) => format!("{} → {d}", r.requested_by),
            None => r.requested_by.clone(),
        },
        when: format_local(from_millis(r.created_at), tz),
        note: r
            .decision_note
            .clone()
            .or_else(|| r.outcome_note.clone())
            .unwrap_or_default(),
        reversible: (r.status == RemedyStatus::Applied.as_str())
            .then(|| {
                credited
                    .iter()
                    .find(|(remedy, _)| *remedy == r.id)
                    .map(|(_, entry)| entry.clone())
            })
            .flatten(),
    }
}

async fn find_case(
    app: &AppState,
    user: &CurrentUser,
    key: &str,
) -> Result<Case, super::PageError> {
    use_cases::find(app, key).await.found(user.lang)
}

pub async fn detail(
    State(app): State<AppState>,
    Staff(user, _): Staff<CaseDesk>,
    Path(key): Path<String>,
    Query(q): Query<CaseQuery>,
    headers: axum::http::HeaderMap,
) -> PageResult {
    let case = find_case(&app, &user, &key).await?;
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let status_url = crate::app::helpdesk::status::link(&app.store, host, &case.id)
        .await
        .page(user.lang)?
        .unwrap_or_default();
    let mut c = Chrome::new(&app, &user, "/cases", "case-title");
    let t = c.tr;
    c.title = t.with("case-title", "number", case.number);
    let tz = app.deployment().tz();
    let currency = app.deployment().currency;
    let now = doorstep_store::now_millis();
    let categories = app.store.case_categories().await.page(user.lang)?;
    let entries = app.store.case_entries(&case.id).await.page(user.lang)?;
    let remedies_list = app.store.case_remedies(&case.id).await.page(user.lang)?;
    let (balance, credited) = match &case.customer_phone {
        Some(phone) => {
            let ledger = app.store.ledger(phone, 1000).await.page(user.lang)?;
            let credited: Vec<(String, String)> = ledger
                .entries
                .iter()
                .filter(|e| e.kind == "credit")
                .filter_map(|e| e.remedy_id.clone().map(|r| (r, e.id.clone())))
                .collect();
            (money(ledger.balance, &currency), credited)
        }
        None => (String::new(), Vec::new()),
    };
    let order_amount = match &case.order_number {
        Some(n) => app
            .store
            .order(n)
            .await
            .page(user.lang)?
            .and_then(|o| o.amount_minor),
        None => None,
    };
    let playbook_entries = categories
        .iter()
        .find(|k| k.id == case.category)
        .map(|k| k.playbook.clone())
        .unwrap_or_default();
    let playbook: Vec<PlaybookButton> = playbook_entries
        .iter()
        .map(|e| {
            let proposed = e.default_amount(order_amount);
            PlaybookButton {
                kind: e.kind.as_str().to_owned(),
                label: t.t(&format!("remedy-{}", e.kind.as_str())),
                amount: proposed
                    .map(|a| Money::from_minor(a).plain())
                    .unwrap_or_default(),
                takes_amount: e.kind.has_amount(),
                hint: t.t(&format!("remedy-hint-{}", e.kind.as_str())),
            }
        })
        .collect();
    let operators = if user.may::<Dispatchers>() {
        app.store
            .users()
            .await
            .page(user.lang)?
            .into_iter()
            .filter(|u| matches!(u.role.as_str(), "operator" | "dispatcher" | "admin"))
            .map(|u| Choice {
                selected: Some(&u.id) == case.owner_id.as_ref(),
                label: format!("{} · {}", u.login, t.t(&format!("role-{}", u.role))),
                value: u.id,
            })
            .collect()
    } else {
        Vec::new()
    };
    let claims = match &case.customer_phone {
        Some(phone) => crate::app::helpdesk::file::claim_signal(&app, phone)
            .await
            .page(user.lang)?
            .map(|s| super::customers::claims_text(t, &s)),
        None => None,
    };
    let mine = case.owner_id.as_deref() == Some(user.id.as_str());
    let is_open = case.is_open();
    // The customer's calls not on the case yet, to attach as contacts.
    let attached: std::collections::HashSet<&str> = entries
        .iter()
        .filter_map(|e| e.external_id.as_deref()?.strip_prefix(CALL_CONTACT))
        .collect();
    let calls = match (&case.customer_phone, is_open) {
        (Some(phone), true) => app
            .store
            .customer_calls(phone, 20)
            .await
            .page(user.lang)?
            .into_iter()
            .filter(|k| !attached.contains(k.id.as_str()))
            .map(|k| Choice {
                label: call_summary(t, &k, &tz),
                value: k.id,
                selected: false,
            })
            .collect(),
        _ => Vec::new(),
    };
    let call_reasons = if calls.is_empty() {
        Vec::new()
    } else {
        crate::app::calls::reasons(&app.store)
            .await
            .page(user.lang)?
            .into_iter()
            .map(|r| Choice {
                label: r.name(t.lang()).to_owned(),
                value: r.id,
                selected: false,
            })
            .collect()
    };
    let view = CasePage {
        calls,
        call_reasons,
        customer_href: case
            .customer_phone
            .as_deref()
            .map(|p| format!("/customers/{}", encode(p)))
            .unwrap_or_default(),
        order_href: case
            .order_number
            .as_deref()
            .map(|o| format!("/orders/{}", encode(o)))
            .unwrap_or_default(),
        incident_href: case
            .incident_id
            .as_deref()
            .map(|i| format!("/dispatch/{}", encode(i)))
            .unwrap_or_default(),
        line: t.t(&format!("line-{}", case.line)),
        created: format_local(from_millis(case.created_at), &tz),
        first_response: case
            .first_response_at
            .map(|ms| format_local(from_millis(ms), &tz))
            .unwrap_or_default(),
        fault: case
            .fault
            .as_deref()
            .map(|f| t.t(&format!("fault-{f}")))
            .unwrap_or_default(),
        fault_note: case.fault_note.clone().unwrap_or_default(),
        entries: entries
            .iter()
            .map(|e| entry_row(e, case.number, t, &tz))
            .collect(),
        remedies: remedies_list
            .iter()
            .map(|r| remedy_row(r, t, &tz, &credited))
            .collect(),
        other_remedies: RemedyType::ALL
            .iter()
            .filter(|k| !playbook_entries.iter().any(|e| e.kind == **k))
            .map(|k| Choice {
                value: k.as_str().to_owned(),
                label: t.t(&format!("remedy-{}", k.as_str())),
                selected: false,
            })
            .collect(),
        statuses: CaseStatus::ALL
            .iter()
            .filter(|s| s.as_str() != case.status && **s != CaseStatus::New)
            .map(|s| Choice {
                value: s.as_str().to_owned(),
                label: t.t(&format!("case-move-{}", s.as_str())),
                selected: false,
            })
            .collect(),
        faults: Fault::ALL
            .iter()
            .map(|f| Choice {
                selected: case.fault.as_deref() == Some(f.as_str()),
                value: f.as_str().to_owned(),
                label: t.t(&format!("fault-{}", f.as_str())),
            })
            .collect(),
        channels: CaseChannel::ALL
            .iter()
            .map(|s| Choice {
                selected: s.as_str() == case.channel,
                value: s.as_str().to_owned(),
                label: t.t(&format!("channel-{}", s.as_str())),
            })
            .collect(),
        operators,
        playbook,
        action_key: uuid::Uuid::new_v4().to_string(),
        may_take: is_open && !mine && (case.owner_id.is_none() || actor(&user).overrides),
        may_assign: user.may::<Dispatchers>(),
        may_approve: user.may::<Dispatchers>(),
        is_open,
        balance,
        currency,
        claims,
        notice: q
            .done
            .as_deref()
            .map(|d| t.t(&format!("case-done-{}", short_word(d)))),
        error: q.error.as_deref().map(|e| match e {
            "owned" => t.with(
                "case-error-owned",
                "owner",
                q.by.clone().unwrap_or_default(),
            ),
            "another" => t.with(
                "case-error-another",
                "number",
                q.by.clone().unwrap_or_default(),
            ),
            other => t.t(&format!("case-error-{}", short_word(other))),
        }),
        case: case_row(&case, &categories, t, &tz, now),
        status_url,
        case_id: case.id.clone(),
        c,
    };
    Ok(render(&view))
}

/// `/cases/{key}/photos/{id}`: a photo the customer sent in the case's
/// chat, for the support desk; every look is logged.
pub async fn photo(
    State(app): State<AppState>,
    Staff(user, _): Staff<CaseDesk>,
    Path((key, id)): Path<(String, String)>,
) -> PageResult {
    let case = find_case(&app, &user, &key).await?;
    match super::case_status::serve_photo(&app, &case.id, &id).await {
        Some(r) => {
            tracing::info!(by = %user.login, case = case.number, attachment = %id, "a chat photo was opened");
            Ok(r)
        }
        None => Ok(super::status_page(
            user.lang,
            axum::http::StatusCode::NOT_FOUND,
        )),
    }
}

/// The operator is typing a reply: the customer's status page shows it.
pub async fn typing(
    State(app): State<AppState>,
    Path(key): Path<String>,
    StaffForm(user, _form, _): StaffForm<CaseDesk, NoFields>,
) -> Response {
    match find_case(&app, &user, &key).await {
        Ok(case) => match app.store.case_typing(&case.id, "operator").await {
            Ok(()) => axum::http::StatusCode::NO_CONTENT.into_response(),
            Err(e) => super::internal(user.lang, &e),
        },
        Err(e) => e.into_response(),
    }
}

/// A word from a query string used in a message key: letters and `_` only.
fn short_word(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_lowercase() || *c == '_')
        .take(32)
        .collect()
}

fn back(number: i64, query: &str) -> Response {
    Redirect::to(&format!("/cases/{number}?{query}")).into_response()
}

fn refused(number: i64, refusal: CaseRefusal) -> Response {
    match refusal {
        CaseRefusal::NotFound => Redirect::to("/cases").into_response(),
        CaseRefusal::NotOpen => back(number, "error=not_open"),
        CaseRefusal::AnotherOpen(n) => back(number, &format!("error=another&by={n}")),
        CaseRefusal::OwnedBy(who) => back(number, &format!("error=owned&by={}", encode(&who))),
    }
}

pub async fn take(
    State(app): State<AppState>,
    Path(key): Path<String>,
    StaffForm(user, _form, _): StaffForm<CaseDesk, NoFields>,
) -> PageResult {
    let case = find_case(&app, &user, &key).await?;
    match app
        .store
        .assign_case(&case.id, actor(&user), actor(&user))
        .await
        .page(user.lang)?
    {
        Ok(_) => Ok(back(case.number, "done=taken")),
        Err(r) => Ok(refused(case.number, r)),
    }
}

#[derive(Deserialize)]
pub struct AssignForm {
    user_id: String,
}

pub async fn assign(
    State(app): State<AppState>,
    Path(key): Path<String>,
    StaffForm(user, form, _): StaffForm<Dispatchers, AssignForm>,
) -> PageResult {
    let case = find_case(&app, &user, &key).await?;
    let users = app.store.users().await.page(user.lang)?;
    let Some(to) = users.iter().find(|u| u.id == form.user_id) else {
        return Ok(back(case.number, "error=no_user"));
    };
    let to = Actor {
        id: &to.id,
        login: &to.login,
        overrides: false,
    };
    match app
        .store
        .assign_case(&case.id, actor(&user), to)
        .await
        .page(user.lang)?
    {
        Ok(_) => Ok(back(case.number, "done=assigned")),
        Err(r) => Ok(refused(case.number, r)),
    }
}

#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
}

pub async fn status(
    State(app): State<AppState>,
    Path(key): Path<String>,
    StaffForm(user, form, _): StaffForm<CaseDesk, StatusForm>,
) -> PageResult {
    let case = find_case(&app, &user, &key).await?;
    let Some(status) = CaseStatus::parse(&form.status) else {
        return Ok(back(case.number, "error=status"));
    };
    match app
        .store
        .set_case_status(&case.id, status, actor(&user))
        .await
        .page(user.lang)?
    {
        Ok(_) => Ok(back(case.number, "done=status")),
        Err(r) => Ok(refused(case.number, r)),
    }
}

#[derive(Deserialize)]
pub struct ContactForm {
    /// `reply` (to the customer), `inbound` (the customer's contact taken
    /// by hand) or `note` (internal).
    kind: String,
    #[serde(default)]
    channel: String,
    text: String,
}

pub async fn contact(
    State(app): State<AppState>,
    Path(key): Path<String>,
    StaffForm(user, form, _): StaffForm<CaseDesk, ContactForm>,
) -> PageResult {
    let case = find_case(&app, &user, &key).await?;
    if form.kind == "note" {
        let Ok(text) = doorstep_domain::helpdesk::cases::check_text(&form.text) else {
            return Ok(back(case.number, "error=text"));
        };
        return match app
            .store
            .add_note(&case.id, &user.login, text)
            .await
            .page(user.lang)?
        {
            Ok(_) => Ok(back(case.number, "done=note")),
            Err(r) => Ok(refused(case.number, r)),
        };
    }
    let direction = if form.kind == "reply" {
        Direction::Outbound
    } else {
        Direction::Inbound
    };
    let req = ContactRequest {
        channel: if form.channel.is_empty() {
            case.channel.clone()
        } else {
            form.channel.clone()
        },
        direction: Some(direction.as_str().to_owned()),
        text: form.text.clone(),
        external_id: None,
    };
    match use_cases::add_contact(&app, &case.id, &req, &user.login, true).await {
        Ok((Ok(_), _)) => Ok(back(case.number, "done=contact")),
        Ok((Err(r), _)) => Ok(refused(case.number, r)),
        Err(CaseError::Invalid(p)) => Ok(back(
            case.number,
            &format!("error={}", short_word(&p.field)),
        )),
        Err(CaseError::Store(e)) => Err(super::failed(user.lang, e)),
    }
}

#[derive(Deserialize)]
pub struct FaultForm {
    fault: String,
    #[serde(default)]
    note: String,
}

pub async fn fault(
    State(app): State<AppState>,
    Path(key): Path<String>,
    StaffForm(user, form, _): StaffForm<CaseDesk, FaultForm>,
) -> PageResult {
    let case = find_case(&app, &user, &key).await?;
    let Some(fault) = Fault::parse(&form.fault) else {
        return Ok(back(case.number, "error=fault"));
    };
    let note = non_empty(Some(form.note)).map(|n| n.chars().take(500).collect::<String>());
    match app
        .store
        .record_fault(&case.id, fault, note.as_deref(), actor(&user))
        .await
        .page(user.lang)?
    {
        Ok(_) => Ok(back(case.number, "done=fault")),
        Err(r) => Ok(refused(case.number, r)),
    }
}

#[derive(Deserialize)]
pub struct RemedyForm {
    #[serde(rename = "type")]
    kind: String,
    /// Major units as people type them.
    #[serde(default)]
    amount: String,
    key: String,
    #[serde(default)]
    note: String,
}

pub async fn remedy(
    State(app): State<AppState>,
    Path(key): Path<String>,
    StaffForm(user, form, _): StaffForm<CaseDesk, RemedyForm>,
) -> PageResult {
    let case = find_case(&app, &user, &key).await?;
    let amount = match form.amount.trim() {
        "" => None,
        typed => match Money::parse(typed) {
            Ok(m) => Some(m.minor()),
            Err(_) => return Ok(back(case.number, "error=amount")),
        },
    };
    let req = RemedyRequest {
        kind: form.kind,
        amount,
        // One key per button per page view: a double click is one action.
        idempotency_key: format!("console:{}:{}", form.key, user.id),
        note: non_empty(Some(form.note)),
    };
    let limit = remedies::limit_for(&app, Some(user.role));
    match remedies::apply(&app, &case.id, &req, actor(&user), limit).await {
        Ok(Ok((r, _))) => Ok(back(
            case.number,
            if r.status == RemedyStatus::PendingApproval.as_str() {
                "done=remedy_pending"
            } else {
                "done=remedy"
            },
        )),
        Ok(Err(refusal)) => Ok(back(
            case.number,
            &format!("error={}", ledger_word(&refusal)),
        )),
        Err(RemedyError::Invalid(p)) => Ok(back(
            case.number,
            &format!("error={}", short_word(&p.field)),
        )),
        Err(RemedyError::NoCase(_)) => Ok(Redirect::to("/cases").into_response()),
        Err(RemedyError::Store(e)) => Err(super::failed(user.lang, e)),
    }
}

fn ledger_word(refusal: &LedgerRefusal) -> &'static str {
    match refusal {
        LedgerRefusal::NotFound => "not_found",
        LedgerRefusal::CaseClosed => "closed",
        LedgerRefusal::NoCustomer => "no_customer",
        LedgerRefusal::KeyReused(_) => "key",
        LedgerRefusal::Insufficient(_) => "insufficient",
        LedgerRefusal::NotPending(_) => "decided",
        LedgerRefusal::IsReversal => "reversal",
    }
}

#[derive(Deserialize)]
pub struct ReverseForm {
    entry: String,
    reason: String,
}

pub async fn reverse(
    State(app): State<AppState>,
    Path(key): Path<String>,
    StaffForm(user, form, _): StaffForm<Dispatchers, ReverseForm>,
) -> PageResult {
    let case = find_case(&app, &user, &key).await?;
    let Some(reason) = non_empty(Some(form.reason)) else {
        return Ok(back(case.number, "error=reason"));
    };
    let reason: String = reason.chars().take(500).collect();
    // Only an entry of this case's customer, from this case.
    match app.store.ledger_entry(&form.entry).await.page(user.lang)? {
        Some(e) if e.case_id.as_deref() == Some(case.id.as_str()) => {}
        _ => return Ok(back(case.number, "error=not_found")),
    }
    match app
        .store
        .reverse_entry(&form.entry, &reason, &user.login)
        .await
        .page(user.lang)?
    {
        Ok(_) => Ok(back(case.number, "done=reversed")),
        Err(r) => Ok(back(case.number, &format!("error={}", ledger_word(&r)))),
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    remedy: String,
    decision: String,
    #[serde(default)]
    note: String,
    /// Where to go back to: the approvals queue or the case.
    #[serde(default)]
    from: String,
}

pub async fn decide(
    State(app): State<AppState>,
    StaffForm(user, form, _): StaffForm<Dispatchers, DecisionForm>,
) -> PageResult {
    let Some(remedy) = app.store.remedy(&form.remedy).await.page(user.lang)? else {
        return Ok(Redirect::to("/cases/approvals").into_response());
    };
    let case = app.store.case(&remedy.case_id).await.found(user.lang)?;
    let approve = form.decision == "approve";
    let note = non_empty(Some(form.note)).map(|n| n.chars().take(500).collect::<String>());
    if !approve && note.is_none() {
        let to = if form.from == "queue" {
            "/cases/approvals?error=reason".to_owned()
        } else {
            format!("/cases/{}?error=reason", case.number)
        };
        return Ok(Redirect::to(&to).into_response());
    }
    let outcome = app
        .store
        .decide_remedy(&remedy.id, approve, note.as_deref(), actor(&user))
        .await
        .page(user.lang)?;
    let word = match &outcome {
        Ok(_) if approve => "done=approved",
        Ok(_) => "done=refused",
        Err(_) => "error=decided",
    };
    if form.from == "queue" {
        Ok(Redirect::to(&format!("/cases/approvals?{word}")).into_response())
    } else {
        Ok(back(case.number, word))
    }
}

/// A remedy waiting for approval, with its case.
pub struct ApprovalRow {
    pub remedy: RemedyRow,
    pub case_href: String,
    pub case_number: i64,
    pub subject: String,
    pub customer: String,
    pub granted: String,
}

#[derive(Template)]
#[template(path = "approvals.html")]
struct ApprovalsPage {
    c: Chrome,
    rows: Vec<ApprovalRow>,
    notice: Option<String>,
    error: Option<String>,
}

pub async fn approvals(
    State(app): State<AppState>,
    Staff(user, _): Staff<Dispatchers>,
    Query(q): Query<CaseQuery>,
) -> PageResult {
    let c = Chrome::new(&app, &user, "/cases", "approvals-title");
    let t = c.tr;
    let tz = app.deployment().tz();
    let pending = app.store.pending_approvals(200).await.page(user.lang)?;
    let rows = pending
        .iter()
        .map(|p| ApprovalRow {
            remedy: remedy_row(&p.remedy, t, &tz, &[]),
            case_href: format!("/cases/{}", p.case_number),
            case_number: p.case_number,
            subject: p.subject.clone(),
            customer: p.remedy.customer_phone.clone().unwrap_or_default(),
            granted: money(p.granted, &p.remedy.currency),
        })
        .collect();
    let view = ApprovalsPage {
        rows,
        notice: q
            .done
            .as_deref()
            .map(|d| t.t(&format!("case-done-{}", short_word(d)))),
        error: q
            .error
            .as_deref()
            .map(|e| t.t(&format!("case-error-{}", short_word(e)))),
        c,
    };
    Ok(render(&view))
}

/// The cases page's script: live updates and keyboard shortcuts.
pub async fn script() -> Response {
    super::script(include_str!("../../../static/cases.js"))
}

/// How a contact that is a call from the PBX is known on the case (its
/// `external_id`: the call attached once, whoever attaches it again).
pub const CALL_CONTACT: &str = "call:";

/// A call in a line: when, which queue, how it went.
fn call_summary(t: Tr<'_>, k: &doorstep_store::calls::CallRow, tz: &jiff::tz::TimeZone) -> String {
    let how = match k.outcome.as_str() {
        "answered" | "talking" => t.with(
            "case-call-answered",
            "agent",
            k.agent.clone().unwrap_or_default(),
        ),
        "abandoned" => t.with("case-call-abandoned", "wait", k.wait_seconds.unwrap_or(0)),
        "unanswered" => t.t("case-call-unanswered"),
        _ => t.t("case-call-waiting"),
    };
    format!(
        "{} · {} · {how}",
        format_local(from_millis(k.entered_at), tz),
        k.queue
    )
}

#[derive(Deserialize)]
pub struct AttachCallForm {
    call: String,
    /// The contact reason to wrap the call up with, or empty.
    #[serde(default)]
    reason: String,
}

/// Attaches one of the customer's calls to the case as their contact (by
/// phone): first-contact resolution counts it like any other contact.
pub async fn attach_call(
    State(app): State<AppState>,
    Path(key): Path<String>,
    StaffForm(user, form, _): StaffForm<CaseDesk, AttachCallForm>,
) -> PageResult {
    let case = find_case(&app, &user, &key).await?;
    let call = app.store.call(form.call.trim()).await.page(user.lang)?;
    let Some(call) =
        call.filter(|k| k.customer_phone.is_some() && k.customer_phone == case.customer_phone)
    else {
        return Err(super::PageError::NotFound(user.lang));
    };
    // The reason chosen wraps the call up, as an agent's WRAPUP would.
    let reason = form.reason.trim();
    if !reason.is_empty() {
        let reasons = crate::app::calls::reasons(&app.store)
            .await
            .page(user.lang)?;
        if reasons.iter().any(|r| r.id == reason) {
            app.store
                .record_call_events(
                    &[doorstep_domain::calls::CallEvent {
                        call_id: call.id.clone(),
                        event: "WRAPUP".to_owned(),
                        at: doorstep_store::now_millis(),
                        queue: call.queue.clone(),
                        agent: user.login.clone(),
                        data: vec![reason.to_owned()],
                    }],
                    app.deployment().country(),
                )
                .await
                .page(user.lang)?;
        }
    }
    // In the words of the person attaching it, as a note would be.
    let t = crate::i18n::tr(user.lang);
    let tz = app.deployment().tz();
    let req = ContactRequest {
        channel: "phone".to_owned(),
        direction: Some(Direction::Inbound.as_str().to_owned()),
        text: format!("📞 {}", call_summary(t, &call, &tz)),
        external_id: Some(format!("{CALL_CONTACT}{}", call.id)),
    };
    match use_cases::add_contact(&app, &case.id, &req, &user.login, false).await {
        Ok((Ok(_), _)) => {
            tracing::info!(by = %user.login, case = case.number, call = %call.id, "a call attached to a case");
            Ok(back(case.number, "done=contact"))
        }
        Ok((Err(r), _)) => Ok(refused(case.number, r)),
        Err(CaseError::Invalid(p)) => Ok(back(
            case.number,
            &format!("error={}", short_word(&p.field)),
        )),
        Err(CaseError::Store(e)) => Err(super::failed(user.lang, e)),
    }
}

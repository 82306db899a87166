//! Cases through the API (the company's systems): open a case from any
//! channel, add contacts, look a case up, apply a remedy, report how a
//! remedy the company carried out went.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use doorstep_domain::helpdesk::remedies::RemedyStatus;
use doorstep_domain::time::from_millis;
use doorstep_store::helpdesk::cases::{Case, CaseEntry, CaseFilter, CaseRefusal, CaseView, Opened};
use doorstep_store::helpdesk::ledger::{LedgerRefusal, Remedy};
use doorstep_store::helpdesk::Actor;
use serde::{Deserialize, Serialize};

use crate::app::helpdesk::cases::{self as use_cases, CaseError, CaseRequest, ContactRequest};
use crate::app::helpdesk::remedies::{self, RemedyError, RemedyRequest};
use crate::http::auth::{Bearer, Caller, Integration};
use crate::http::error::{ApiError, ApiJson};
use crate::http::AppState;

/// A contact that opens a case (or joins the customer's open case about
/// the same order).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewCaseJson {
    /// Where the customer reached the company.
    #[schema(pattern = r"^\s*(phone|chat|email|social|messenger|app|terminal|survey)\s*$")]
    channel: String,
    /// `customers` (customers and partners, the default) or `couriers`.
    #[serde(default)]
    #[schema(pattern = r"^\s*(customers|couriers)?\s*$")]
    line: Option<String>,
    /// A case category's id (`late`, `damaged`, …; default `other`).
    #[serde(default)]
    #[schema(max_length = 40)]
    category: Option<String>,
    /// `urgent`, `high` or `normal` (the default).
    #[serde(default)]
    #[schema(pattern = r"^\s*(urgent|high|normal)?\s*$")]
    priority: Option<String>,
    /// The order it is about; its customer is the case's.
    #[serde(default)]
    #[schema(max_length = 64)]
    order_number: Option<String>,
    /// The customer, when there is no order (or to name another phone).
    #[serde(default)]
    #[schema(max_length = 32)]
    customer_phone: Option<String>,
    /// What the customer said or asked.
    #[schema(min_length = 1, max_length = 20000)]
    text: String,
    /// The contact's id in the sending system: sent again, it finds the
    /// same case and adds nothing.
    #[serde(default)]
    #[schema(max_length = 200)]
    external_id: Option<String>,
    /// `inbound` (the default) or `outbound` (the company reached out).
    #[serde(default)]
    #[schema(pattern = r"^\s*(inbound|outbound)?\s*$")]
    direction: Option<String>,
}

/// The case a contact went to.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseOpened {
    id: String,
    /// The number people say ("case 1042").
    number: i64,
    status: String,
    /// `created` (a new case), `joined` (the customer's open case about
    /// the order took the contact) or `resent` (this `external_id` was
    /// taken before; nothing was added).
    result: String,
    /// The customer's live status page and chat for the case: send it to
    /// them (SMS, e-mail, messenger). Unguessable; it opens this case only.
    status_url: Option<String>,
}

/// A case.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseJson {
    id: String,
    number: i64,
    /// `new`, `open`, `waiting_customer`, `waiting_department`,
    /// `resolved` or `closed`.
    status: String,
    channel: String,
    line: String,
    category: String,
    priority: String,
    order_number: Option<String>,
    customer_phone: Option<String>,
    /// The person who owns it.
    owner: Option<String>,
    subject: String,
    /// The customer's contacts on it.
    contacts: i64,
    incident_id: Option<String>,
    /// Who was at fault, once recorded, and the department it was handed to.
    fault: Option<String>,
    handed_to: Option<String>,
    created_at: String,
    updated_at: String,
    first_response_at: Option<String>,
    resolved_at: Option<String>,
    closed_at: Option<String>,
    /// The customer's satisfaction with the case (1–5), once they said.
    csat: Option<i64>,
    /// The customer's live status page and chat for the case.
    status_url: Option<String>,
}

/// What the status pages' addresses are made of: where the server is
/// reached from outside, and the deployment's key.
struct StatusLinks {
    base: String,
    key: Vec<u8>,
}

impl StatusLinks {
    async fn of(app: &AppState, headers: &HeaderMap) -> Result<StatusLinks, ApiError> {
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok());
        Ok(StatusLinks {
            base: crate::app::survey::links::public_base(host),
            key: crate::app::helpdesk::status::key(&app.store).await?,
        })
    }

    fn url(&self, case_id: &str) -> Option<String> {
        crate::app::helpdesk::status::url(&self.base, &self.key, case_id)
    }

    fn case(&self, c: Case) -> CaseJson {
        let url = self.url(&c.id);
        CaseJson {
            status_url: url,
            ..c.into()
        }
    }
}

fn time(ms: i64) -> String {
    from_millis(ms).to_string()
}

impl From<Case> for CaseJson {
    fn from(c: Case) -> Self {
        CaseJson {
            created_at: time(c.created_at),
            updated_at: time(c.updated_at),
            first_response_at: c.first_response_at.map(time),
            resolved_at: c.resolved_at.map(time),
            closed_at: c.closed_at.map(time),
            id: c.id,
            number: c.number,
            status: c.status,
            channel: c.channel,
            line: c.line,
            category: c.category,
            priority: c.priority,
            order_number: c.order_number,
            customer_phone: c.customer_phone,
            owner: c.owner_login,
            subject: c.subject,
            contacts: c.contacts,
            incident_id: c.incident_id,
            fault: c.fault,
            handed_to: c.handed_to,
            csat: c.csat,
            status_url: None,
        }
    }
}

/// One line of a case's timeline.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseEntryJson {
    id: String,
    /// `contact`, `note` (internal) or `event` (what was done).
    kind: String,
    channel: Option<String>,
    direction: Option<String>,
    text: String,
    author: String,
    external_id: Option<String>,
    created_at: String,
}

impl From<CaseEntry> for CaseEntryJson {
    fn from(e: CaseEntry) -> Self {
        CaseEntryJson {
            created_at: time(e.created_at),
            id: e.id,
            kind: e.kind,
            channel: e.channel,
            direction: e.direction,
            text: e.body,
            author: e.author,
            external_id: e.external_id,
        }
    }
}

/// A remedy.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RemedyJson {
    id: String,
    case_id: String,
    #[serde(rename = "type")]
    kind: String,
    /// Minor units of `currency`.
    amount: Option<i64>,
    currency: String,
    /// `applied` (credited here), `requested` (the company's systems carry
    /// it out), `done`, `failed`, `pending_approval`, `refused`, `reversed`.
    status: String,
    requested_by: String,
    decided_by: Option<String>,
    decision_note: Option<String>,
    note: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<Remedy> for RemedyJson {
    fn from(r: Remedy) -> Self {
        RemedyJson {
            created_at: time(r.created_at),
            updated_at: time(r.updated_at),
            id: r.id,
            case_id: r.case_id,
            kind: r.remedy_type,
            amount: r.amount_minor,
            currency: r.currency,
            status: r.status,
            requested_by: r.requested_by,
            decided_by: r.decided_by,
            decision_note: r.decision_note,
            note: r.outcome_note,
        }
    }
}

/// A case with its timeline and remedies.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    case: CaseJson,
    /// When the first reply is due (RFC 3339; none while the clock is
    /// paused short of it).
    first_response_due_at: Option<String>,
    /// When the reply to the customer's latest contact is due, when one
    /// is owed.
    next_response_due_at: Option<String>,
    /// When the case is due to be resolved.
    resolution_due_at: Option<String>,
    /// `within`, `at_risk`, `breached`, `paused` or `met`.
    sla_state: String,
    entries: Vec<CaseEntryJson>,
    remedies: Vec<RemedyJson>,
}

impl From<CaseError> for ApiError {
    fn from(e: CaseError) -> Self {
        match e {
            CaseError::Invalid(p) => p.into(),
            CaseError::Store(e) => e.into(),
        }
    }
}

fn actor(caller: &Caller) -> (String, String) {
    (caller.actor_id(), caller.name.clone())
}

/// Opens a case from any channel. A contact about an order whose case is
/// still open joins that case; the same `external_id` again returns the
/// case it made. Events `case.created` / `case.updated`.
#[utoipa::path(post, path = "/api/v1/cases", tag = "helpdesk", request_body = NewCaseJson,
    security(("bearer" = [])),
    responses((status = 201, description = "A new case", body = CaseOpened),
        (status = 200, description = "The contact joined an open case, or was taken before", body = CaseOpened),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn open(
    State(app): State<AppState>,
    Bearer(caller, _): Bearer<Integration>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<NewCaseJson>,
) -> Result<(StatusCode, Json<CaseOpened>), ApiError> {
    let opened = use_cases::open(
        &app,
        &CaseRequest {
            channel: req.channel,
            line: req.line,
            category: req.category,
            priority: req.priority,
            order_number: req.order_number,
            customer_phone: req.customer_phone,
            text: req.text,
            external_id: req.external_id,
            direction: req.direction,
            conversation: None,
        },
        &caller.name,
    )
    .await?;
    let (status, result) = match &opened {
        Opened::Created(_) => (StatusCode::CREATED, "created"),
        Opened::Joined(_) => (StatusCode::OK, "joined"),
        Opened::Again(_) => (StatusCode::OK, "resent"),
    };
    let case = opened.case();
    let links = StatusLinks::of(&app, &headers).await?;
    Ok((
        status,
        Json(CaseOpened {
            id: case.id.clone(),
            number: case.number,
            status: case.status.clone(),
            result: result.to_owned(),
            status_url: links.url(&case.id),
        }),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CasesQuery {
    /// One status; left out, every open case (new, open, waiting).
    #[param(pattern = r"^\s*(new|open|waiting_customer|waiting_department|resolved|closed)?\s*$")]
    status: Option<String>,
    #[param(pattern = r"^\s*(customers|couriers)?\s*$")]
    line: Option<String>,
    /// An order's cases (every status).
    order_number: Option<String>,
    /// A customer's cases (every status).
    customer_phone: Option<String>,
    /// At most this many (1–1000, default 100).
    #[param(pattern = r"^\s*([1-9][0-9]{0,2}|1000)?\s*$")]
    limit: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseList {
    cases: Vec<CaseJson>,
}

fn blank_to_none(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Cases by status and line, or an order's or a customer's.
#[utoipa::path(get, path = "/api/v1/cases", tag = "helpdesk", params(CasesQuery),
    security(("bearer" = [])),
    responses((status = 200, body = CaseList), (status = 422, body = crate::http::error::Problem)))]
pub async fn list(
    State(app): State<AppState>,
    _caller: Bearer<Integration>,
    headers: HeaderMap,
    Query(q): Query<CasesQuery>,
) -> Result<Json<CaseList>, ApiError> {
    let mut filter = CaseFilter::new(CaseView::All);
    filter.status = blank_to_none(q.status);
    if let Some(s) = &filter.status {
        if doorstep_domain::helpdesk::cases::CaseStatus::parse(s).is_none() {
            return Err(ApiError::invalid(
                "status",
                format!("{s:?} is not a case status"),
            ));
        }
    }
    filter.line = blank_to_none(q.line);
    if let Some(l) = &filter.line {
        if doorstep_domain::helpdesk::cases::Line::parse(l).is_none() {
            return Err(ApiError::invalid(
                "line",
                format!("{l:?} is not a line; use customers or couriers"),
            ));
        }
    }
    filter.limit = super::limit(q.limit.as_deref(), 100)?;
    let search = match (
        blank_to_none(q.order_number),
        blank_to_none(q.customer_phone),
    ) {
        (Some(order), _) => Some(order),
        (None, Some(phone)) => Some(crate::app::helpdesk::parse_phone(
            &app,
            "customer_phone",
            &phone,
        )?),
        (None, None) => None,
    };
    filter.search = search;
    let cases = app.store.cases(&filter).await?;
    let links = StatusLinks::of(&app, &headers).await?;
    Ok(Json(CaseList {
        cases: cases.into_iter().map(|c| links.case(c)).collect(),
    }))
}

async fn found(app: &AppState, key: &str) -> Result<Case, ApiError> {
    use_cases::find(app, key).await?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "there is no case {key:?} (give its id or its number)"
        ))
    })
}

/// A case with its timeline (contacts, internal notes, what was done) and
/// its remedies.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "helpdesk",
    params(("id" = String, Path, description = "The case's id, or its number")),
    security(("bearer" = [])),
    responses((status = 200, body = CaseDetail), (status = 404, body = crate::http::error::Problem)))]
pub async fn get(
    State(app): State<AppState>,
    _caller: Bearer<Integration>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<CaseDetail>, ApiError> {
    let case = found(&app, &id).await?;
    let entries = app.store.case_entries(&case.id).await?;
    let remedies = app.store.case_remedies(&case.id).await?;
    let sla = crate::app::helpdesk::cases::sla_standing(&app, &case, &entries).await?;
    Ok(Json(CaseDetail {
        first_response_due_at: sla.first_response_due_at.map(time),
        next_response_due_at: sla.next_response_due_at.map(time),
        resolution_due_at: sla.resolution_due_at.map(time),
        sla_state: sla.state.as_str().to_owned(),
        case: StatusLinks::of(&app, &headers).await?.case(case),
        entries: entries.into_iter().map(CaseEntryJson::from).collect(),
        remedies: remedies.into_iter().map(RemedyJson::from).collect(),
    }))
}

/// A contact on a known case.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ContactJson {
    #[schema(pattern = r"^\s*(phone|chat|email|social|messenger|app|terminal|survey)\s*$")]
    channel: String,
    /// `inbound` (the customer, the default) or `outbound` (a reply).
    #[serde(default)]
    #[schema(pattern = r"^\s*(inbound|outbound)?\s*$")]
    direction: Option<String>,
    #[schema(min_length = 1, max_length = 20000)]
    text: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    external_id: Option<String>,
    /// For an outbound contact: `true` when a machine sent it (an
    /// auto-reply, a notice), which is no reply by a person and moves no
    /// SLA clock; by default an outbound contact is a person's reply.
    #[serde(default)]
    automated: bool,
}

fn refused(refusal: CaseRefusal, case: &str) -> ApiError {
    match refusal {
        CaseRefusal::NotFound => ApiError::NotFound(format!("there is no case {case:?}")),
        CaseRefusal::NotOpen => ApiError::Conflict(
            "the case is resolved or closed and takes no contacts; open a new case (POST /api/v1/cases) — \
             it counts as a repeat contact"
                .to_owned(),
        ),
        CaseRefusal::AnotherOpen(n) => ApiError::Conflict(format!(
            "case {n} is open about the same order; add to it instead"
        )),
        CaseRefusal::OwnedBy(who) => ApiError::Conflict(format!("{who} owns this case")),
    }
}

/// Adds a contact (an inbound message, a reply sent from another system)
/// to an open case. The same `external_id` again adds nothing.
#[utoipa::path(post, path = "/api/v1/cases/{id}/contacts", tag = "helpdesk",
    params(("id" = String, Path, description = "The case's id, or its number")),
    request_body = ContactJson, security(("bearer" = [])),
    responses((status = 201, description = "Added", body = CaseJson),
        (status = 200, description = "This external_id was added before", body = CaseJson),
        (status = 404, body = crate::http::error::Problem), (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn add_contact(
    State(app): State<AppState>,
    Bearer(caller, _): Bearer<Integration>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ContactJson>,
) -> Result<(StatusCode, Json<CaseJson>), ApiError> {
    let case = found(&app, &id).await?;
    let (change, new) = use_cases::add_contact(
        &app,
        &case.id,
        &ContactRequest {
            channel: req.channel,
            direction: req.direction,
            text: req.text,
            external_id: req.external_id,
        },
        &caller.name,
        !req.automated,
    )
    .await?;
    let case = change.map_err(|r| refused(r, &id))?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(case.into())))
}

/// A remedy to apply.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct RemedyJsonRequest {
    #[serde(rename = "type")]
    #[schema(
        pattern = r"^\s*(redeliver_free|bonus_credit|full_refund|price_difference_refund|compensation|payment_retry|switch_to_cash)\s*$"
    )]
    kind: String,
    /// Minor units of the deployment's currency; for `bonus_credit`,
    /// `compensation`, `full_refund` and `price_difference_refund`. Left
    /// out, the category's playbook default (if it has one).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100_000_000)]
    amount: Option<i64>,
    /// Names this action: sent again (a retry, a double click, another
    /// server) it is applied once.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    idempotency_key: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    note: Option<String>,
}

impl From<RemedyError> for ApiError {
    fn from(e: RemedyError) -> Self {
        match e {
            RemedyError::Invalid(p) => p.into(),
            RemedyError::NoCase(_) => ApiError::NotFound(e.to_string()),
            RemedyError::Store(e) => e.into(),
        }
    }
}

pub(super) fn ledger_refused(refusal: LedgerRefusal) -> ApiError {
    match refusal {
        LedgerRefusal::NotFound => ApiError::NotFound("nothing by that id".to_owned()),
        LedgerRefusal::CaseClosed => ApiError::Conflict(
            "the case is closed; reopen it (or open a new case) to apply a remedy".to_owned(),
        ),
        LedgerRefusal::NoCustomer => ApiError::invalid(
            "type",
            "the case has no customer phone, so there is no bonus account to credit",
        ),
        LedgerRefusal::KeyReused(before) => ApiError::Conflict(format!(
            "this idempotency_key was used for something else ({before}); use a new key for a new action"
        )),
        LedgerRefusal::Insufficient(balance) => ApiError::Conflict(format!(
            "the balance is {} ({balance} minor units): a debit may not take it below zero",
            doorstep_domain::Money::from_minor(balance).plain()
        )),
        LedgerRefusal::NotPending(status) => ApiError::Conflict(format!("it is already {status}")),
        LedgerRefusal::IsReversal => ApiError::Conflict(
            "this entry is itself a reversal; a reversal cannot be reversed".to_owned(),
        ),
    }
}

/// Applies a remedy, as the case page's buttons do: a bonus credit or a
/// compensation is credited to the customer's bonus account at once; a
/// redelivery, refund or payment change is sent to the company's systems
/// (`remedy.requested`) and waits for their outcome. The same key again
/// applies nothing more. Integration tokens have no per-case limit.
#[utoipa::path(post, path = "/api/v1/cases/{id}/remedies", tag = "helpdesk",
    params(("id" = String, Path, description = "The case's id, or its number")),
    request_body = RemedyJsonRequest, security(("bearer" = [])),
    responses((status = 201, description = "Applied, requested, or waiting for approval", body = RemedyJson),
        (status = 200, description = "This key was applied before", body = RemedyJson),
        (status = 404, body = crate::http::error::Problem), (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn apply_remedy(
    State(app): State<AppState>,
    Bearer(caller, _): Bearer<Integration>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RemedyJsonRequest>,
) -> Result<(StatusCode, Json<RemedyJson>), ApiError> {
    let case = found(&app, &id).await?;
    let (actor_id, name) = actor(&caller);
    let written = remedies::apply(
        &app,
        &case.id,
        &RemedyRequest {
            kind: req.kind,
            amount: req.amount,
            idempotency_key: req.idempotency_key,
            note: req.note,
        },
        Actor {
            id: &actor_id,
            login: &name,
            overrides: false,
        },
        None,
    )
    .await?;
    let (remedy, new) = written.map_err(ledger_refused)?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(remedy.into())))
}

/// How a remedy the company's systems carried out went.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct OutcomeJson {
    /// `done` or `failed`.
    #[schema(pattern = r"^\s*(done|failed)\s*$")]
    status: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    note: Option<String>,
}

/// Reports the outcome of a requested remedy (a redelivery made, a refund
/// paid or failed). The same outcome again changes nothing; another one
/// after the first is refused.
#[utoipa::path(post, path = "/api/v1/remedies/{id}/outcome", tag = "helpdesk",
    params(("id" = String, Path, description = "The remedy's id")),
    request_body = OutcomeJson, security(("bearer" = [])),
    responses((status = 200, body = RemedyJson), (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn outcome(
    State(app): State<AppState>,
    Bearer(caller, _): Bearer<Integration>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<OutcomeJson>,
) -> Result<Json<RemedyJson>, ApiError> {
    let Some(status @ (RemedyStatus::Done | RemedyStatus::Failed)) =
        RemedyStatus::parse(&req.status)
    else {
        return Err(ApiError::invalid(
            "status",
            format!("{:?}: use done or failed", req.status),
        ));
    };
    let note = crate::app::helpdesk::optional_text("note", req.note.as_deref(), 2000)?;
    let (remedy, _) = app
        .store
        .remedy_outcome(&id, status, note.as_deref(), &caller.name)
        .await?
        .map_err(|r| match r {
            LedgerRefusal::NotFound => ApiError::NotFound(format!("there is no remedy {id:?}")),
            LedgerRefusal::NotPending(s) => ApiError::Conflict(format!(
                "the remedy is {s}: only a requested remedy takes an outcome, once"
            )),
            other => ledger_refused(other),
        })?;
    Ok(Json(remedy.into()))
}

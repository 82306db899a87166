//! The customer's bonus ledger through the API: the balance and entries,
//! a debit when the customer spends bonuses (refused beyond the balance),
//! the reversal of a mistaken entry.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use doorstep_domain::time::from_millis;
use doorstep_store::helpdesk::ledger::{LedgerEntry, LedgerRefusal};
use serde::{Deserialize, Serialize};

use super::cases::ledger_refused;
use crate::app::helpdesk::parse_phone;
use crate::app::helpdesk::remedies;
use crate::http::auth::{Bearer, Integration};
use crate::http::error::{ApiError, ApiJson};
use crate::http::AppState;

/// One ledger entry.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LedgerEntryJson {
    id: String,
    /// Signed, in minor units: credits positive, debits negative.
    amount: i64,
    currency: String,
    /// `credit`, `debit` or `reversal`.
    kind: String,
    case_id: Option<String>,
    remedy_id: Option<String>,
    /// The entry this one reverses.
    reverses: Option<String>,
    reason: Option<String>,
    /// Who made it: a person's login or a token's name.
    author: String,
    created_at: String,
}

impl From<LedgerEntry> for LedgerEntryJson {
    fn from(e: LedgerEntry) -> Self {
        LedgerEntryJson {
            created_at: from_millis(e.created_at).to_string(),
            id: e.id,
            amount: e.amount_minor,
            currency: e.currency,
            kind: e.kind,
            case_id: e.case_id,
            remedy_id: e.remedy_id,
            reverses: e.reverses,
            reason: e.reason,
            author: e.author,
        }
    }
}

/// A customer's ledger.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LedgerJson {
    customer_phone: String,
    /// The sum of every entry, in minor units.
    balance: i64,
    currency: String,
    /// Newest first.
    entries: Vec<LedgerEntryJson>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct LedgerQuery {
    /// At most this many entries (1–1000, default 100); the balance is
    /// always of all.
    #[param(pattern = r"^\s*([1-9][0-9]{0,2}|1000)?\s*$")]
    limit: Option<String>,
}

/// A customer's bonus balance and ledger entries. (The phone's pattern
/// allows exactly the characters `Phone::parse` takes: digits with the
/// spaces, dashes, brackets and dots people write, a leading `+`.)
#[utoipa::path(get, path = "/api/v1/customers/{phone}/ledger", tag = "helpdesk",
    params(("phone" = String, Path, description = "The customer's phone (+79161234567, or as written in the deployment's country)", pattern = r"^\s*\+?[0-9 \t\u00a0().-]*[0-9][0-9 \t\u00a0().-]*\s*$"),
        LedgerQuery),
    security(("bearer" = [])),
    responses((status = 200, body = LedgerJson), (status = 422, body = crate::http::error::Problem)))]
pub async fn get(
    State(app): State<AppState>,
    _caller: Bearer<Integration>,
    Path(phone): Path<String>,
    Query(q): Query<LedgerQuery>,
) -> Result<Json<LedgerJson>, ApiError> {
    let phone = parse_phone(&app, "phone", &phone)?;
    let limit = super::limit(q.limit.as_deref(), 100)?;
    let ledger = app.store.ledger(&phone, limit).await?;
    Ok(Json(LedgerJson {
        customer_phone: phone,
        balance: ledger.balance,
        currency: app.deployment().currency,
        entries: ledger
            .entries
            .into_iter()
            .map(LedgerEntryJson::from)
            .collect(),
    }))
}

/// A debit: the customer spent bonuses.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct DebitJson {
    /// Minor units to take off the balance.
    #[schema(minimum = 1, maximum = 100_000_000)]
    amount: i64,
    /// Names this debit: sent again it is taken once.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    idempotency_key: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    reason: Option<String>,
}

/// What a ledger write left.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Written {
    entry: LedgerEntryJson,
    /// The balance after it, in minor units.
    balance: i64,
}

/// The answer to a ledger write: the entry and the balance after it; 201
/// when it was written now, 200 when the same request was taken before.
async fn written(
    app: &AppState,
    phone: &str,
    entry: LedgerEntry,
    new: bool,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    let balance = app.store.ledger(phone, 1).await?.balance;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(Written {
            entry: entry.into(),
            balance,
        }),
    ))
}

/// Takes bonuses the customer spent off their balance; refused (409)
/// beyond the balance. The same key again takes nothing more.
#[utoipa::path(post, path = "/api/v1/customers/{phone}/ledger", tag = "helpdesk",
    params(("phone" = String, Path, description = "The customer's phone", pattern = r"^\s*\+?[0-9 \t\u00a0().-]*[0-9][0-9 \t\u00a0().-]*\s*$")),
    request_body = DebitJson, security(("bearer" = [])),
    responses((status = 201, body = Written), (status = 200, description = "This key was taken before", body = Written),
        (status = 409, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn debit(
    State(app): State<AppState>,
    Bearer(caller, _): Bearer<Integration>,
    Path(phone): Path<String>,
    ApiJson(req): ApiJson<DebitJson>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    let phone = parse_phone(&app, "phone", &phone)?;
    let (entry, new) = remedies::debit(
        &app,
        &phone,
        req.amount,
        &req.idempotency_key,
        req.reason.as_deref(),
        &caller.name,
    )
    .await?
    .map_err(ledger_refused)?;
    written(&app, &phone, entry, new).await
}

/// Why an entry is reversed.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReversalJson {
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    reason: String,
}

/// Reverses a mistaken entry with a counter-entry (at most once: again,
/// it returns the first reversal).
#[utoipa::path(post, path = "/api/v1/customers/{phone}/ledger/{entry_id}/reverse", tag = "helpdesk",
    params(("phone" = String, Path, description = "The customer's phone", pattern = r"^\s*\+?[0-9 \t\u00a0().-]*[0-9][0-9 \t\u00a0().-]*\s*$"),
        ("entry_id" = String, Path, description = "The entry to reverse")),
    request_body = ReversalJson, security(("bearer" = [])),
    responses((status = 201, body = Written), (status = 200, description = "Reversed before", body = Written),
        (status = 404, body = crate::http::error::Problem), (status = 409, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn reverse(
    State(app): State<AppState>,
    Bearer(caller, _): Bearer<Integration>,
    Path((phone, entry_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<ReversalJson>,
) -> Result<(StatusCode, Json<Written>), ApiError> {
    let phone = parse_phone(&app, "phone", &phone)?;
    let reason = crate::app::helpdesk::optional_text("reason", Some(&req.reason), 500)?
        .ok_or_else(|| ApiError::invalid("reason", "say why the entry is reversed"))?;
    let not_found = || ApiError::NotFound(format!("{phone} has no ledger entry {entry_id:?}"));
    match app.store.ledger_entry(&entry_id).await? {
        Some(e) if e.customer_phone == phone => {}
        _ => return Err(not_found()),
    }
    let (entry, new) = app
        .store
        .reverse_entry(&entry_id, &reason, &caller.name)
        .await?
        .map_err(|r| match r {
            LedgerRefusal::NotFound => not_found(),
            other => ledger_refused(other),
        })?;
    written(&app, &phone, entry, new).await
}

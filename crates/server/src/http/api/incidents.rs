//! `GET /api/v1/incidents`: the incidents the alert rules raised, for the
//! company's systems (a CRM that shows them, a BI that counts them).

use axum::extract::{Query, State};
use axum::Json;
use doorstep_domain::helpdesk::incidents::IncidentStatus;
use doorstep_domain::time::from_millis;
use doorstep_store::helpdesk::incidents::{Incident, IncidentFilter};
use serde::{Deserialize, Serialize};

use crate::http::auth::{Bearer, Integration};
use crate::http::error::ApiError;
use crate::http::AppState;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct IncidentsQuery {
    /// `open`, `claimed` or `closed`; left out, the live queue (open and
    /// claimed, in the dispatcher's order).
    #[param(pattern = r"^\s*(open|claimed|closed)?\s*$")]
    status: Option<String>,
    /// Only this city's.
    city: Option<String>,
    /// At most this many (1–1000, default 100).
    #[param(pattern = r"^\s*([1-9][0-9]{0,2}|1000)?\s*$")]
    limit: Option<String>,
}

/// One incident.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IncidentJson {
    id: String,
    /// The order it is about; `case:{number}` for a call-back about a
    /// case without an order (its customer's low rating of it).
    order_number: String,
    /// The response that raised it (`case:{case id}` for a case's rating).
    response_id: String,
    /// The alert rule that fired, and why ("NPS 3", "«опоздал»").
    rule_id: String,
    reason: String,
    /// `urgent`, `high` or `normal`.
    priority: String,
    /// `open`, `claimed` or `closed`.
    status: String,
    city: String,
    courier_id: Option<String>,
    nps: Option<i64>,
    /// The dispatcher who claimed it.
    owner: Option<String>,
    /// Call-back attempts made.
    attempts: i64,
    /// When it is (again) to be worked: raised, or "call again at".
    due_at: String,
    first_attempt_at: Option<String>,
    reached_at: Option<String>,
    /// How it ended: `recovered`, `not_recovered`, `unreachable`,
    /// `no_action_needed`, `case_opened`.
    outcome: Option<String>,
    /// The case opened from it, or the case it is about.
    case_id: Option<String>,
    /// When the customer answered.
    answered_at: String,
    /// When the answer reached Doorstep (an offline terminal syncs later).
    created_at: String,
    claimed_at: Option<String>,
    closed_at: Option<String>,
}

impl From<Incident> for IncidentJson {
    fn from(i: Incident) -> Self {
        let time = |ms: i64| from_millis(ms).to_string();
        IncidentJson {
            due_at: time(i.due_at),
            answered_at: time(i.answered_at),
            created_at: time(i.created_at),
            first_attempt_at: i.first_attempt_at.map(time),
            reached_at: i.reached_at.map(time),
            claimed_at: i.claimed_at.map(time),
            closed_at: i.closed_at.map(time),
            id: i.id,
            order_number: i.order_number,
            response_id: i.response_id,
            rule_id: i.rule_id,
            reason: i.reason,
            priority: i.priority,
            status: i.status,
            city: i.city,
            courier_id: i.courier_id,
            nps: i.nps,
            owner: i.owner_login,
            attempts: i.attempts,
            outcome: i.outcome,
            case_id: i.case_id,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IncidentList {
    incidents: Vec<IncidentJson>,
}

/// Incidents by status and city. Events `incident.created`,
/// `incident.claimed`, `incident.updated` (a call-back attempt) and
/// `incident.closed` on `GET /api/v1/events` and webhooks tell of changes.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "helpdesk", params(IncidentsQuery),
    security(("bearer" = [])),
    responses((status = 200, body = IncidentList), (status = 422, body = crate::http::error::Problem)))]
pub async fn list(
    State(app): State<AppState>,
    _caller: Bearer<Integration>,
    Query(q): Query<IncidentsQuery>,
) -> Result<Json<IncidentList>, ApiError> {
    let status = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(IncidentStatus::parse(s).ok_or_else(|| {
            ApiError::invalid(
                "status",
                format!(
                    "{s:?} is not a status; use one of {}",
                    IncidentStatus::words()
                ),
            )
        })?),
    };
    let limit = super::limit(q.limit.as_deref(), 100)?;
    let filter = IncidentFilter {
        status,
        city: crate::http::pages::non_empty(q.city),
        limit,
    };
    let incidents = app.store.incidents(&filter).await?;
    Ok(Json(IncidentList {
        incidents: incidents.into_iter().map(IncidentJson::from).collect(),
    }))
}

//! `/api/v1/calls/events`: call events from any PBX, in real time — the
//! same events `doorstep import calls` reads from Asterisk's `queue_log`;
//! `/api/v1/calls/metrics`: the contact center's figures.

use axum::extract::State;
use axum::Json;
use doorstep_domain::calls::{queue_log_event, EVENTS};
use serde::{Deserialize, Serialize};

use crate::app::calls::{figures, CallsAnswer, CallsQuery};
use crate::http::auth::{Bearer, Integration};
use crate::http::error::{ApiError, ApiJson, ApiQuery, FieldProblem};
use crate::http::AppState;

/// Most events one request may carry.
pub const MAX_BATCH: usize = 1000;

/// When an event happened: RFC 3339, or Unix seconds (as queue_log writes).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Instant {
    Seconds(f64),
    Text(String),
}

/// One event of a call in a queue, as Asterisk's `queue_log` names it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallEventItem {
    /// The PBX's id of the call (Asterisk's `uniqueid`).
    call_id: String,
    /// `ENTERQUEUE`, `CONNECT`, `COMPLETEAGENT`, `COMPLETECALLER`,
    /// `ABANDON`, `EXITWITHTIMEOUT`, `EXITEMPTY`, `EXITWITHKEY`,
    /// `TRANSFER`, `RINGNOANSWER`; any other is ignored.
    event: String,
    at: Instant,
    queue: String,
    /// The agent's channel or name; none before the call is answered.
    #[serde(default)]
    agent: Option<String>,
    /// The event's data fields as queue_log writes them, e.g. for
    /// `ENTERQUEUE` `["", "+79161234567", "1"]` (URL, caller, position),
    /// for `CONNECT` `["12", "…", "3"]` (seconds waited, …), for
    /// `COMPLETECALLER` `["12", "95", "1"]` (waited, talked, position), for
    /// `ABANDON` `["2", "1", "34"]` (position, first position, waited).
    #[serde(default)]
    data: Vec<String>,
}

/// Up to 1,000 events: a JSON array, or `{"events": [...]}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // the schema of what `post_events` reads item by item
pub enum CallEventBatch {
    List(Vec<CallEventItem>),
    Wrapped { events: Vec<CallEventItem> },
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CallEventResult {
    /// Position in the request's list, from 0.
    index: usize,
    call_id: Option<String>,
    /// `accepted` (stored, or stored before: sending it again is safe),
    /// `ignored` (an event Doorstep does not read) or `rejected`.
    status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldProblem>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CallEventBatchResult {
    accepted: u64,
    /// Of those, events not stored before.
    new_events: u64,
    /// Calls written from their events.
    calls: u64,
    ignored: u64,
    rejected: u64,
    items: Vec<CallEventResult>,
}

/// Seconds since the epoch of an item's instant.
fn seconds(at: &Instant) -> Result<f64, String> {
    match at {
        Instant::Seconds(s) => Ok(*s),
        Instant::Text(t) => t
            .trim()
            .parse::<jiff::Timestamp>()
            .map(|ts| ts.as_millisecond() as f64 / 1000.0)
            .map_err(|_| format!("{t:?} is not an RFC 3339 time (e.g. 2026-11-02T10:00:00+03:00) nor Unix seconds")),
    }
}

/// Takes call events from a PBX: each kept once (sending one again is
/// safe), each call written again from all of its events.
#[utoipa::path(post, path = "/api/v1/calls/events", tag = "calls", request_body = CallEventBatch,
    security(("bearer" = [])),
    responses(
        (status = 200, body = CallEventBatchResult, description = "Every item answered; rejected ones say why"),
        (status = 401, body = crate::http::error::Problem), (status = 403, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem, description = "The body is not a batch of events"),
    ))]
pub async fn post_events(
    State(app): State<AppState>,
    _caller: Bearer<Integration>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<CallEventBatchResult>, ApiError> {
    let raw = super::batch::items(body, "events", MAX_BATCH)?;
    let mut items = Vec::with_capacity(raw.len());
    let mut events = Vec::new();
    for (index, value) in raw.into_iter().enumerate() {
        let hint = value
            .get("call_id")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let rejected = |field: &str, message: String| CallEventResult {
            index,
            call_id: hint.clone(),
            status: "rejected",
            errors: vec![FieldProblem {
                field: format!("events[{index}].{field}"),
                message,
            }],
        };
        let item: CallEventItem = match super::batch::item(value, "events", index) {
            Ok(item) => item,
            Err(problem) => {
                items.push(CallEventResult {
                    index,
                    call_id: hint,
                    status: "rejected",
                    errors: vec![problem],
                });
                continue;
            }
        };
        let at = match seconds(&item.at) {
            Ok(s) => s.to_string(),
            Err(message) => {
                items.push(rejected("at", message));
                continue;
            }
        };
        if !EVENTS.contains(&item.event.trim().to_ascii_uppercase().as_str()) {
            items.push(CallEventResult {
                index,
                call_id: hint,
                status: "ignored",
                errors: Vec::new(),
            });
            continue;
        }
        let agent = item.agent.unwrap_or_default();
        let mut fields: Vec<&str> = vec![&at, &item.call_id, &item.queue, &agent, &item.event];
        fields.extend(item.data.iter().map(String::as_str));
        match queue_log_event(&fields) {
            Ok(Some(event)) => {
                events.push(event);
                items.push(CallEventResult {
                    index,
                    call_id: hint,
                    status: "accepted",
                    errors: Vec::new(),
                });
            }
            Ok(None) => items.push(CallEventResult {
                index,
                call_id: hint,
                status: "ignored",
                errors: Vec::new(),
            }),
            Err(problem) => items.push(rejected("data", problem.0)),
        }
    }
    let stored = app
        .store
        .record_call_events(&events, app.deployment().country())
        .await?;
    let count = |s: &str| items.iter().filter(|i| i.status == s).count() as u64;
    Ok(Json(CallEventBatchResult {
        accepted: count("accepted"),
        new_events: stored.new_events,
        calls: stored.calls,
        ignored: count("ignored"),
        rejected: count("rejected"),
        items,
    }))
}

/// The contact center's figures for a period (METRICS.md): calls
/// offered (that reached a queue), answered and abandoned; the answer
/// rate, the service level against the deployment's target X/Y (calls
/// abandoned within 5 seconds left out of both sides), ASA, AHT, the
/// abandonment rate and the longest wait — by `line`, `queue`, `agent`,
/// `hour` (of the day), `day`, `week`, `month` or `all`, optionally for
/// one line's queues. A rate with nothing to count is `null`.
#[utoipa::path(get, path = "/api/v1/calls/metrics", tag = "calls", params(CallsQuery),
    security(("bearer" = [])),
    responses((status = 200, body = CallsAnswer),
        (status = 400, description = "A query string that cannot be read (a parameter twice)", body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn metrics(
    State(app): State<AppState>,
    _caller: Bearer<Integration>,
    ApiQuery(q): ApiQuery<CallsQuery>,
) -> Result<Json<CallsAnswer>, ApiError> {
    let tz = app.deployment().tz();
    let today = jiff::Timestamp::now().to_zoned(tz.clone()).date();
    let req = q.request(today)?;
    Ok(Json(figures(&app.store, &tz, &req).await?))
}

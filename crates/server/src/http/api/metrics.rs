//! `GET /api/v1/metrics`: the survey scores of METRICS.md for a period,
//! grouped and filtered, from the rollups.

use axum::extract::{Query, State};

use crate::app::survey::metrics::{compute, MetricsQuery};
use crate::http::auth::{Bearer, Integration};
use crate::http::error::ApiError;
use crate::http::AppState;

/// NPS (with its 95% interval), CSI, CSAT, CES, NetEasy, response and
/// refusal rates for a period, in groups. `responses` counts completed
/// sessions, `refusals` refused and timed-out ones; a score with no answers
/// is `null`. Groups are ranked by the lower bound of the NPS interval;
/// groups with fewer than 30 NPS answers have `too_few: true` and no rank.
#[utoipa::path(get, path = "/api/v1/metrics", tag = "metrics", params(MetricsQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "`{\"groups\": [...]}` with the period, grouping and refusal policy"),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn get(
    State(app): State<AppState>,
    _caller: Bearer<Integration>,
    Query(q): Query<MetricsQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let deployment = app.deployment();
    let today = jiff::Timestamp::now().to_zoned(deployment.tz()).date();
    let req = q.request(today)?;
    let answer = compute(&app.store, &deployment, &req)
        .await
        .map_err(ApiError::Internal)?;
    // A large answer is written on every core, off the async workers.
    let body = tokio::task::spawn_blocking(move || answer.to_json())
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// Live events as Server-Sent Events, each with its id: `response.created`
/// (with the response's id, order, survey, status, channel, finish time and
/// NPS answer) as each response is stored, `survey.published`,
/// `settings.changed`, `causes.changed`. Events are durable: a client that
/// reconnects with `Last-Event-ID` (browsers do it themselves) or
/// `?since=ID` first gets every event after that id, then live ones; if
/// some of those were already pruned (after `DOORSTEP_EVENT_DAYS`, 7 by
/// default) it is told so with a `pruned` event. Every server process on
/// one database gives the same events with the same ids.
#[utoipa::path(get, path = "/api/v1/events", tag = "metrics",
    security(("bearer" = [])),
    params(("since" = Option<i64>, Query, description = "Resume after this event id (as `Last-Event-ID`)", minimum = 0),
           ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id")),
    responses((status = 200, content_type = "text/event-stream", description = "An endless event stream")))]
pub async fn events(
    State(app): State<AppState>,
    _caller: Bearer<Integration>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let since = crate::http::events::resume_point(&headers, uri.query())
        .map_err(|message| ApiError::invalid("since", message))?;
    Ok(app
        .events
        .stream(app.store.clone(), since, |_| true)
        .into_response())
}

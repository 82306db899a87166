//! `GET /api/v1/support/metrics`: the support figures of METRICS.md for a
//! period, grouped.

use axum::extract::State;
use axum::Json;

use crate::app::helpdesk::support::{compute, SupportAnswer, SupportQuery};
use crate::http::auth::{Bearer, Integration};
use crate::http::error::{ApiError, ApiQuery};
use crate::http::AppState;

/// Cases opened and resolved, first-contact resolution (`fcr`, % of the
/// resolved), the repeat-contact rate (% of customers), SLA attainment
/// for the first response and the resolution (% of the deadlines that
/// fell in the period and were met), the median first response in
/// business seconds and CSAT (% of 4–5 answers), by `line`, `channel`,
/// `operator`, `category`, `day`, `week` or `month`. Each fact counts in
/// the period its own instant falls in; a rate with nothing to count is
/// `null`.
#[utoipa::path(get, path = "/api/v1/support/metrics", tag = "helpdesk", params(SupportQuery),
    security(("bearer" = [])),
    responses((status = 200, body = SupportAnswer),
        (status = 400, description = "A query string that cannot be read (a parameter twice)", body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn get(
    State(app): State<AppState>,
    _caller: Bearer<Integration>,
    ApiQuery(q): ApiQuery<SupportQuery>,
) -> Result<Json<SupportAnswer>, ApiError> {
    let today = jiff::Timestamp::now()
        .to_zoned(app.deployment().tz())
        .date();
    let req = q.request(today)?;
    let answer = compute(&app, &req).await.map_err(ApiError::Internal)?;
    Ok(Json(answer))
}

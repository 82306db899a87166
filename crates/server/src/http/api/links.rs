//! `POST /api/v1/orders/{order_number}/survey-link`: a one-time link to the
//! order's survey, for the company's SMS or e-mail system to send.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::app::survey::links::{issue, public_base, IssueError, DEFAULT_DAYS};
use crate::http::auth::{Bearer, Integration};
use crate::http::error::{ApiError, ApiJson};
use crate::http::AppState;

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct LinkRequest {
    /// The survey; left out, the survey whose targeting fits the order.
    #[serde(default)]
    survey_id: Option<String>,
    /// Days the link stays valid (1–90, default 7).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 90)]
    valid_days: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Link {
    /// The link to send; works once, until `expires_at`.
    url: String,
    survey_id: String,
    expires_at: String,
}

/// Makes a one-time survey link for an order.
#[utoipa::path(post, path = "/api/v1/orders/{order_number}/survey-link", tag = "surveys",
    params(("order_number" = String, Path, description = "The company's order number")),
    request_body = LinkRequest, security(("bearer" = [])),
    responses((status = 201, body = Link), (status = 404, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem), (status = 422, body = crate::http::error::Problem)))]
pub async fn create(
    State(app): State<AppState>,
    _caller: Bearer<Integration>,
    Path(order_number): Path<String>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LinkRequest>,
) -> Result<(StatusCode, Json<Link>), ApiError> {
    let issued = issue(
        &app.store,
        &order_number,
        req.survey_id.as_deref(),
        req.valid_days.unwrap_or(DEFAULT_DAYS),
    )
    .await
    .map_err(|e| match e {
        IssueError::NoOrder(_) => ApiError::NotFound(e.to_string()),
        IssueError::NoSurvey(_) | IssueError::NothingFits(_) | IssueError::Inspection(_) => {
            ApiError::invalid("survey_id", e.to_string())
        }
        IssueError::Days(_) => ApiError::invalid("valid_days", e.to_string()),
        IssueError::Answered(..) => ApiError::Conflict(e.to_string()),
        IssueError::Store(e) => e.into(),
    })?;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    Ok((
        StatusCode::CREATED,
        Json(Link {
            url: format!("{}/s/{}", public_base(host), issued.token),
            survey_id: issued.survey_id,
            expires_at: doorstep_domain::time::from_millis(issued.expires_at).to_string(),
        }),
    ))
}

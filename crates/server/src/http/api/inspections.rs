//! Mystery-shopper checks over the API: an inspector's terminal reads the
//! inspection surveys and sends inspections; the company's systems read
//! the inspections summed per courier, apart from customers' scores.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use doorstep_domain::time::{day_range, parse_date};
use serde::{Deserialize, Serialize};

use crate::app::survey::inspections::{
    record, summarise, CourierInspections, Outcome, SubmittedInspection,
};
use crate::http::api::surveys::SurveyJson;
use crate::http::auth::{Bearer, InspectorOnly, Integration};
use crate::http::error::{ApiError, ApiJson, ApiQuery};
use crate::http::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct InspectionForms {
    /// The inspector's name (their token's).
    inspector: String,
    /// The surveys marked as inspections, at their current versions.
    surveys: Vec<SurveyJson>,
}

/// The inspection surveys an inspector's terminal offers (kept on the
/// device: an inspection can be filled offline and sent later).
#[utoipa::path(get, path = "/api/v1/inspections/surveys", tag = "inspections",
    security(("bearer" = [])),
    responses((status = 200, body = InspectionForms), (status = 403, body = crate::http::error::Problem)))]
pub async fn surveys(
    State(app): State<AppState>,
    Bearer(caller, _): Bearer<InspectorOnly>,
) -> Result<Json<InspectionForms>, ApiError> {
    let mut surveys = Vec::new();
    for r in app.store.surveys().await? {
        let survey = SurveyJson::from_record(r)?;
        if survey.is_inspection() {
            surveys.push(survey);
        }
    }
    Ok(Json(InspectionForms {
        inspector: caller.name,
        surveys,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InspectionResult {
    /// `created`, or `duplicate` when this id was recorded before with the same content.
    result: &'static str,
    /// The courier the inspection is about: the one who delivered the order.
    courier_id: Option<String>,
    courier_name: Option<String>,
}

/// Records a mystery-shopper inspection about the courier who delivered an
/// order. Checked against the survey version like a response; kept apart
/// from customers' answers (never in NPS); the same id again records
/// nothing.
#[utoipa::path(post, path = "/api/v1/inspections", tag = "inspections",
    request_body = SubmittedInspection,
    security(("bearer" = [])),
    responses((status = 201, body = InspectionResult, description = "Recorded"),
        (status = 200, body = InspectionResult, description = "Recorded before with this id and content"),
        (status = 403, body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem, description = "No such order"),
        (status = 409, body = crate::http::error::Problem, description = "This id was recorded with other content"),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn post(
    State(app): State<AppState>,
    Bearer(caller, _): Bearer<InspectorOnly>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<InspectionResult>), ApiError> {
    let hash = crate::app::survey::responses::content_hash(&body);
    let item: SubmittedInspection = serde_json::from_value(body)
        .map_err(|e| ApiError::invalid("body", format!("is not an inspection: {e}")))?;
    match record(&app, &caller.name, &caller.token_id, &item, &hash).await? {
        Outcome::Recorded {
            created,
            courier_id,
            courier_name,
        } => Ok((
            if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            },
            Json(InspectionResult {
                result: if created { "created" } else { "duplicate" },
                courier_id,
                courier_name,
            }),
        )),
        Outcome::Conflict => Err(ApiError::Conflict(format!(
            "inspection {} was recorded before with other content; an inspection is never changed once recorded",
            item.id
        ))),
        Outcome::UnknownOrder => Err(ApiError::NotFound(format!(
            "there is no order {:?}; check the number on the receipt",
            item.order_number
        ))),
        Outcome::Invalid(problems) => Err(ApiError::problems(problems)),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct InspectionsQuery {
    /// First day, `YYYY-MM-DD` (deployment time zone).
    #[param(pattern = r"^\d{4}-\d{2}-\d{2}$")]
    from: String,
    /// Last day, included.
    #[param(pattern = r"^\d{4}-\d{2}-\d{2}$")]
    to: String,
    /// One courier only.
    courier_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InspectionFigures {
    /// Per courier: inspections and each question's mean or option counts.
    couriers: Vec<CourierInspections>,
}

/// Mystery-shopper inspections of a period summed per courier and question
/// — reported apart from customers' scores, never mixed into NPS.
#[utoipa::path(get, path = "/api/v1/inspections", tag = "inspections", params(InspectionsQuery),
    security(("bearer" = [])),
    responses((status = 200, body = InspectionFigures), (status = 400, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn figures(
    State(app): State<AppState>,
    _caller: Bearer<Integration>,
    ApiQuery(q): ApiQuery<InspectionsQuery>,
) -> Result<Json<InspectionFigures>, ApiError> {
    let from = parse_date(&q.from).map_err(|e| ApiError::invalid("from", e.to_string()))?;
    let to = parse_date(&q.to).map_err(|e| ApiError::invalid("to", e.to_string()))?;
    if to < from {
        return Err(ApiError::invalid("to", "is before from"));
    }
    let (start, end) = day_range(from, to, &app.deployment().tz());
    let answers = app
        .store
        .inspection_answers(
            q.courier_id.as_deref(),
            start.as_millisecond(),
            end.as_millisecond(),
        )
        .await?;
    Ok(Json(InspectionFigures {
        couriers: summarise(&answers),
    }))
}

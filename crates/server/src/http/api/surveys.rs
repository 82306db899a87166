//! `/api/v1/surveys`: survey definitions, versioned.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use doorstep_domain::survey::SurveyDefinition;
use doorstep_store::SurveyRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::http::auth::{Bearer, Integration, IntegrationOrTerminal};
use crate::http::error::{ApiError, ApiJson};
use crate::http::AppState;

/// A survey definition: `name`, `questions` (each with `id`, `type` —
/// `nps|scale|single_choice|multi_choice|text|voice|photo|consent` —, `text`
/// as a string or per language, for `scale` its `min`, `max` and `measures`
/// `csi|csat|ces|factor:NAME`, for choices their `options` with `id`,
/// optional `show_if` `{question, min, max, in, equals}`, `required`), and
/// optionally `timeout_seconds` and, on creation, your own `id`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct SurveyBody {
    #[serde(default)]
    id: Option<String>,
    #[schema(value_type = Object)]
    #[serde(flatten)]
    definition: Value,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Published {
    id: String,
    version: i64,
}

/// A survey at its current version, with its questions.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SurveyJson {
    id: String,
    version: i64,
    name: String,
    #[schema(value_type = Vec<Object>)]
    questions: Value,
    timeout_seconds: Option<u32>,
    /// The languages its texts are written in (`ru`, `en`, …).
    languages: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    targeting: Option<doorstep_domain::survey::Targeting>,
    /// The review links offered to promoters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    review: Option<doorstep_domain::survey::ReviewRequest>,
    /// A mystery-shopper check (filled by inspectors, never by customers).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    inspection: bool,
    /// The conversation is recorded with the customer's consent (at most
    /// `max_seconds`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    recording: Option<doorstep_domain::survey::Recording>,
    updated_at: String,
}

impl SurveyJson {
    /// A mystery-shopper check, for inspectors only.
    pub fn is_inspection(&self) -> bool {
        self.inspection
    }

    pub fn from_record(r: SurveyRecord) -> Result<SurveyJson, ApiError> {
        let definition: SurveyDefinition = serde_json::from_str(&r.definition).map_err(|e| {
            ApiError::Internal(anyhow::anyhow!(
                "survey {} v{} does not parse: {e}",
                r.id,
                r.version
            ))
        })?;
        Ok(SurveyJson {
            questions: serde_json::to_value(&definition.questions).unwrap_or(Value::Null),
            timeout_seconds: definition.timeout_seconds,
            languages: definition.languages(),
            targeting: definition.targeting,
            review: definition.review,
            inspection: definition.inspection,
            recording: definition.recording,
            name: definition.name,
            updated_at: doorstep_domain::time::from_millis(r.updated_at).to_string(),
            id: r.id,
            version: r.version,
        })
    }
}

/// Reads and checks a definition; problems name their place.
fn checked(definition: Value) -> Result<(SurveyDefinition, String), ApiError> {
    let parsed: SurveyDefinition = serde_json::from_value(definition)
        .map_err(|e| ApiError::invalid("body", format!("is not a survey definition: {e}")))?;
    let problems = parsed.validate();
    if !problems.is_empty() {
        return Err(ApiError::problems(problems));
    }
    let json = serde_json::to_string(&parsed).map_err(|e| ApiError::Internal(e.into()))?;
    Ok((parsed, json))
}

/// Publishes a new survey at version 1.
#[utoipa::path(post, path = "/api/v1/surveys", tag = "surveys", request_body = SurveyBody,
    security(("bearer" = [])),
    responses((status = 201, body = Published), (status = 422, body = crate::http::error::Problem),
        (status = 409, body = crate::http::error::Problem, description = "The id is taken")))]
pub async fn create(
    State(app): State<AppState>,
    _caller: Bearer<Integration>,
    ApiJson(body): ApiJson<SurveyBody>,
) -> Result<(StatusCode, Json<Published>), ApiError> {
    let id = match body.id {
        Some(id) => {
            let id = id.trim().to_owned();
            if id.is_empty()
                || id.len() > 64
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
            {
                return Err(ApiError::invalid(
                    "id",
                    format!("{id:?} is not a survey id (1 to 64 of a-z, 0-9, _ - .)"),
                ));
            }
            id
        }
        None => uuid::Uuid::now_v7().to_string(),
    };
    let (definition, json) = checked(body.definition)?;
    match app
        .store
        .create_survey(&id, definition.name.trim(), &json)
        .await
    {
        Ok(r) => Ok((
            StatusCode::CREATED,
            Json(Published {
                id: r.id,
                version: r.version,
            }),
        )),
        Err(e) if e.is_unique_violation() => Err(ApiError::Conflict(format!(
            "a survey with id {id:?} exists; PUT /api/v1/surveys/{id} publishes a new version of it"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Publishes the next version of a survey; answers keep the version they answered.
#[utoipa::path(put, path = "/api/v1/surveys/{id}", tag = "surveys", request_body = SurveyBody,
    params(("id" = String, Path, description = "The survey's id")),
    security(("bearer" = [])),
    responses((status = 200, body = Published), (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn publish(
    State(app): State<AppState>,
    _caller: Bearer<Integration>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SurveyBody>,
) -> Result<Json<Published>, ApiError> {
    let (definition, json) = checked(body.definition)?;
    let r = app
        .store
        .publish_survey_version(&id, definition.name.trim(), &json)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "there is no survey {id:?}; POST /api/v1/surveys creates one"
            ))
        })?;
    app.survey_published(&r.id);
    Ok(Json(Published {
        id: r.id,
        version: r.version,
    }))
}

/// Every survey at its current version, with its questions.
#[utoipa::path(get, path = "/api/v1/surveys", tag = "surveys", security(("bearer" = [])),
    responses((status = 200, body = Vec<SurveyJson>)))]
pub async fn list(
    State(app): State<AppState>,
    _caller: Bearer<IntegrationOrTerminal>,
) -> Result<Json<Vec<SurveyJson>>, ApiError> {
    let surveys = app.store.surveys().await?;
    Ok(Json(
        surveys
            .into_iter()
            // The built-in support survey is the status page's, not one
            // the company made for the door.
            .filter(|s| s.id != doorstep_domain::survey::SUPPORT_SURVEY_ID)
            .map(SurveyJson::from_record)
            .collect::<Result<_, _>>()?,
    ))
}

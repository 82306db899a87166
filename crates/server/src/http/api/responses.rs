//! `POST /api/v1/responses`: survey answers from terminals, links and
//! systems, in batches, stored exactly once.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use doorstep_domain::TokenRole;
use doorstep_store::{NewResponse, ResponseOutcome};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app::survey::responses::{content_hash, Recorder, Source, Submitted};
use crate::app::Problem;

use crate::http::auth::{Bearer, IntegrationOrTerminal};
use crate::http::error::{ApiError, ApiJson, FieldProblem};
use crate::http::AppState;

/// Most responses one request may carry.
pub const MAX_RESPONSES: usize = 500;

/// A batch: a JSON array of responses, or `{"responses": [...]}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // the schema of what `post` reads item by item
pub enum ResponseBatch {
    #[schema(value_type = Vec<Object>)]
    List(Vec<Value>),
    Wrapped {
        #[schema(value_type = Vec<Object>)]
        responses: Vec<Value>,
    },
}

/// What became of one response.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ResponseItemResult {
    index: usize,
    id: Option<String>,
    /// `created`, `duplicate` (stored before, nothing new), `conflict` (the
    /// id was stored with other content), `already_surveyed` (the order has
    /// another response to this survey) or `rejected`.
    result: &'static str,
    /// The HTTP status this item would have alone: 201, 200, 409, 403, 404 or 422.
    status: u16,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldProblem>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ResponseBatchResult {
    created: usize,
    duplicates: usize,
    rejected: usize,
    items: Vec<ResponseItemResult>,
}

fn rejected(
    index: usize,
    id: Option<String>,
    status: StatusCode,
    errors: Vec<FieldProblem>,
) -> ResponseItemResult {
    ResponseItemResult {
        index,
        id,
        result: if status == StatusCode::CONFLICT {
            "conflict"
        } else {
            "rejected"
        },
        status: status.as_u16(),
        errors,
    }
}

fn field(index: usize, name: &str, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: format!("responses[{index}].{name}"),
        message: message.into(),
    }
}

/// A response's problems as the API words them (`responses[3].started_at`).
fn fields(index: usize, problems: Vec<Problem>) -> Vec<FieldProblem> {
    problems
        .into_iter()
        .map(|p| field(index, &p.field, p.message))
        .collect()
}

/// Stores a batch of survey responses. Each is checked against the survey
/// version it answered; a bad one never blocks the good ones. Re-sending an
/// id already stored with the same content stores nothing new
/// (`duplicate`); the same id with other content is a `conflict` (409).
/// The response's status is the items' common status, or 200 when they differ.
#[utoipa::path(post, path = "/api/v1/responses", tag = "surveys", request_body = ResponseBatch,
    security(("bearer" = [])),
    responses((status = 200, body = ResponseBatchResult, description = "Every item answered"),
        (status = 201, body = ResponseBatchResult, description = "Every item stored"),
        (status = 409, body = ResponseBatchResult, description = "Every item conflicts with a stored one"),
        (status = 422, body = ResponseBatchResult, description = "Every item was rejected"),
        (status = 503, body = crate::http::error::Problem, description = "The database was busy (a rollups rebuild may be running): nothing was stored; send the same batch again after Retry-After seconds")))]
pub async fn post(
    State(app): State<AppState>,
    Bearer(caller, _): Bearer<IntegrationOrTerminal>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let raw = super::batch::items(body, "responses", MAX_RESPONSES)?;
    let source = Source {
        token_id: Some(caller.token_id.as_str()),
        terminal: caller.role == TokenRole::Terminal,
    };
    let mut recorder = Recorder::new(&app);
    let mut results: Vec<Option<ResponseItemResult>> = Vec::with_capacity(raw.len());
    let mut ready: Vec<(usize, NewResponse)> = Vec::new();
    for (index, value) in raw.into_iter().enumerate() {
        let hash = content_hash(&value);
        let id_hint = value.get("id").and_then(Value::as_str).map(str::to_owned);
        let item: Submitted = match super::batch::item(value, "responses", index) {
            Ok(item) => item,
            Err(problem) => {
                results.push(Some(rejected(
                    index,
                    id_hint,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    vec![problem],
                )));
                continue;
            }
        };
        let id = Some(item.id.clone());
        match recorder.check(item, hash, source).await? {
            Ok(response) => {
                ready.push((index, response));
                results.push(None);
            }
            Err(problems) => results.push(Some(rejected(
                index,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                fields(index, problems),
            ))),
        }
    }
    let (ready, refused) = recorder.check_attachments(ready).await?;
    for (index, response, problems) in refused {
        results[index] = Some(rejected(
            index,
            Some(response.id),
            StatusCode::UNPROCESSABLE_ENTITY,
            fields(index, problems),
        ));
    }
    let (indices, checked): (Vec<usize>, Vec<NewResponse>) = ready.into_iter().unzip();
    let outcomes = recorder
        .store(
            &checked,
            if source.terminal {
                caller.courier_id.as_deref()
            } else {
                None
            },
        )
        .await?;
    for ((index, response), outcome) in indices.into_iter().zip(&checked).zip(outcomes) {
        let id = Some(response.id.clone());
        results[index] = Some(match outcome {
            ResponseOutcome::Stored => ResponseItemResult { index, id, result: "created", status: 201, errors: Vec::new() },
            ResponseOutcome::Duplicate => ResponseItemResult { index, id, result: "duplicate", status: 200, errors: Vec::new() },
            ResponseOutcome::Conflict => rejected(index, id, StatusCode::CONFLICT, vec![field(index, "id", format!(
                "{} was stored before with other content; a response is never changed once stored (send a new id for a new response)",
                response.id
            ))]),
            ResponseOutcome::UnknownOrder => rejected(index, id, StatusCode::NOT_FOUND, vec![field(index, "order_number", format!(
                "there is no order {:?}; import the order before its survey answers", response.order_number
            ))]),
            ResponseOutcome::OtherCouriersOrder => rejected(index, id, StatusCode::FORBIDDEN, vec![field(index, "order_number", format!(
                "order {:?} is not this terminal's courier's order", response.order_number
            ))]),
            ResponseOutcome::StartedBeforeOrder(promised) => rejected(index, id, StatusCode::UNPROCESSABLE_ENTITY, vec![field(index, "started_at", format!(
                "{} is more than a day before order {:?} was promised ({}): a survey starts around the delivery; check the device's clock",
                doorstep_domain::time::from_millis(response.started_at), response.order_number, doorstep_domain::time::from_millis(promised)
            ))]),
            ResponseOutcome::AlreadySurveyed => ResponseItemResult {
                index,
                id,
                result: "already_surveyed",
                status: StatusCode::CONFLICT.as_u16(),
                errors: vec![field(index, "order_number", format!(
                    "order {:?} already has a response to survey {:?}; an order is asked each survey once (a refusal counts)",
                    response.order_number, response.survey_id
                ))],
            },
        });
    }
    let items: Vec<ResponseItemResult> = results.into_iter().flatten().collect();
    let status = match items.first() {
        Some(first) if items.iter().all(|i| i.status == first.status) => {
            StatusCode::from_u16(first.status).unwrap_or(StatusCode::OK)
        }
        _ => StatusCode::OK,
    };
    let body = ResponseBatchResult {
        created: items.iter().filter(|i| i.result == "created").count(),
        duplicates: items.iter().filter(|i| i.result == "duplicate").count(),
        rejected: items.iter().filter(|i| i.status >= 400).count(),
        items,
    };
    Ok((status, Json(body)).into_response())
}

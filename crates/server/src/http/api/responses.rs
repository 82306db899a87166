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

/// A recording of the conversation to tie to its response.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct RecordingIn {
    /// The response's order.
    order_number: String,
    /// The uploaded voice file's SHA-256 (`PUT /api/v1/attachments/{id}` first).
    #[schema(pattern = r"^[0-9a-f]{64}$")]
    attachment_id: String,
    /// How long the recording runs, in milliseconds.
    #[schema(minimum = 0, maximum = 1_860_000)]
    duration_ms: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecordingResult {
    /// `created`, or `duplicate` when this recording was tied before.
    result: &'static str,
}

/// Ties the recorded conversation to its response: sent after the answers
/// (a recording never delays them), once the voice file is uploaded. Only
/// for a response whose customer agreed to the recording; a terminal only
/// for its courier's responses. The same recording again changes nothing.
#[utoipa::path(post, path = "/api/v1/responses/{id}/recording", tag = "surveys",
    params(("id" = String, Path, description = "The response's id")),
    request_body = RecordingIn,
    security(("bearer" = [])),
    responses((status = 201, body = RecordingResult, description = "Tied to the response"),
        (status = 200, body = RecordingResult, description = "Tied before"),
        (status = 403, body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem, description = "No such response"),
        (status = 409, body = crate::http::error::Problem, description = "Another recording is tied to it"),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn recording(
    State(app): State<AppState>,
    Bearer(caller, _): Bearer<IntegrationOrTerminal>,
    axum::extract::Path(id): axum::extract::Path<String>,
    ApiJson(body): ApiJson<RecordingIn>,
) -> Result<(StatusCode, Json<RecordingResult>), ApiError> {
    use doorstep_store::recordings::{Attached, NewRecording};
    let longest = i64::from(doorstep_domain::survey::Recording::MAX_SECONDS) * 1000 + 60_000;
    if !(0..=longest).contains(&body.duration_ms) {
        return Err(ApiError::invalid(
            "duration_ms",
            format!(
                "{} ms: a recording runs 0 to {longest} ms",
                body.duration_ms
            ),
        ));
    }
    if !crate::app::survey::attachments::is_id(&body.attachment_id) {
        return Err(ApiError::invalid(
            "attachment_id",
            format!(
                "{:?} is not a SHA-256 in 64 lowercase hex digits",
                body.attachment_id
            ),
        ));
    }
    let attached = app
        .store
        .attach_recording(
            &NewRecording {
                order_number: body.order_number.trim(),
                response_id: id.trim(),
                attachment_id: &body.attachment_id,
                duration_ms: body.duration_ms,
                token_id: Some(&caller.token_id),
                courier: if caller.role == TokenRole::Terminal {
                    Some(caller.courier_id.as_deref().unwrap_or(""))
                } else {
                    None
                },
            },
            &app.deployment().tz(),
        )
        .await?;
    let done = |status, result| Ok((status, Json(RecordingResult { result })));
    match attached {
        Attached::Created => done(StatusCode::CREATED, "created"),
        Attached::Duplicate => done(StatusCode::OK, "duplicate"),
        Attached::Conflict => Err(ApiError::Conflict(format!(
            "response {id} has another recording; a recording is never replaced"
        ))),
        Attached::NoResponse => Err(ApiError::NotFound(format!(
            "there is no response {id:?} to order {:?}; send the answers first",
            body.order_number
        ))),
        Attached::OtherCouriers => Err(ApiError::Forbidden(format!(
            "response {id} is not this terminal's courier's"
        ))),
        Attached::NoConsent => Err(ApiError::invalid(
            "id",
            format!("the customer of response {id} did not agree to a recording, so none is kept"),
        )),
        Attached::NoAttachment => Err(ApiError::invalid(
            "attachment_id",
            format!(
                "no voice file {} was uploaded; PUT it to /api/v1/attachments/{} first",
                body.attachment_id, body.attachment_id
            ),
        )),
    }
}

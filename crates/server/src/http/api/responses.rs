//! `POST /api/v1/responses`: survey answers from terminals, links and
//! systems, in batches, stored exactly once.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use doorstep_domain::survey::{check_answers, QuestionType, ResponseStatus, SurveyDefinition};
use doorstep_domain::TokenRole;
use doorstep_store::{NewResponse, ResponseOutcome};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::http::auth::{Bearer, IntegrationOrTerminal};
use crate::http::error::{ApiError, ApiJson, FieldProblem};
use crate::http::AppState;

/// Most responses one request may carry.
pub const MAX_RESPONSES: usize = 500;

/// How far ahead of the server's clock a device's may run.
const CLOCK_SKEW_MINUTES: i64 = 5;

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

#[derive(Deserialize)]
struct Item {
    id: String,
    order_number: String,
    survey_id: String,
    #[serde(default)]
    survey_version: Option<i64>,
    status: ResponseStatus,
    started_at: String,
    finished_at: String,
    #[serde(default)]
    answers: Vec<AnswerItem>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    /// The id of the review link a promoter opened after the survey.
    #[serde(default)]
    review_opened: Option<String>,
}

#[derive(Deserialize)]
struct AnswerItem {
    question_id: String,
    value: Value,
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

/// The SHA-256 of the item's canonical JSON (keys sorted): the same content
/// re-sent is recognised whatever the key order or spacing.
fn content_hash(item: &Value) -> String {
    crate::security::sha256_hex(&item.to_string())
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
    let terminal = caller.role == TokenRole::Terminal;
    let tz = app.deployment().tz();
    let mut results: Vec<Option<ResponseItemResult>> = Vec::with_capacity(raw.len());
    let mut ready: Vec<(usize, NewResponse)> = Vec::new();
    let mut surveys = SurveyCache::new();
    for (index, value) in raw.into_iter().enumerate() {
        let hash = content_hash(&value);
        let id_hint = value.get("id").and_then(Value::as_str).map(str::to_owned);
        let item: Item = match super::batch::item(value, "responses", index) {
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
        match check_item(&app, &mut surveys, index, item, hash, &caller, &tz).await? {
            Ok(response) => {
                ready.push((index, response));
                results.push(None);
            }
            Err(result) => results.push(Some(result)),
        }
    }
    let ready = check_attachments(&app, ready, &mut results).await?;
    let (indices, checked): (Vec<usize>, Vec<NewResponse>) = ready.into_iter().unzip();
    let outcomes = app
        .store
        .store_responses(
            &checked,
            if terminal {
                caller.courier_id.as_deref()
            } else {
                None
            },
            doorstep_domain::time::local_day(doorstep_store::now_millis(), &tz).0,
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

/// Photo and voice answers must name attachments already uploaded, of
/// the right kind: one query for the whole batch. Items that fail become
/// rejections in `results`; the rest go on.
async fn check_attachments(
    app: &AppState,
    ready: Vec<(usize, NewResponse)>,
    results: &mut [Option<ResponseItemResult>],
) -> Result<Vec<(usize, NewResponse)>, ApiError> {
    let media = |r: &NewResponse| {
        r.answers
            .iter()
            .filter(|a| matches!(a.kind, QuestionType::Photo | QuestionType::Voice))
            .filter_map(|a| Some((a.question_id.clone(), a.kind, a.text.clone()?)))
            .collect::<Vec<_>>()
    };
    let wanted: Vec<String> = ready
        .iter()
        .flat_map(|(_, r)| media(r))
        .map(|(_, _, id)| id)
        .collect::<std::collections::HashSet<_>>()
        .into_iter()
        .collect();
    if wanted.is_empty() {
        return Ok(ready);
    }
    let keys: Vec<&str> = wanted.iter().map(String::as_str).collect();
    let stored: HashMap<String, String> = app
        .store
        .attachments(&keys)
        .await?
        .into_iter()
        .map(|a| (a.id, a.kind))
        .collect();
    let mut kept = Vec::with_capacity(ready.len());
    for (index, response) in ready {
        let errors: Vec<FieldProblem> = media(&response)
            .into_iter()
            .filter_map(|(question, kind, id)| {
                let want = if kind == QuestionType::Photo { "photo" } else { "voice" };
                match stored.get(&id) {
                    Some(k) if k == want => None,
                    Some(k) => Some(field(index, &format!("answers.{question}"), format!(
                        "attachment {id} is a {k}, and this question takes a {want}"
                    ))),
                    None => Some(field(index, &format!("answers.{question}"), format!(
                        "attachment {id:?} was not uploaded; PUT the file to /api/v1/attachments/{{sha256}} first, then send the response"
                    ))),
                }
            })
            .collect();
        if errors.is_empty() {
            kept.push((index, response));
        } else {
            results[index] = Some(rejected(
                index,
                Some(response.id),
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
            ));
        }
    }
    Ok(kept)
}

/// Survey versions met in one batch, read once: (id, asked version) → (version, definition).
type SurveyCache = HashMap<(String, Option<i64>), Option<(i64, std::sync::Arc<SurveyDefinition>)>>;

/// Checks one response; `Err` is the item's answer when it cannot be stored.
async fn check_item(
    app: &AppState,
    surveys: &mut SurveyCache,
    index: usize,
    item: Item,
    content_hash: String,
    caller: &crate::http::auth::Caller,
    tz: &jiff::tz::TimeZone,
) -> Result<Result<NewResponse, ResponseItemResult>, ApiError> {
    let terminal = caller.role == TokenRole::Terminal;
    let token_id = caller.token_id.as_str();
    let id = Some(item.id.clone());
    let reject = |errors: Vec<FieldProblem>| {
        Ok(Err(rejected(
            index,
            id.clone(),
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
        )))
    };
    let mut errors = Vec::new();
    let uuid = uuid::Uuid::parse_str(&item.id).ok();
    if uuid.is_none() {
        errors.push(field(
            index,
            "id",
            format!(
                "{:?} is not a UUID; the client makes one per response (e.g. crypto.randomUUID())",
                item.id
            ),
        ));
    }
    let started = item.started_at.parse::<jiff::Timestamp>();
    let finished = item.finished_at.parse::<jiff::Timestamp>();
    for (name, text, parsed) in [
        ("started_at", &item.started_at, &started),
        ("finished_at", &item.finished_at, &finished),
    ] {
        if let Err(e) = parsed {
            errors.push(field(
                index,
                name,
                format!("{text:?} is not an RFC 3339 timestamp Doorstep can read ({e}); write e.g. 2026-11-03T14:30:00+03:00"),
            ));
        }
    }
    if let (Ok(s), Ok(f)) = (&started, &finished) {
        if f < s {
            errors.push(field(index, "finished_at", "is before started_at"));
        }
    }
    // Not in the future beyond a device clock's drift; not before the
    // order either (checked where the order is read).
    let latest = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(CLOCK_SKEW_MINUTES);
    for (name, at) in [("started_at", &started), ("finished_at", &finished)] {
        if let Ok(at) = at {
            if *at > latest {
                errors.push(field(
                    index,
                    name,
                    format!(
                        "{at} is in the future (more than {CLOCK_SKEW_MINUTES} minutes from now, {}): a response is sent once it happened; check the device's clock",
                        jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or_else(|_| jiff::Timestamp::now())
                    ),
                ));
            }
        }
    }
    let channel = match item.channel.as_deref() {
        None => {
            if terminal {
                "terminal"
            } else {
                "api"
            }
        }
        Some("terminal") => "terminal",
        Some("link") => "link",
        Some("api") => "api",
        Some(other) => {
            errors.push(field(
                index,
                "channel",
                format!("{other:?} is not a channel (terminal, link or api)"),
            ));
            "api"
        }
    };
    let key = (item.survey_id.clone(), item.survey_version);
    if !surveys.contains_key(&key) {
        let found = app
            .survey_version(&item.survey_id, item.survey_version)
            .await
            .map_err(ApiError::Internal)?;
        surveys.insert(key.clone(), found);
    }
    let Some((version, definition)) = surveys.get(&key).and_then(Option::as_ref) else {
        errors.push(field(
            index,
            "survey_id",
            match item.survey_version {
                Some(v) => format!("survey {:?} has no version {v}", item.survey_id),
                None => format!("there is no survey {:?}", item.survey_id),
            },
        ));
        return reject(errors);
    };
    let answers: Vec<(String, Value)> = item
        .answers
        .into_iter()
        .map(|a| (a.question_id, a.value))
        .collect();
    let checked = match check_answers(definition, item.status, &answers) {
        Ok(c) => c,
        Err(problems) => {
            errors.extend(
                problems
                    .into_iter()
                    .map(|p| field(index, &p.field, p.message)),
            );
            return reject(errors);
        }
    };
    if let Some(link) = &item.review_opened {
        match &definition.review {
            None => errors.push(field(
                index,
                "review_opened",
                "this survey version offers no review links",
            )),
            Some(review) if !review.links.iter().any(|l| &l.id == link) => errors.push(field(
                index,
                "review_opened",
                format!(
                    "{link:?} is not one of this survey's review links ({})",
                    review
                        .links
                        .iter()
                        .map(|l| l.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            Some(review) if !review.due(definition, &checked) => errors.push(field(
                index,
                "review_opened",
                format!(
                    "review links are offered only from an NPS answer of {}",
                    review.min_score
                ),
            )),
            Some(_) => {}
        }
    }
    if !errors.is_empty() {
        return reject(errors);
    }
    let (Ok(started), Ok(finished)) = (started, finished) else {
        return reject(errors);
    };
    let (day, month) = doorstep_domain::time::local_day(finished.as_millisecond(), tz);
    Ok(Ok(NewResponse {
        day,
        month,
        facts: doorstep_domain::metrics::facts(definition, &checked),
        causes: app.tagger().tag(&checked),
        id: uuid.map(|u| u.to_string()).unwrap_or_default(),
        order_number: item.order_number.trim().to_owned(),
        survey_id: item.survey_id,
        survey_version: *version,
        status: item.status.as_str(),
        channel,
        mode: item
            .mode
            .filter(|m| !m.is_empty())
            .map(|m| m.chars().take(32).collect()),
        language: item
            .language
            .filter(|l| !l.is_empty())
            .map(|l| l.chars().take(16).collect()),
        token_id: Some(token_id.to_owned()),
        started_at: started.as_millisecond(),
        finished_at: finished.as_millisecond(),
        content_hash,
        answers: checked,
        review_opened: item.review_opened,
    }))
}

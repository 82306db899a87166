//! Errors as clients see them: RFC 9457 problem documents for the API, a
//! finished page for people. Internal causes are logged, never sent.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One field that was wrong, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    /// Where: a field name or a JSON path such as `items[3].promised_to`.
    pub field: String,
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `about:blank`: the status and title say it all.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    pub status: u16,
    /// What was wrong and how to put it right.
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("this request needs a bearer token: send `Authorization: Bearer TOKEN` (make one with `doorstep token create`)")]
    Unauthorized,
    /// A signed request whose signature does not hold.
    #[error("{0}")]
    BadSignature(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{detail}")]
    Invalid {
        detail: String,
        errors: Vec<FieldProblem>,
    },
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body is not what its type says (malformed JSON).
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldProblem>,
    },
    /// The database was too busy to take the write in time; nothing was
    /// applied and the same request may be sent again.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

/// How long a client is asked to wait before sending a refused write again.
const RETRY_AFTER_SECONDS: &str = "30";

impl From<crate::app::Problem> for ApiError {
    fn from(p: crate::app::Problem) -> ApiError {
        ApiError::invalid(&p.field, p.message)
    }
}

impl From<doorstep_store::StoreError> for ApiError {
    fn from(e: doorstep_store::StoreError) -> Self {
        if e.is_busy() {
            tracing::warn!(error = %e, "a write was refused: the database is busy");
            return ApiError::Unavailable(
                "the database is busy (a rollups rebuild may be running) and nothing of this request was stored; \
                 send the same request again in a little while (see Retry-After)"
                    .to_owned(),
            );
        }
        ApiError::Internal(e.into())
    }
}

impl ApiError {
    /// 422 naming every problem found (`field: message; …` as the detail).
    pub fn problems(problems: Vec<doorstep_domain::survey::Problem>) -> ApiError {
        ApiError::Invalid {
            detail: problems
                .iter()
                .map(|p| format!("{}: {}", p.field, p.message))
                .collect::<Vec<_>>()
                .join("; "),
            errors: problems
                .into_iter()
                .map(|p| FieldProblem {
                    field: p.field,
                    message: p.message,
                })
                .collect(),
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        ApiError::Invalid {
            detail: format!("{field}: {message}"),
            errors: vec![FieldProblem {
                field: field.to_owned(),
                message,
            }],
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized | ApiError::BadSignature(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Builds a problem response; shared by the API and the auth extractors.
pub fn problem_response(status: StatusCode, detail: String, errors: Vec<FieldProblem>) -> Response {
    let body = Problem {
        kind: "about:blank",
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        errors,
    };
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/problem+json"),
    );
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from_static(RETRY_AFTER_SECONDS),
        );
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match self {
            ApiError::Internal(cause) => {
                tracing::error!(error = %format!("{cause:#}"), "request failed");
                problem_response(
                    status,
                    "something went wrong on our side; the request was not applied. Try again, and if it keeps \
                     failing, give the administrator the x-request-id of this response"
                        .to_owned(),
                    Vec::new(),
                )
            }
            ApiError::Invalid { detail, errors } | ApiError::BadRequest { detail, errors } => {
                problem_response(status, detail, errors)
            }
            other => problem_response(status, other.to_string(), Vec::new()),
        }
    }
}

/// `Json<T>` whose rejections are problem documents that say what was wrong.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMediaType(
                "the body must be JSON: send it with `Content-Type: application/json`".to_owned(),
            )),
            Err(JsonRejection::BytesRejection(_)) => Err(ApiError::TooLarge(format!(
                "the body is larger than the limit of {} MB; send smaller batches",
                super::BODY_LIMIT / 1024 / 1024
            ))),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(ApiError::BadRequest {
                detail: format!("body: is not valid JSON: {}", e.body_text()),
                errors: vec![FieldProblem {
                    field: "body".to_owned(),
                    message: format!("is not valid JSON: {}", e.body_text()),
                }],
            }),
            Err(JsonRejection::JsonDataError(e)) => Err(ApiError::invalid("body", e.body_text())),
            Err(other) => Err(ApiError::invalid("body", other.body_text())),
        }
    }
}

/// `Query<T>` whose rejection (a parameter given twice, a value of the
/// wrong shape) is a problem document that says what was wrong.
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(e) => Err(ApiError::BadRequest {
                detail: format!("the query string cannot be read: {}", e.body_text()),
                errors: vec![FieldProblem {
                    field: "query".to_owned(),
                    message: e.body_text(),
                }],
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_database_is_a_503_to_send_again_and_other_failures_are_500() {
        let busy = ApiError::from(doorstep_store::StoreError::Database(
            sqlx::Error::PoolTimedOut,
        ))
        .into_response();
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            busy.headers().get(header::RETRY_AFTER).unwrap(),
            RETRY_AFTER_SECONDS
        );
        let broken = ApiError::from(doorstep_store::StoreError::Database(
            sqlx::Error::RowNotFound,
        ))
        .into_response();
        assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(broken.headers().get(header::RETRY_AFTER).is_none());
    }
}

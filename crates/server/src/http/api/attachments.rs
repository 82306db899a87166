//! `PUT /api/v1/attachments/{sha256}`: a photo or voice message from the
//! door, named by its content's SHA-256 so that the terminal knows the id
//! offline and a retried upload stores nothing twice.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;

use crate::app::survey::attachments::{is_id, limit, save, sniff, MAX_VOICE_BYTES};
use crate::http::auth::{Bearer, IntegrationOrTerminal};
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::security::sha256_bytes_hex;

/// The body limit of this route: the larger of the two kinds.
pub const BODY_LIMIT: usize = MAX_VOICE_BYTES;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Stored {
    /// The SHA-256 of the content: the value of a photo or voice answer.
    id: String,
    /// `photo` or `voice`.
    kind: &'static str,
    content_type: &'static str,
    size_bytes: usize,
    /// False when the same content was stored before.
    created: bool,
}

/// Stores a photo (JPEG, PNG, WebP, HEIF; up to 5 MB) or a voice message
/// (WebM, MP4, Ogg, MP3, WAV, AAC; up to 10 MB). The type is told from the
/// content itself. The path names the content's SHA-256; sending the same
/// content again is a success that stores nothing new. An answer may name
/// the attachment only once it is stored, and only after the customer's
/// consent.
#[utoipa::path(put, path = "/api/v1/attachments/{id}", tag = "surveys",
    params(("id" = String, Path, description = "SHA-256 of the body, 64 lowercase hex digits", pattern = r"^[0-9a-f]{64}$")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    security(("bearer" = [])),
    responses((status = 201, body = Stored, description = "Stored"),
        (status = 200, body = Stored, description = "Stored before: nothing new"),
        (status = 413, body = crate::http::error::Problem), (status = 415, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn put(
    State(app): State<AppState>,
    Bearer(caller, _): Bearer<IntegrationOrTerminal>,
    Path(id): Path<String>,
    body: Body,
) -> Result<(StatusCode, Json<Stored>), ApiError> {
    // Read here, not with the `Bytes` extractor, so that this route has its
    // own limit rather than the API's 4 MB one.
    let body = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| {
        ApiError::TooLarge(format!(
            "an attachment may be at most {} MB (photos 5 MB); shrink it on the device first",
            BODY_LIMIT / 1024 / 1024
        ))
    })?;
    if !is_id(&id) {
        return Err(ApiError::invalid(
            "id",
            format!("{id:?} is not a SHA-256 in 64 lowercase hex digits; name the upload by its content's hash"),
        ));
    }
    let Some(found) = sniff(&body) else {
        return Err(ApiError::UnsupportedMediaType(
            "this is neither a photo (JPEG, PNG, WebP, HEIF) nor a voice message (WebM, MP4, Ogg, MP3, WAV, AAC); \
             only those are kept"
                .to_owned(),
        ));
    };
    if body.len() > limit(found.kind) {
        return Err(ApiError::TooLarge(format!(
            "a {} may be at most {} MB, and this one is {:.1} MB; shrink it on the device first",
            found.kind,
            limit(found.kind) / 1024 / 1024,
            body.len() as f64 / 1024.0 / 1024.0
        )));
    }
    let actual = sha256_bytes_hex(&body);
    if actual != id {
        return Err(ApiError::invalid(
            "id",
            format!("the body's SHA-256 is {actual}, not {id}; the upload was cut short or named wrongly"),
        ));
    }
    save(&app.data_dir, &id, &body)
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("cannot write attachment {id}: {e}")))?;
    let created = app
        .store
        .add_attachment(
            &id,
            found.kind,
            found.content_type,
            i64::try_from(body.len()).unwrap_or(i64::MAX),
            Some(&caller.token_id),
        )
        .await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(Stored {
            id,
            kind: found.kind,
            content_type: found.content_type,
            size_bytes: body.len(),
            created,
        }),
    ))
}

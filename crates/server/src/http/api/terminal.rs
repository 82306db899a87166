//! Terminal enrolment: a courier types the code from
//! `doorstep courier enroll ID` and the device gets its own token.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::http::error::{ApiError, ApiJson};
use crate::http::AppState;
use crate::security::{new_secret, normalize_code, secret_hash};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct EnrollRequest {
    /// The code printed by `doorstep courier enroll ID`, e.g. `K7PM-Q2XD`.
    code: String,
    /// A name for this device, shown in Settings → Tokens.
    #[serde(default)]
    device_name: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Enrolled {
    /// The terminal's bearer token. Shown once: the device keeps it.
    token: String,
    courier_id: String,
    courier_name: Option<String>,
}

/// Exchanges a one-time enrolment code for a terminal token.
#[utoipa::path(post, path = "/api/v1/terminal/enroll", tag = "terminal", request_body = EnrollRequest,
    responses((status = 201, body = Enrolled), (status = 403, body = crate::http::error::Problem, description = "Unknown, used or expired code")))]
pub async fn enroll(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> Result<(StatusCode, Json<Enrolled>), ApiError> {
    let code = normalize_code(&req.code);
    let device = req
        .device_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("terminal")
        .chars()
        .take(100)
        .collect::<String>();
    let token = new_secret("dst");
    let issued = app
        .store
        .redeem_enrollment_code(&secret_hash(&code), &secret_hash(&token), &device)
        .await?
        .ok_or_else(|| {
            ApiError::Forbidden(
                "this enrolment code is unknown, already used or expired; ask for a new one \
                 (an admin runs `doorstep courier enroll COURIER_ID`)"
                    .to_owned(),
            )
        })?;
    let courier_id = issued.courier_id.unwrap_or_default();
    let courier_name = app
        .store
        .courier(&courier_id)
        .await?
        .and_then(|(_, name)| name);
    Ok((
        StatusCode::CREATED,
        Json(Enrolled {
            token,
            courier_id,
            courier_name,
        }),
    ))
}

//! `POST /hooks/gateways/{id}`: customers' messages from a messenger or
//! social-network gateway (a Telegram bot, a WhatsApp gateway, a
//! social-listening service), signed with the gateway's secret as
//! Standard Webhooks says. Each message opens a case or joins the
//! customer's open one on the gateway's channel; the same message again
//! adds nothing. Replies go back through a webhook subscription to
//! `case.replied` (its `gateway` and `conversation_id` say where).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use doorstep_store::helpdesk::cases::Opened;
use serde::{Deserialize, Serialize};

use crate::app::helpdesk::cases::{self as use_cases, CaseRequest};
use crate::http::error::ApiError;
use crate::http::AppState;

/// A customer's message, as a gateway sends it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewayMessage {
    /// The gateway's own id of the message: sent again, it adds nothing.
    #[schema(min_length = 1, max_length = 150)]
    pub message_id: String,
    /// The chat it came from; replies go back to it (`case.replied`).
    #[schema(min_length = 1, max_length = 150)]
    pub conversation_id: String,
    #[schema(min_length = 1, max_length = 20000)]
    pub text: String,
    /// The customer's phone, when the gateway knows it (finds their
    /// orders and cases).
    #[serde(default)]
    pub customer_phone: Option<String>,
    /// The order the message is about, when known.
    #[serde(default)]
    pub order_number: Option<String>,
}

/// Where the message went.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GatewayReceipt {
    pub case_id: String,
    pub number: i64,
    /// `created`, `joined` or `resent`.
    pub result: String,
}

fn field(name: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.trim().is_empty() || value.chars().count() > max {
        return Err(ApiError::invalid(
            name,
            format!("1 to {max} characters, not {}", value.chars().count()),
        ));
    }
    Ok(())
}

/// A customer's message from a gateway. Authenticated by its signature
/// (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,…`), not by
/// a bearer token.
#[utoipa::path(post, path = "/hooks/gateways/{id}", tag = "helpdesk",
    params(("id" = String, Path, description = "The gateway's id (doorstep gateway add)")),
    request_body = GatewayMessage,
    responses((status = 201, description = "A new case", body = GatewayReceipt),
        (status = 200, description = "Joined the customer's open case, or sent before", body = GatewayReceipt),
        (status = 401, description = "Unsigned, wrongly signed or too old", body = crate::http::error::Problem),
        (status = 404, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn inbound(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<GatewayReceipt>), ApiError> {
    let gateway = app
        .store
        .gateway(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no gateway {id:?}")))?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    crate::webhooks::verify(
        &gateway.secret,
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
        &body,
        jiff::Timestamp::now().as_second(),
    )
    .map_err(ApiError::BadSignature)?;
    let message: GatewayMessage = serde_json::from_slice(&body).map_err(|e| {
        if e.is_data() {
            ApiError::invalid("body", e.to_string())
        } else {
            ApiError::BadRequest {
                detail: format!("the body is not JSON: {e}"),
                errors: Vec::new(),
            }
        }
    })?;
    field("message_id", &message.message_id, 150)?;
    field("conversation_id", &message.conversation_id, 150)?;
    let opened = use_cases::open(
        &app,
        &CaseRequest {
            channel: gateway.channel.clone(),
            line: None,
            category: None,
            priority: None,
            order_number: message.order_number,
            customer_phone: message.customer_phone,
            text: message.text,
            external_id: Some(format!("{}:{}", gateway.id, message.message_id.trim())),
            direction: None,
            conversation: Some(format!(
                "{}:{}",
                gateway.name,
                message.conversation_id.trim()
            )),
        },
        &gateway.name,
    )
    .await?;
    app.store.gateway_heard(&gateway.id).await?;
    let (status, result) = match &opened {
        Opened::Created(_) => (StatusCode::CREATED, "created"),
        Opened::Joined(_) => (StatusCode::OK, "joined"),
        Opened::Again(_) => (StatusCode::OK, "resent"),
    };
    let case = opened.case();
    Ok((
        status,
        Json(GatewayReceipt {
            case_id: case.id.clone(),
            number: case.number,
            result: result.to_owned(),
        }),
    ))
}

//! Terminal enrolment: a courier types the code from
//! `doorstep courier enroll ID` and the device gets its own token.

use std::collections::HashSet;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::Json;
use doorstep_domain::survey::{choose_survey, OrderFacts, SurveyDefinition};
use doorstep_domain::time::{day_range, from_millis, parse_date};
use doorstep_domain::Money;
use doorstep_store::OrderFilter;
use serde::{Deserialize, Serialize};

use crate::http::api::surveys::SurveyJson;
use crate::http::auth::{Bearer, TerminalOnly};
use crate::http::error::{ApiError, ApiJson};
use crate::http::AppState;
use crate::security::{new_secret, normalize_code, secret_hash};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct EnrollRequest {
    /// The code printed by `doorstep courier enroll ID`, e.g. `K7PM-Q2XD`.
    #[schema(pattern = r"^\s*[A-Za-z0-9]{4}[- ]?[A-Za-z0-9]{4}\s*$")]
    code: String,
    /// A name for this device, shown in Settings → Tokens.
    #[serde(default)]
    device_name: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Enrolled {
    /// The terminal's bearer token. Shown once: the device keeps it.
    token: String,
    /// `terminal` (a courier's) or `inspector` (a mystery shopper's).
    role: &'static str,
    /// The courier's id; empty on an inspector's device.
    courier_id: String,
    /// The courier's name, or the inspector's.
    courier_name: Option<String>,
}

/// Exchanges a one-time enrolment code for a terminal token.
#[utoipa::path(post, path = "/api/v1/terminal/enroll", tag = "terminal", request_body = EnrollRequest,
    responses((status = 201, body = Enrolled), (status = 403, body = crate::http::error::Problem, description = "Unknown, used or expired code")))]
pub async fn enroll(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> Result<(StatusCode, Json<Enrolled>), ApiError> {
    let throttle_key = peer.ip().to_string();
    let now = doorstep_store::now_millis();
    if let Some(wait) = app.enrol_throttle.wait_ms(&throttle_key, now) {
        return Err(ApiError::TooManyRequests(format!(
            "too many wrong enrolment codes from this address; try again in {} minutes",
            (wait + 59_999) / 60_000
        )));
    }
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
    let (code_hash, token_hash) = (secret_hash(&code), secret_hash(&token));
    let issued = match app
        .store
        .redeem_enrollment_code(&code_hash, &token_hash, &device)
        .await?
    {
        Some(issued) => Some(issued),
        None => {
            app.store
                .redeem_inspector_code(&code_hash, &token_hash)
                .await?
        }
    };
    let issued = issued.ok_or_else(|| {
        app.enrol_throttle.failed(&throttle_key, now);
        ApiError::Forbidden(
            "this enrolment code is unknown, already used or expired; ask for a new one \
             (an admin runs `doorstep courier enroll COURIER_ID`, or `doorstep inspector enroll --name NAME`)"
                .to_owned(),
        )
    })?;
    let role = if issued.role == "inspector" {
        "inspector"
    } else {
        "terminal"
    };
    let courier_id = issued.courier_id.unwrap_or_default();
    let courier_name = if role == "inspector" {
        Some(issued.name)
    } else {
        app.store
            .courier(&courier_id)
            .await?
            .and_then(|(_, name)| name)
    };
    Ok((
        StatusCode::CREATED,
        Json(Enrolled {
            token,
            role,
            courier_id,
            courier_name,
        }),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DayQuery {
    /// The local day (`YYYY-MM-DD`, deployment time zone); today when left out.
    #[param(pattern = r"^(\d{4}-\d{2}-\d{2})?$")]
    date: Option<String>,
}

/// One of the courier's orders as the terminal needs it, offline too.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TerminalOrder {
    order_number: String,
    /// Whom the courier hands it to.
    customer_name: Option<String>,
    city: String,
    partner: Option<String>,
    promised_from: String,
    promised_to: String,
    delivered_at: Option<String>,
    /// `new` or `repeat`.
    segment: &'static str,
    /// The survey this order gets by the surveys' targeting, if any.
    survey_id: Option<String>,
    /// Already answered (or refused) for that survey.
    surveyed: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TerminalDay {
    courier_id: String,
    date: String,
    orders: Vec<TerminalOrder>,
    /// The surveys the orders refer to, at their current versions.
    surveys: Vec<SurveyJson>,
}

/// The terminal's courier's orders of one day, each with the survey it gets
/// (targeting decided here, so the terminal needs no network at the door)
/// and whether it was surveyed already.
#[utoipa::path(get, path = "/api/v1/terminal/orders", tag = "terminal", params(DayQuery),
    security(("bearer" = [])),
    responses((status = 200, body = TerminalDay), (status = 403, body = crate::http::error::Problem),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn day(
    State(app): State<AppState>,
    Bearer(caller, _): Bearer<TerminalOnly>,
    Query(q): Query<DayQuery>,
) -> Result<Json<TerminalDay>, ApiError> {
    let courier_id = caller.courier_id.ok_or_else(|| {
        ApiError::Forbidden(
            "this terminal token belongs to no courier; enrol the device with `doorstep courier enroll ID`".to_owned(),
        )
    })?;
    let tz = app.deployment().tz();
    let date = match q.date.as_deref() {
        Some(text) => parse_date(text).map_err(|e| ApiError::invalid("date", e.to_string()))?,
        None => jiff::Timestamp::now().to_zoned(tz.clone()).date(),
    };
    let (start, end) = day_range(date, date, &tz);
    let filter = OrderFilter {
        courier_id: Some(courier_id.clone()),
        from_ms: Some(start.as_millisecond()),
        to_ms: Some(end.as_millisecond()),
        ..OrderFilter::default()
    };
    let page = app.store.search_orders(&filter, 500, 0).await?;
    let records = app.store.surveys().await?;
    let mut definitions: Vec<(String, SurveyDefinition)> = Vec::with_capacity(records.len());
    for r in &records {
        let d: SurveyDefinition = serde_json::from_str(&r.definition)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("survey {}: {e}", r.id)))?;
        definitions.push((r.id.clone(), d));
    }
    let numbers: Vec<&str> = page
        .orders
        .iter()
        .map(|o| o.order_number.as_str())
        .collect();
    let surveyed: HashSet<(String, String)> =
        app.store.surveyed(&numbers).await?.into_iter().collect();
    let mut used: HashSet<String> = HashSet::new();
    let orders = page
        .orders
        .iter()
        .map(|o| {
            let facts = OrderFacts {
                order_number: &o.order_number,
                segment: o.segment(),
                city: &o.city,
                partner: o.partner.as_deref(),
                amount: o.amount_minor.map(Money::from_minor),
            };
            let survey_id = choose_survey(&facts, &definitions).map(str::to_owned);
            if let Some(id) = &survey_id {
                used.insert(id.clone());
            }
            TerminalOrder {
                surveyed: survey_id
                    .as_ref()
                    .is_some_and(|id| surveyed.contains(&(o.order_number.clone(), id.clone()))),
                survey_id,
                segment: o.segment().as_str(),
                promised_from: from_millis(o.promised_from).to_string(),
                promised_to: from_millis(o.promised_to).to_string(),
                delivered_at: o.delivered_at.map(|d| from_millis(d).to_string()),
                order_number: o.order_number.clone(),
                customer_name: o.customer_name.clone(),
                city: o.city.clone(),
                partner: o.partner.clone(),
            }
        })
        .collect();
    let surveys = records
        .into_iter()
        .filter(|r| used.contains(&r.id))
        .map(SurveyJson::from_record)
        .collect::<Result<_, _>>()?;
    Ok(Json(TerminalDay {
        courier_id,
        date: date.to_string(),
        orders,
        surveys,
    }))
}

/// The terminal's courier's own scores ("My scores"): his NPS with its
/// interval this week so far and the four weeks before, beside his city's;
/// what promoters wrote about his deliveries (no customer's personal data);
/// his city's leaderboard when the company shows one. The terminal keeps
/// the answer to show offline.
#[utoipa::path(get, path = "/api/v1/terminal/scores", tag = "terminal",
    security(("bearer" = [])),
    responses((status = 200, body = crate::app::survey::own_scores::OwnScores),
        (status = 403, body = crate::http::error::Problem)))]
pub async fn scores(
    State(app): State<AppState>,
    Bearer(caller, _): Bearer<TerminalOnly>,
) -> Result<Json<crate::app::survey::own_scores::OwnScores>, ApiError> {
    let courier_id = caller.courier_id.ok_or_else(|| {
        ApiError::Forbidden(
            "this terminal token belongs to no courier; enrol the device with `doorstep courier enroll ID`".to_owned(),
        )
    })?;
    let scores =
        crate::app::survey::own_scores::own_scores(&app.store, &app.deployment(), &courier_id)
            .await
            .map_err(ApiError::Internal)?;
    Ok(Json(scores))
}

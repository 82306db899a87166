//! `GET /api/v1/metrics`: the survey scores of METRICS.md for a period,
//! grouped and filtered, from the rollups.

use axum::extract::{Query, State};
use doorstep_domain::survey::metrics::RefusalPolicy;
use doorstep_domain::time::parse_date;
use doorstep_store::survey::rollups::GroupBy;
use serde::Deserialize;

use crate::app::survey::metrics::{compute, Request};
use crate::http::auth::{Bearer, Integration};
use crate::http::error::ApiError;
use crate::http::AppState;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct MetricsQuery {
    /// First local day, `YYYY-MM-DD` (default: 29 days before `to`).
    #[param(pattern = r"^\s*(\d{4}-\d{2}-\d{2})?\s*$")]
    pub from: Option<String>,
    /// Last local day, inclusive (default: today).
    #[param(pattern = r"^\s*(\d{4}-\d{2}-\d{2})?\s*$")]
    pub to: Option<String>,
    /// `courier`, `city`, `partner`, `segment`, `survey`, `channel`, `day`,
    /// `week` or `month`; left out, one group `all`. A group and a time
    /// within it, e.g. `courier,week`, gives each group's trend (each
    /// group row then has a `period`).
    #[param(
        pattern = r"^\s*((all|none|courier|city|partner|segment|survey|channel|day|week|month)|(all|none|courier|city|partner|segment|survey|channel)\s*,\s*(day|week|month))?\s*$"
    )]
    pub group_by: Option<String>,
    pub courier: Option<String>,
    pub city: Option<String>,
    pub partner: Option<String>,
    /// `new` or `repeat`.
    #[param(pattern = r"^\s*(new|repeat)?\s*$")]
    pub segment: Option<String>,
    pub survey: Option<String>,
    /// `terminal`, `link` or `api`.
    #[param(pattern = r"^\s*(terminal|link|api)?\s*$")]
    pub channel: Option<String>,
    /// `exclude` or `count_as_detractors`; the deployment's setting when left out.
    #[param(pattern = r"^(exclude|count_as_detractors)?$")]
    pub refusal_policy: Option<String>,
}

impl MetricsQuery {
    /// Reads the query into a request; problems name the parameter.
    pub fn request(&self, today: jiff::civil::Date) -> Result<Request, ApiError> {
        let date =
            |name: &str, v: &Option<String>| -> Result<Option<jiff::civil::Date>, ApiError> {
                v.as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| parse_date(s).map_err(|e| ApiError::invalid(name, e.to_string())))
                    .transpose()
            };
        let to = date("to", &self.to)?.unwrap_or(today);
        let from = match date("from", &self.from)? {
            Some(d) => d,
            None => to.checked_sub(jiff::Span::new().days(29)).unwrap_or(to),
        };
        if from > to {
            return Err(ApiError::invalid(
                "from",
                format!("{from} is after to ({to})"),
            ));
        }
        if from.until(to).map_or(0, |s| s.get_days()) > 3 * 366 {
            return Err(ApiError::invalid(
                "from",
                "a period may be at most three years long",
            ));
        }
        let parse = |g: &str| {
            GroupBy::parse(g.trim()).ok_or_else(|| {
                ApiError::invalid(
                    "group_by",
                    format!("{g:?} is not a grouping (courier, city, partner, segment, survey, channel, day, week or month)"),
                )
            })
        };
        let (group, period) = match self.group_by.as_deref().map(str::trim) {
            None => (GroupBy::All, None),
            Some(g) => match g.split_once(',') {
                None => (parse(g)?, None),
                Some((first, second)) => {
                    let (first, second) = (parse(first)?, parse(second)?);
                    if first.is_time() || !second.is_time() {
                        return Err(ApiError::invalid(
                            "group_by",
                            "two groupings are a group and a time within it, e.g. courier,week",
                        ));
                    }
                    (first, Some(second))
                }
            },
        };
        let policy = match self.refusal_policy.as_deref() {
            None | Some("") => None,
            Some(p) => Some(RefusalPolicy::parse(p).ok_or_else(|| {
                ApiError::invalid(
                    "refusal_policy",
                    format!("{p:?} is not a policy (exclude or count_as_detractors)"),
                )
            })?),
        };
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        if let Some(s) = text(&self.segment) {
            if s != "new" && s != "repeat" {
                return Err(ApiError::invalid(
                    "segment",
                    format!("{s:?} is not a segment (new or repeat)"),
                ));
            }
        }
        if let Some(c) = text(&self.channel) {
            if doorstep_domain::survey::Channel::parse(&c).is_none() {
                return Err(ApiError::invalid(
                    "channel",
                    format!("{c:?} is not a channel (terminal, link or api)"),
                ));
            }
        }
        Ok(Request {
            from,
            to,
            group,
            period,
            courier: text(&self.courier),
            city: text(&self.city),
            partner: text(&self.partner),
            segment: text(&self.segment),
            survey: text(&self.survey),
            channel: text(&self.channel),
            policy,
        })
    }
}

/// NPS (with its 95% interval), CSI, CSAT, CES, NetEasy, response and
/// refusal rates for a period, in groups. `responses` counts completed
/// sessions, `refusals` refused and timed-out ones; a score with no answers
/// is `null`. Groups are ranked by the lower bound of the NPS interval;
/// groups with fewer than 30 NPS answers have `too_few: true` and no rank.
#[utoipa::path(get, path = "/api/v1/metrics", tag = "metrics", params(MetricsQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "`{\"groups\": [...]}` with the period, grouping and refusal policy"),
        (status = 422, body = crate::http::error::Problem)))]
pub async fn get(
    State(app): State<AppState>,
    _caller: Bearer<Integration>,
    Query(q): Query<MetricsQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let deployment = app.deployment();
    let today = jiff::Timestamp::now().to_zoned(deployment.tz()).date();
    let req = q.request(today)?;
    let answer = compute(&app.store, &deployment, &req)
        .await
        .map_err(ApiError::Internal)?;
    // A large answer is written on every core, off the async workers.
    let body = tokio::task::spawn_blocking(move || answer.to_json())
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// Live events as Server-Sent Events, each with its id: `response.created`
/// (with the response's id, order, survey, status, channel, finish time and
/// NPS answer) as each response is stored, `survey.published`,
/// `settings.changed`, `causes.changed`. Events are durable: a client that
/// reconnects with `Last-Event-ID` (browsers do it themselves) or
/// `?since=ID` first gets every event after that id, then live ones; if
/// some of those were already pruned (after `DOORSTEP_EVENT_DAYS`, 7 by
/// default) it is told so with a `pruned` event. Every server process on
/// one database gives the same events with the same ids.
#[utoipa::path(get, path = "/api/v1/events", tag = "metrics",
    security(("bearer" = [])),
    params(("since" = Option<i64>, Query, description = "Resume after this event id (as `Last-Event-ID`)", minimum = 0),
           ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id")),
    responses((status = 200, content_type = "text/event-stream", description = "An endless event stream")))]
pub async fn events(
    State(app): State<AppState>,
    _caller: Bearer<Integration>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let since = crate::http::events::resume_point(&headers, uri.query())
        .map_err(|message| ApiError::invalid("since", message))?;
    Ok(app
        .events
        .stream(app.store.clone(), since, |_| true)
        .into_response())
}

//! `/api/v1`: the JSON API for the company's systems and the terminals.
//! Each resource has its file; the OpenAPI document is generated from the
//! handlers' annotations, so it cannot drift from the routes.

pub mod attachments;
pub mod batch;
pub mod calls;
pub mod cases;
pub mod gateways;
pub mod health;
pub mod incidents;
pub mod inspections;
pub mod ledger;
pub mod links;
pub mod metrics;
pub mod orders;
pub mod responses;
pub mod support;
pub mod surveys;
pub mod terminal;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Doorstep API",
        description = "Orders, door surveys and support for delivery services. Every `/api/v1` route takes \
                       `Authorization: Bearer TOKEN` (see `doorstep token create`); errors are RFC 9457 \
                       `application/problem+json` documents. Timestamps are RFC 3339; dates in query strings \
                       are `YYYY-MM-DD` in the deployment's time zone."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Is this server up"),
        (name = "orders", description = "Orders, customers and couriers from the company's systems"),
        (name = "surveys", description = "Survey definitions and the answers to them"),
        (name = "terminal", description = "Courier door-survey terminals"),
        (name = "metrics", description = "NPS, CSI, CSAT, CES and rates as METRICS.md defines them"),
        (name = "helpdesk", description = "Incidents raised by alert rules, cases, remedies and the bonus ledger"),
        (name = "calls", description = "Call events from the company's PBX"),
        (name = "inspections", description = "Mystery-shopper checks of couriers, apart from customers' scores"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The problem documents every route may answer, documented once: 400
/// (malformed JSON), 401/403 (token), 404 (a path naming nothing), 413/415/
/// 422 (a body too big, of another type, or that does not fit), 429 (too
/// many attempts), 503 (the database busy: send again after Retry-After).
/// Every error answer is `application/problem+json` (RFC 9457).
struct ProblemAnswers;

impl Modify for ProblemAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in &mut openapi.paths.paths {
            let mut operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.iter_mut().filter_map(|o| o.as_mut()) {
                let mut add = |status: &str, description: &str| {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| problem(description));
                };
                if path.starts_with("/api/v1/") {
                    add("401", "No bearer token, or one that is unknown or revoked");
                    add("403", "The token's role may not do this");
                    add("503", "The database is busy: nothing was applied; send the same request again after Retry-After seconds");
                }
                if path.contains('{') {
                    add("404", "Nothing by that name");
                }
                if operation.request_body.is_some() {
                    add("400", "The body is not valid JSON");
                    add("413", "The body is larger than the limit");
                    add("415", "The body is not of the documented media type");
                }
                if operation.request_body.is_some() || operation.parameters.is_some() {
                    add("422", "A value does not fit: each problem names its field");
                }
                if path.ends_with("/enroll") {
                    add(
                        "429",
                        "Too many wrong codes from this address: wait a while",
                    );
                }
                // Error answers are problem documents, whatever the
                // handler's annotation said.
                for (status, response) in &mut operation.responses.responses {
                    if !(status.starts_with('4') || status.starts_with('5')) || path == "/healthz" {
                        continue;
                    }
                    if let RefOr::T(response) = response {
                        let is_problem = response.content.get("application/json").is_some_and(|c| {
                            matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"))
                        });
                        if is_problem {
                            response.content.shift_remove("application/json");
                        }
                        // A batch's own answer (every item refused) is JSON;
                        // a body the batch cannot be read from is a problem.
                        response
                            .content
                            .entry("application/problem+json".to_owned())
                            .or_insert_with(|| {
                                ContentBuilder::new()
                                    .schema(Some(Ref::from_schema_name("Problem")))
                                    .build()
                            });
                    }
                }
            }
        }
    }
}

/// Finishes the document once every route is in it (the derive's modifiers
/// run before the router adds its routes).
pub fn finish(openapi: &mut utoipa::openapi::OpenApi) {
    ProblemAnswers.modify(openapi);
}

/// A list's `limit` query value: 1 to 1000, `default` when left out.
pub fn limit(value: Option<&str>, default: i64) -> Result<i64, crate::http::error::ApiError> {
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                crate::http::error::ApiError::invalid(
                    "limit",
                    format!("{s:?}: give a whole number from 1 to 1000"),
                )
            }),
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(orders::post_orders))
        .routes(routes!(orders::get_order))
        .routes(routes!(surveys::create, surveys::list))
        .routes(routes!(surveys::publish))
        .routes(routes!(responses::post))
        .routes(routes!(responses::recording))
        .routes(routes!(attachments::put))
        .routes(routes!(links::create))
        .routes(routes!(metrics::get))
        .routes(routes!(metrics::events))
        .routes(routes!(incidents::list))
        .routes(routes!(cases::open, cases::list))
        .routes(routes!(cases::get))
        .routes(routes!(cases::add_contact))
        .routes(routes!(cases::apply_remedy))
        .routes(routes!(cases::outcome))
        .routes(routes!(support::get))
        .routes(routes!(calls::post_events))
        .routes(routes!(calls::metrics))
        .routes(routes!(gateways::inbound))
        .routes(routes!(ledger::get, ledger::debit))
        .routes(routes!(ledger::reverse))
        .routes(routes!(terminal::enroll))
        .routes(routes!(terminal::day))
        .routes(routes!(terminal::scores))
        .routes(routes!(orders::record_refusal))
        .routes(routes!(inspections::surveys))
        .routes(routes!(inspections::post, inspections::figures))
}

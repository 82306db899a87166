//! `/api/v1`: the JSON API for the company's systems and the terminals.
//! Each resource has its file; the OpenAPI document is generated from the
//! handlers' annotations, so it cannot drift from the routes.

pub mod attachments;
pub mod batch;
pub mod health;
pub mod links;
pub mod metrics;
pub mod orders;
pub mod responses;
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

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(orders::post_orders))
        .routes(routes!(orders::get_order))
        .routes(routes!(surveys::create, surveys::list))
        .routes(routes!(surveys::publish))
        .routes(routes!(responses::post))
        .routes(routes!(attachments::put))
        .routes(routes!(links::create))
        .routes(routes!(metrics::get))
        .routes(routes!(metrics::events))
        .routes(routes!(terminal::enroll))
        .routes(routes!(terminal::day))
}

//! The console's server-rendered pages. Each page has its file; this module
//! holds what they share: the frame (navigation, user menu) and rendering.

mod calls;
mod case_status;
pub mod cases;
mod categories;
pub mod causes;
mod channels;
mod couriers;
pub mod customers;
pub mod dashboard;
mod dispatch;
mod drivers;
pub mod link;
pub mod login;
mod mass;
pub mod orders;
mod recovery;
mod reports;
mod rules;
pub mod settings;
mod sla;
mod support;
pub mod surveys;
pub mod terminal;
mod webhooks;
mod why;

use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use super::auth::{AdminOnly, AnyStaff, CaseDesk, CurrentUser, DispatchDesk, QualityDesk};
use super::AppState;
use crate::i18n::{tr, Lang, Tr};

/// One entry of the main navigation.
pub struct NavItem {
    pub href: &'static str,
    pub label: String,
    pub active: bool,
}

/// What every signed-in page shows around its content.
pub struct Chrome {
    pub tr: Tr<'static>,
    pub title: String,
    pub company: String,
    pub login: String,
    pub role: String,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub languages: Vec<(&'static str, &'static str, bool)>,
}

/// The sections of the product, who may open each, and its nav key.
fn sections(user: &CurrentUser) -> Vec<(&'static str, &'static str, bool)> {
    vec![
        ("/dashboard", "nav-dashboard", user.may::<AnyStaff>()),
        ("/surveys", "nav-surveys", user.may::<QualityDesk>()),
        ("/causes", "nav-causes", user.may::<QualityDesk>()),
        ("/couriers", "nav-couriers", user.may::<QualityDesk>()),
        ("/reports", "nav-reports", user.may::<QualityDesk>()),
        ("/dispatch", "nav-dispatch", user.may::<DispatchDesk>()),
        ("/cases", "nav-cases", user.may::<CaseDesk>()),
        ("/orders", "nav-orders", user.may::<AnyStaff>()),
        ("/settings", "nav-settings", user.may::<AdminOnly>()),
    ]
}

/// A day as the console shows it in every language: `dd.mm.yyyy` (the
/// format times are shown in too); text that is not an ISO date, as it is.
pub fn show_day(iso: &str) -> String {
    iso.trim()
        .parse::<jiff::civil::Date>()
        .map_or_else(|_| iso.to_owned(), |d| d.strftime("%d.%m.%Y").to_string())
}

/// A period from a page's form: `to` (default today) and `from` (default
/// `days_before` days before today), each as [`parse_day`] reads it; a day
/// that does not read falls back to its default and says why.
pub fn page_period(
    from: Option<&str>,
    to: Option<&str>,
    today: jiff::civil::Date,
    days_before: i64,
) -> (jiff::civil::Date, jiff::civil::Date, Option<String>) {
    let mut error = None;
    let mut date = |value: Option<&str>, default: jiff::civil::Date| match value
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => default,
        Some(v) => parse_day(v).unwrap_or_else(|e| {
            error = Some(e.to_string());
            default
        }),
    };
    let to = date(to, today);
    let from = date(
        from,
        today
            .checked_sub(jiff::Span::new().days(days_before))
            .unwrap_or(today),
    );
    (from, to, error)
}

/// A day as the console's forms take it: `dd.mm.yyyy` (what they show) or
/// `yyyy-mm-dd` (links, bookmarks, the API's form).
pub fn parse_day(input: &str) -> Result<jiff::civil::Date, doorstep_domain::time::DateError> {
    doorstep_domain::time::parse_date(&iso_day(input))
}

/// `dd.mm.yyyy` rewritten as `yyyy-mm-dd`; anything else unchanged.
pub fn iso_day(input: &str) -> String {
    let s = input.trim();
    let parts: Vec<&str> = s.split('.').collect();
    match parts.as_slice() {
        [d, m, y] if d.len() == 2 && m.len() == 2 && y.len() == 4 => format!("{y}-{m}-{d}"),
        _ => s.to_owned(),
    }
}

/// A metrics query from a console form: its days in the API's form.
pub fn console_query(
    q: &crate::app::survey::metrics::MetricsQuery,
) -> crate::app::survey::metrics::MetricsQuery {
    let mut q = q.clone();
    q.from = q.from.as_deref().map(iso_day);
    q.to = q.to.as_deref().map(iso_day);
    q
}

impl Chrome {
    /// A day as the page shows it (see [`show_day`]).
    pub fn day(&self, iso: &str) -> String {
        show_day(iso)
    }

    pub fn new(app: &AppState, user: &CurrentUser, active: &str, title_key: &str) -> Chrome {
        let t = tr(user.lang);
        let nav = sections(user)
            .into_iter()
            .filter(|(_, _, allowed)| *allowed)
            .map(|(href, key, _)| NavItem {
                href,
                label: t.t(key),
                active: href == active,
            })
            .collect();
        Chrome {
            tr: t,
            title: t.t(title_key),
            company: app.deployment().name,
            login: user.login.clone(),
            role: t.t(&format!("role-{}", user.role.as_str())),
            csrf: user.csrf.clone(),
            nav,
            languages: Lang::ALL
                .iter()
                .map(|l| (l.code(), l.native_name(), *l == user.lang))
                .collect(),
        }
    }
}

/// Renders a template, or a 500 page if it cannot be.
/// A form that turns a setting on or off (`templates/switch.html`): its
/// field `on` says which, `on` or `off`.
#[derive(serde::Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    on: String,
}

impl SwitchForm {
    pub fn on(&self) -> bool {
        self.on.trim() == "on"
    }
}

/// Turns the setting `key` on or off and goes back to `path`, to the
/// section `field` (also the query parameter its notice is read from).
pub async fn switch_setting(
    app: &AppState,
    user: &CurrentUser,
    key: &str,
    on: bool,
    path: &str,
    field: &str,
) -> PageResult {
    let value = if on { "on" } else { "off" };
    app.store.set_setting(key, value).await.page(user.lang)?;
    tracing::info!(by = %user.login, key, on, "a setting switched");
    Ok(Redirect::to(&format!("{path}?{field}={value}#{field}")).into_response())
}

pub fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            status_page(Lang::En, StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    tr: Tr<'static>,
    code: u16,
    heading: String,
    text: String,
}

/// A finished page for 403, 404 and 500.
pub fn status_page(lang: Lang, status: StatusCode) -> Response {
    let t = tr(lang);
    let key = match status.as_u16() {
        403 => "status-403",
        404 => "status-404",
        _ => "status-500",
    };
    let page = StatusPage {
        tr: t,
        code: status.as_u16(),
        heading: t.t(&format!("{key}-heading")),
        text: t.t(&format!("{key}-text")),
    };
    let html = page.render().unwrap_or_else(|_| status.to_string());
    (status, Html(html)).into_response()
}

/// Why a page could not be shown, as the page that says so: handlers
/// return `Result<Response, PageError>` and pass failures on with `?`
/// (`.page(lang)?` on a fallible call).
#[derive(Debug)]
pub enum PageError {
    NotFound(Lang),
    /// Logged with its cause; the visitor sees the 500 page.
    Internal(Lang, String),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::NotFound(lang) => status_page(lang, StatusCode::NOT_FOUND),
            PageError::Internal(lang, e) => internal(lang, &e),
        }
    }
}

/// What a page handler returns.
pub type PageResult = Result<Response, PageError>;

/// `.page(lang)?`: a failure becomes the 500 page in the visitor's language.
pub trait OrPage<T> {
    fn page(self, lang: Lang) -> Result<T, PageError>;
}

impl<T, E: std::fmt::Display> OrPage<T> for Result<T, E> {
    fn page(self, lang: Lang) -> Result<T, PageError> {
        self.map_err(|e| PageError::Internal(lang, e.to_string()))
    }
}

/// A failure as the 500 page in the visitor's language (logged with its
/// cause).
pub fn failed(lang: Lang, e: impl std::fmt::Display) -> PageError {
    PageError::Internal(lang, e.to_string())
}

/// `.found(lang)?`: what was looked up, the 404 page where there is none,
/// the 500 page on a failure.
pub trait Found<T> {
    fn found(self, lang: Lang) -> Result<T, PageError>;
}

impl<T, E: std::fmt::Display> Found<T> for Result<Option<T>, E> {
    fn found(self, lang: Lang) -> Result<T, PageError> {
        self.page(lang)?.ok_or(PageError::NotFound(lang))
    }
}

/// Logs an internal error and shows the 500 page.
pub fn internal(lang: Lang, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "page failed");
    status_page(lang, StatusCode::INTERNAL_SERVER_ERROR)
}

const STYLESHEET: &str = include_str!("../../../static/app.css");

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// A page's script, revalidated on every use (a new release takes effect at once).
fn script(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// A live page's event stream: the events `pass` lets through, resumed
/// after the browser's `Last-Event-ID` (a bad id from a browser is its own
/// doing: live events only, then).
pub fn live_events(
    app: &AppState,
    headers: &axum::http::HeaderMap,
    uri: &axum::http::Uri,
    pass: fn(&str) -> bool,
) -> Response {
    let since = super::events::resume_point(headers, uri.query())
        .ok()
        .flatten();
    app.events
        .stream(app.store.clone(), since, pass)
        .into_response()
}

/// Redraws a page's live regions as events arrive (see the file).
async fn live_script() -> Response {
    script(include_str!("../../../static/live.js"))
}

/// The embedding script for the company's pages (see the file).
async fn embed_script() -> Response {
    let mut r = script(include_str!("../../../static/embed.js"));
    // Loaded from the company's site.
    r.headers_mut().insert(
        axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
        axum::http::HeaderValue::from_static("*"),
    );
    r
}

/// The status page's chat (see the file).
async fn status_script() -> Response {
    script(include_str!("../../../static/status.js"))
}

async fn not_found(headers: axum::http::HeaderMap) -> Response {
    status_page(super::auth::visitor_lang(&headers), StatusCode::NOT_FOUND)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/orders") }))
        .route("/static/app.css", get(stylesheet))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/language", post(login::language))
        .route("/s/{token}", get(link::show).post(link::submit))
        .route("/s/{token}/review/{link}", get(link::review))
        .route("/orders", get(orders::list))
        .route("/orders/{order_number}", get(orders::detail))
        .route(
            "/orders/{order_number}/recordings/{response_id}",
            get(orders::recording),
        )
        .route("/customers/{phone}", get(customers::file))
        .route("/customers/{phone}/erase", post(orders::erase_customer))
        .route("/attachments/{id}", get(orders::attachment))
        .route("/settings", get(settings::page))
        .route("/settings/deployment", post(settings::save_deployment))
        .route("/settings/users", post(settings::add_user))
        .route("/settings/tokens", post(settings::create_token))
        .route("/settings/tokens/{id}/revoke", post(settings::revoke_token))
        .route("/settings/enrollment", post(settings::enroll_courier))
        .route(
            "/settings/webhooks",
            get(webhooks::page).post(webhooks::add),
        )
        .route(
            "/settings/categories",
            get(categories::list).post(categories::save),
        )
        .route("/settings/sla", get(sla::show).post(sla::save))
        .route("/settings/channels", get(channels::show))
        .route("/settings/mailboxes", post(channels::set_mailbox))
        .route(
            "/settings/mailboxes/{line}/remove",
            post(channels::remove_mailbox),
        )
        .route("/settings/gateways", post(channels::create_gateway))
        .route("/settings/queues", post(channels::set_queue_line))
        .route("/settings/service-level", post(channels::set_service_level))
        .route("/settings/agents", post(channels::set_agent_person))
        .route("/settings/call-reasons", post(channels::set_reasons))
        .route("/settings/assistant", post(channels::set_assistant))
        .route(
            "/settings/gateways/{id}/remove",
            post(channels::remove_gateway),
        )
        .route("/settings/quiet", post(sla::save_quiet))
        .route("/settings/webhooks/{id}", get(webhooks::detail))
        .route(
            "/settings/webhooks/{id}/resend/{event}",
            post(webhooks::resend),
        )
        .route("/settings/webhooks/{id}/enable", post(webhooks::enable))
        .route("/settings/webhooks/{id}/remove", post(webhooks::remove))
        .route("/dashboard", get(dashboard::page))
        .route("/dashboard/events", get(dashboard::events))
        .route("/dashboard/why", get(why::page))
        .route("/causes", get(causes::page))
        .route("/causes/rules", get(causes::rules).post(causes::save_rules))
        .route("/causes/tags", post(causes::retag_one))
        .route("/causes/{id}", get(causes::comments))
        .route("/drivers", get(drivers::page))
        .route("/reports", get(reports::page))
        .route("/reports/smtp", post(reports::save_smtp))
        .route("/reports/smtp/test", post(reports::test_smtp))
        .route("/reports/schedules", post(reports::add_schedule))
        .route(
            "/reports/schedules/{id}/delete",
            post(reports::delete_schedule),
        )
        .route("/reports/schedules/{id}/send", post(reports::send_now))
        .route("/dispatch", get(dispatch::queue))
        .route("/dispatch/events", get(dispatch::events))
        .route("/dispatch/loop", get(recovery::page))
        .route("/dispatch/notices", get(mass::page).post(mass::submit))
        .route("/dispatch/notices/{id}", get(mass::detail))
        .route("/support", get(support::page))
        .route("/calls", get(calls::page))
        .route("/calls/waiting", get(calls::waiting))
        .route("/dispatch/rules", get(rules::list).post(rules::save))
        .route("/dispatch/rules/callback", post(rules::save_callback))
        .route("/dispatch/rules/{id}/toggle", post(rules::toggle))
        .route("/dispatch/rules/{id}/delete", post(rules::delete))
        .route("/dispatch/{id}", get(dispatch::detail))
        .route("/dispatch/{id}/claim", post(dispatch::claim))
        .route("/dispatch/{id}/attempts", post(dispatch::attempt))
        .route("/dispatch/{id}/close", post(dispatch::close))
        .route("/dispatch/{id}/case", post(dispatch::to_case))
        .route("/static/live.js", get(live_script))
        .route("/static/status.js", get(status_script))
        .route("/embed.js", get(embed_script))
        .route("/embed", get(link::embed))
        .route("/c/{token}", get(case_status::show))
        .route("/c/{token}/events", get(case_status::events))
        .route("/c/{token}/messages", post(case_status::message))
        .route("/c/{token}/typing", post(case_status::typing))
        .route("/c/{token}/photos", post(case_status::photo))
        .route("/c/{token}/photos/{id}", get(case_status::photo_file))
        .route("/c/{token}/rating", post(case_status::rate))
        .route("/static/cases.js", get(cases::script))
        .route("/cases", get(cases::inbox))
        .route("/cases/events", get(cases::events))
        .route("/cases/new", get(cases::new_case).post(cases::create))
        .route("/cases/approvals", get(cases::approvals))
        .route("/cases/decisions", post(cases::decide))
        .route("/cases/{key}", get(cases::detail))
        .route("/cases/{key}/take", post(cases::take))
        .route("/cases/{key}/assign", post(cases::assign))
        .route("/cases/{key}/status", post(cases::status))
        .route("/cases/{key}/contacts", post(cases::contact))
        .route("/cases/{key}/calls", post(cases::attach_call))
        .route("/cases/{key}/typing", post(cases::typing))
        .route("/cases/{key}/photos/{id}", get(cases::photo))
        .route("/cases/{key}/fault", post(cases::fault))
        .route("/cases/{key}/remedies", post(cases::remedy))
        .route("/cases/{key}/reverse", post(cases::reverse))
        .route("/couriers", get(couriers::fleet))
        .route("/couriers/leaderboard", post(couriers::set_leaderboard))
        .route("/couriers/{id}", get(couriers::courier))
        .route("/dashboard/{file}", get(dashboard::download))
        .route("/surveys", get(surveys::list))
        .route("/surveys/new", get(surveys::new_form).post(surveys::create))
        .route("/surveys/{id}", get(surveys::detail))
        .route(
            "/surveys/{id}/edit",
            get(surveys::edit_form).post(surveys::publish),
        )
        .route(
            "/static/survey-editor.js",
            get(|| async { script(include_str!("../../../static/survey-editor.js")) }),
        )
        .route(
            "/static/console.js",
            get(|| async { script(include_str!("../../../static/console.js")) }),
        )
        .route(
            "/static/dashboard.js",
            get(|| async { script(include_str!("../../../static/dashboard.js")) }),
        )
        .route(
            "/static/calls.js",
            get(|| async { script(include_str!("../../../static/calls.js")) }),
        )
        .route(
            "/static/link.js",
            get(|| async { script(include_str!("../../../static/link.js")) }),
        )
        .merge(terminal::router())
        .fallback(not_found)
}

/// Empty form fields mean "no filter".
pub fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

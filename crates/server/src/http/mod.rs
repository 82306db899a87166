//! The HTTP face of Doorstep: the JSON API under `/api/v1`, the console's
//! pages, health and the OpenAPI document.

pub mod api;
pub mod auth;
pub mod error;
pub mod events;
pub mod pages;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request};
use axum::Router;
use doorstep_domain::survey::causes::{Tagger, Vocabulary};
use doorstep_domain::survey::SurveyDefinition;
use doorstep_domain::Deployment;
use doorstep_store::Store;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// What every handler can reach.
pub struct App {
    pub store: Store,
    /// Cached deployment settings; replaced when an admin saves new ones.
    deployment: RwLock<Deployment>,
    /// Failed sign-ins per login and address.
    pub sign_in_throttle: crate::security::Throttle,
    /// Failed enrolment codes per address.
    pub enrol_throttle: crate::security::Throttle,
    /// Where attachments (photos, voice) are kept.
    pub data_dir: std::path::PathBuf,
    /// Survey versions read so far. A version never changes once
    /// published, so it is kept for the life of the process.
    survey_versions: RwLock<HashMap<(String, i64), Arc<SurveyDefinition>>>,
    /// Each survey's current version and when that was read.
    current_versions: RwLock<HashMap<String, (i64, Instant)>>,
    /// Live events for `GET /api/v1/events` and the live pages.
    pub events: Arc<events::EventHub>,
    /// The cause vocabulary and its rules, ready to tag with.
    causes: RwLock<(Arc<Vocabulary>, Arc<Tagger>)>,
    /// The re-tagging of all answers after the rules changed.
    pub retag: crate::app::survey::causes::Retag,
}

/// A lock's contents, even after a panic elsewhere poisoned it (the maps
/// behind these locks are caches: any state of them is valid).
fn read_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How long "the current version of a survey" is trusted without asking the
/// database. A new version's `survey.published` event clears it on every
/// process within a second; this bounds a missed one.
const CURRENT_VERSION_TTL: Duration = Duration::from_mins(1);
/// Survey versions kept in memory at most (each is a few kilobytes).
const SURVEY_VERSIONS_KEPT: usize = 2_000;

/// Failed attempts allowed before a 15-minute wait.
const SIGN_IN_ATTEMPTS: u32 = 5;
const ENROL_ATTEMPTS: u32 = 10;
const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;

pub type AppState = Arc<App>;

impl App {
    pub async fn new(store: Store, data_dir: std::path::PathBuf) -> anyhow::Result<AppState> {
        let deployment = store.deployment().await?;
        let vocabulary = store.vocabulary().await?;
        let tagger = Arc::new(vocabulary.tagger());
        let events = Arc::new(events::EventHub::default());
        events.start(store.clone()).await?;
        let app = Arc::new(App {
            causes: RwLock::new((Arc::new(vocabulary), tagger)),
            retag: crate::app::survey::causes::Retag::default(),
            store,
            data_dir,
            survey_versions: RwLock::new(HashMap::new()),
            current_versions: RwLock::new(HashMap::new()),
            events,
            deployment: RwLock::new(deployment),
            sign_in_throttle: crate::security::Throttle::new(SIGN_IN_ATTEMPTS, THROTTLE_WINDOW_MS),
            enrol_throttle: crate::security::Throttle::new(ENROL_ATTEMPTS, THROTTLE_WINDOW_MS),
        });
        follow_changes(&app);
        Ok(app)
    }

    pub fn deployment(&self) -> Deployment {
        self.deployment
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// A survey at `version`, or at its current version: (version, definition).
    /// Read from memory when it can be; `None` when there is no such survey.
    pub async fn survey_version(
        &self,
        id: &str,
        version: Option<i64>,
    ) -> anyhow::Result<Option<(i64, Arc<SurveyDefinition>)>> {
        let wanted = version.or_else(|| {
            read_lock(&self.current_versions)
                .get(id)
                .filter(|(_, at)| at.elapsed() < CURRENT_VERSION_TTL)
                .map(|(v, _)| *v)
        });
        if let Some(v) = wanted {
            if let Some(d) = read_lock(&self.survey_versions).get(&(id.to_owned(), v)) {
                return Ok(Some((v, Arc::clone(d))));
            }
        }
        let Some(record) = self.store.survey(id, version).await? else {
            return Ok(None);
        };
        let definition: Arc<SurveyDefinition> =
            Arc::new(serde_json::from_str(&record.definition).map_err(|e| {
                anyhow::anyhow!("survey {id} v{} does not parse: {e}", record.version)
            })?);
        if version.is_none() {
            write_lock(&self.current_versions)
                .insert(id.to_owned(), (record.version, Instant::now()));
        }
        let mut kept = write_lock(&self.survey_versions);
        if kept.len() >= SURVEY_VERSIONS_KEPT {
            kept.clear();
        }
        kept.insert((id.to_owned(), record.version), Arc::clone(&definition));
        Ok(Some((record.version, definition)))
    }

    /// Forgets which version of a survey is current (after publishing one).
    pub fn survey_published(&self, id: &str) {
        self.current_versions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(id);
    }

    /// The cause vocabulary in force.
    pub fn vocabulary(&self) -> Arc<Vocabulary> {
        Arc::clone(&read_lock(&self.causes).0)
    }

    /// Its rules, ready to tag with.
    pub fn tagger(&self) -> Arc<Tagger> {
        Arc::clone(&read_lock(&self.causes).1)
    }

    /// Puts a saved vocabulary in force (new answers are tagged by it).
    pub fn set_vocabulary(&self, v: Vocabulary) {
        let tagger = Arc::new(v.tagger());
        *write_lock(&self.causes) = (Arc::new(v), tagger);
    }

    pub fn set_deployment(&self, d: Deployment) {
        *self
            .deployment
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = d;
    }
}

/// Keeps this process's caches in step with changes made anywhere (this
/// process, or another on the same database): each change writes an event
/// with its transaction, and every process reloads what it names.
fn follow_changes(app: &AppState) {
    let mut live = app.events.subscribe();
    let app = Arc::downgrade(app);
    tokio::spawn(async move {
        loop {
            let event = match live.recv().await {
                Ok(event) => Some(event),
                // Missed some: reload everything to be safe.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => None,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            let Some(app) = app.upgrade() else { return };
            let name = event.as_ref().map(|e| e.name.as_str());
            if matches!(name, None | Some("settings.changed")) {
                match app.store.deployment().await {
                    Ok(d) => app.set_deployment(d),
                    Err(e) => tracing::warn!(error = %e, "cannot reload the settings"),
                }
            }
            if matches!(name, None | Some("causes.changed")) {
                match app.store.vocabulary().await {
                    Ok(v) => app.set_vocabulary(v),
                    Err(e) => tracing::warn!(error = %e, "cannot reload the cause vocabulary"),
                }
            }
            match (name, event.as_ref()) {
                (None, _) => write_lock(&app.current_versions).clear(),
                (Some("survey.published"), Some(e)) => {
                    let id = serde_json::from_str::<serde_json::Value>(&e.data)
                        .ok()
                        .and_then(|d| d["id"].as_str().map(str::to_owned));
                    match id {
                        Some(id) => app.survey_published(&id),
                        None => write_lock(&app.current_versions).clear(),
                    }
                }
                _ => {}
            }
        }
    });
}

/// Largest request body the API accepts (a batch of 1,000 orders is ~0.5 MB).
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application, ready to serve.
pub fn router(state: AppState) -> Router {
    let (api, mut openapi) = api::router().split_for_parts();
    api::finish(&mut openapi);
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(api)
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = Arc::clone(&openapi);
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .merge(pages::router())
        .with_state(state)
        .layer(axum::middleware::from_fn(run_to_completion))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// What a console page may load: this server's own scripts, styles and
/// images (charts are inline SVG; photos come from this server or from
/// `blob:` on the terminal), nothing inline, no frames around it.
const PAGE_POLICY: &str =
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; \
     script-src 'self'; style-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Whether survey links and the console are served over HTTPS, as the
/// deployment's public address says.
static PUBLIC_HTTPS: std::sync::LazyLock<bool> = std::sync::LazyLock::new(|| {
    std::env::var("DOORSTEP_PUBLIC_URL")
        .is_ok_and(|u| u.trim().to_ascii_lowercase().starts_with("https://"))
});

/// Headers every answer carries unless it set its own: a page's content
/// security policy, nothing cached (pages and API answers carry customers'
/// data; static files set their own caching), no referrer to other sites,
/// no sniffing, no framing. Behind HTTPS (`X-Forwarded-Proto: https` from
/// the proxy, or an `https://` `DOORSTEP_PUBLIC_URL`) every cookie is
/// `Secure`.
async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::header;
    let https = *PUBLIC_HTTPS
        || request
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html {
        headers
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static(PAGE_POLICY));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers
        .entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("same-origin"));
    headers
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    headers
        .entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    if https {
        let cookies: Vec<HeaderValue> = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .cloned()
            .collect();
        if !cookies.is_empty() {
            headers.remove(header::SET_COOKIE);
            for cookie in cookies {
                let secure = match cookie.to_str() {
                    Ok(text) if !text.to_ascii_lowercase().contains("; secure") => {
                        HeaderValue::from_str(&format!("{text}; Secure")).unwrap_or(cookie)
                    }
                    _ => cookie,
                };
                headers.append(header::SET_COOKIE, secure);
            }
        }
    }
    response
}

/// Runs a request that may write (any method but GET, HEAD, OPTIONS and
/// TRACE) on a task of its own, which the connection does not own.
///
/// When a client gives up, hyper drops the request's future at whatever
/// `.await` it had reached. A write stopped there — between `BEGIN` and the
/// `Transaction` that would roll it back, say — could leave the connection
/// inside a transaction (on SQLite, the only writer: every later write then
/// failed). On its own task the write always completes or rolls back; the
/// client that left simply never hears the answer, and learns it when it
/// sends the same request again (each write is idempotent).
async fn run_to_completion(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if request.method().is_safe() {
        return next.run(request).await;
    }
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = %e, "a request's task failed");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Serves until Ctrl-C or SIGTERM, then lets in-flight requests finish for
/// at most `grace`: a request stuck on the database (a lock another process
/// holds, say) must not keep the process — and its hold on the database —
/// alive past what the service manager allows before it kills it.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    grace: Duration,
) -> std::io::Result<()> {
    // Connection info lets sign-in throttling tell callers apart.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let stopping = Arc::new(tokio::sync::Notify::new());
    let signalled = Arc::clone(&stopping);
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        signalled.notify_one();
    });
    tokio::select! {
        served = server => served,
        () = async {
            stopping.notified().await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(grace_seconds = grace.as_secs(), "requests still running after the grace period: stopping without them");
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

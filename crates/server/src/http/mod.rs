//! The HTTP face of Doorstep: the JSON API under `/api/v1`, the console's
//! pages, health and the OpenAPI document.

pub mod api;
pub mod auth;
pub mod error;
pub mod events;
pub mod pages;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request};
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use crate::app::{App, AppState};

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

/// The sites allowed to show survey pages in a frame (the company's
/// customer account, seed 000): `DOORSTEP_EMBED_ORIGINS`, space-separated
/// origins such as `https://my.company.example`. Without it, no site may.
static EMBED_POLICY: std::sync::LazyLock<Option<HeaderValue>> = std::sync::LazyLock::new(|| {
    let origins: Vec<String> = std::env::var("DOORSTEP_EMBED_ORIGINS")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|o| url::Url::parse(o).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .map(|u| u.origin().ascii_serialization())
        .collect();
    if origins.is_empty() {
        return None;
    }
    let policy = PAGE_POLICY.replace(
        "frame-ancestors 'none'",
        &format!("frame-ancestors {}", origins.join(" ")),
    );
    HeaderValue::from_str(&policy).ok()
});

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
    let survey_page = {
        let path = request.uri().path();
        path.starts_with("/s/") || path == "/embed"
    };
    let framable = survey_page && EMBED_POLICY.is_some();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if let (true, Some(policy)) = (survey_page, EMBED_POLICY.as_ref()) {
        // A survey page inside the company's account page: framed by the
        // allowed sites only (browsers follow frame-ancestors over
        // X-Frame-Options).
        headers.insert(header::CONTENT_SECURITY_POLICY, policy.clone());
    }
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
    if !framable {
        headers
            .entry(header::X_FRAME_OPTIONS)
            .or_insert(HeaderValue::from_static("DENY"));
    }
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

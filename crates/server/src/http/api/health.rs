//! `GET /healthz`: is the server up and does its database answer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;

use crate::http::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when the database does not answer or takes
    /// no write.
    status: &'static str,
    /// `sqlite` or `postgres`.
    database: &'static str,
    /// What is wrong, when something is.
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
}

/// How long the health check waits for a write to begin.
const WRITE_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Liveness and database check, for load balancers and monitoring: the
/// database answers and a write transaction can begin within 3 seconds
/// (a server whose writes are stuck is not healthy, however well it reads).
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health, description = "The database does not answer, or no write can begin")))]
pub async fn healthz(State(app): State<AppState>) -> (StatusCode, Json<Health>) {
    let database = app.store.backend().name();
    let store = app.store.clone();
    // On a task of its own: a probe that gives up never leaves the check
    // half-done on the write connection.
    let check = tokio::spawn(async move {
        store.ping().await?;
        store.check_writable().await
    });
    let problem = match tokio::time::timeout(WRITE_WAIT, check).await {
        Ok(Ok(Ok(()))) => None,
        Ok(Ok(Err(e))) => {
            tracing::error!(error = %e, "health check: no write could begin");
            Some("the database does not take a write (see the server's log)".to_owned())
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "health check: the check failed");
            Some("the check failed (see the server's log)".to_owned())
        }
        Err(_) => Some(format!(
            "no write could begin within {} s (the write connection is busy or stuck)",
            WRITE_WAIT.as_secs()
        )),
    };
    match problem {
        None => (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                database,
                problem: None,
            }),
        ),
        Some(problem) => {
            tracing::error!(%problem, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable",
                    database,
                    problem: Some(problem),
                }),
            )
        }
    }
}

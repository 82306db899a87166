//! Settings → Webhooks (admins only): subscriptions, each one's delivery
//! log with Resend, and the background jobs with their last errors.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use doorstep_domain::time::{format_local, from_millis};
use serde::Deserialize;

use super::settings::SecretPage;
use super::{render, Chrome, OrPage, PageError, PageResult};
use crate::http::auth::{AdminOnly, NoFields, Staff, StaffForm};
use crate::http::AppState;
use crate::webhooks::{SubscribeError, EVENT_TYPES};

pub struct WebhookRow {
    pub id: String,
    pub url: String,
    pub events: String,
    pub allow_private: bool,
    /// active, failing or disabled.
    pub state: &'static str,
    pub state_label: String,
    pub state_note: String,
    pub created: String,
}

pub struct JobRow {
    pub id: String,
    pub next_run: String,
    pub running: bool,
    pub last_ok: String,
    pub attempts: i64,
    pub last_error: String,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    c: Chrome,
    notice: Option<String>,
    error: Option<String>,
    hooks: Vec<WebhookRow>,
    jobs: Vec<JobRow>,
    /// (event type, checked) for the form.
    types: Vec<(&'static str, bool)>,
    url: String,
    allow_private: bool,
}

#[derive(Deserialize, Default)]
pub struct WebhooksQuery {
    done: Option<String>,
}

fn state_of(
    w: &doorstep_store::webhooks::Webhook,
    fmt: &dyn Fn(i64) -> String,
    t: crate::i18n::Tr<'_>,
) -> (&'static str, String) {
    if !w.enabled {
        return ("disabled", w.disabled_reason.clone().unwrap_or_default());
    }
    match w.failing_since {
        Some(since) => (
            "failing",
            t.with("webhooks-failing-since", "since", fmt(since)),
        ),
        None => ("active", String::new()),
    }
}

async fn list_page(
    app: &AppState,
    user: &crate::http::auth::CurrentUser,
    notice: Option<String>,
    error: Option<String>,
    form: Option<&WebhookForm>,
) -> PageResult {
    let c = Chrome::new(app, user, "/settings", "webhooks-title");
    let t = c.tr;
    let tz = app.deployment().tz();
    let fmt = |ms: i64| format_local(from_millis(ms), &tz);
    let hooks = app.store.webhooks().await.page(user.lang)?;
    let jobs = app.store.jobs().await.page(user.lang)?;
    let now = doorstep_store::now_millis();
    let view = WebhooksPage {
        hooks: hooks
            .iter()
            .map(|w| {
                let (state, state_note) = state_of(w, &fmt, t);
                WebhookRow {
                    state_label: t.t(&format!("webhooks-state-{state}")),
                    id: w.id.clone(),
                    url: w.url.clone(),
                    events: w.event_types.join(", "),
                    allow_private: w.allow_private,
                    state,
                    state_note,
                    created: fmt(w.created_at),
                }
            })
            .collect(),
        jobs: jobs
            .into_iter()
            .map(|j| JobRow {
                running: j.locked_until.is_some_and(|u| u >= now),
                next_run: if j.run_after <= now {
                    t.t("webhooks-job-due")
                } else {
                    fmt(j.run_after)
                },
                last_ok: j.last_ok_at.map(fmt).unwrap_or_default(),
                attempts: j.attempts,
                last_error: j.last_error.unwrap_or_default(),
                id: j.id,
            })
            .collect(),
        types: EVENT_TYPES
            .iter()
            .map(|e| (*e, form.is_none_or(|f| f.events().contains(e))))
            .collect(),
        url: form.map(|f| f.url.clone()).unwrap_or_default(),
        allow_private: form.is_some_and(|f| f.allow_private.is_some()),
        notice,
        error,
        c,
    };
    Ok(render(&view))
}

pub async fn page(
    State(app): State<AppState>,
    Staff(user, _): Staff<AdminOnly>,
    Query(q): Query<WebhooksQuery>,
) -> PageResult {
    let t = crate::i18n::tr(user.lang);
    let notice = q.done.as_deref().map(|what| match what {
        "removed" => t.t("webhooks-removed"),
        _ => t.t("webhooks-enabled"),
    });
    list_page(&app, &user, notice, None, None).await
}

#[derive(Deserialize)]
pub struct WebhookForm {
    #[serde(default)]
    url: String,
    allow_private: Option<String>,
    /// The checked event types, as `event:TYPE=on`.
    #[serde(flatten)]
    rest: std::collections::HashMap<String, String>,
}

impl WebhookForm {
    fn events(&self) -> Vec<&'static str> {
        EVENT_TYPES
            .iter()
            .copied()
            .filter(|t| self.rest.contains_key(&format!("event:{t}")))
            .collect()
    }
}

pub async fn add(
    State(app): State<AppState>,
    StaffForm(user, f, _): StaffForm<AdminOnly, WebhookForm>,
) -> PageResult {
    let t = crate::i18n::tr(user.lang);
    if f.events().is_empty() {
        return list_page(&app, &user, None, Some(t.t("webhooks-no-events")), Some(&f)).await;
    }
    match crate::webhooks::subscribe(
        &app.store,
        &f.url,
        &f.events().join(","),
        f.allow_private.is_some(),
        &user.login,
    )
    .await
    {
        Ok(made) => {
            tracing::info!(by = %user.login, webhook = %made.webhook.id, url = %made.webhook.url, "webhook added");
            let c = Chrome::new(&app, &user, "/settings", "webhooks-title");
            let view = SecretPage {
                heading: c
                    .tr
                    .with("webhooks-secret-heading", "url", made.webhook.url),
                explain: c.tr.t("webhooks-secret-explain"),
                secret: made.secret,
                link: None,
                back: "/settings/webhooks",
                c,
            };
            Ok(render(&view))
        }
        Err(SubscribeError::Invalid(why)) => {
            list_page(&app, &user, None, Some(why), Some(&f)).await
        }
        Err(SubscribeError::Store(e)) => Err(e).page(user.lang),
    }
}

pub struct DeliveryRow {
    pub event_id: i64,
    pub event: String,
    pub state: String,
    pub attempts: i64,
    pub status: String,
    pub duration: String,
    pub error: String,
    pub when: String,
    pub next: String,
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct WebhookPage {
    c: Chrome,
    notice: Option<String>,
    hook: WebhookRow,
    /// Queued, delivered and failed, as a sentence.
    counts: String,
    /// What the oldest queued delivery waits for, when it was tried.
    head: Option<String>,
    deliveries: Vec<DeliveryRow>,
}

/// Deliveries shown in the log.
const LOG_ROWS: i64 = 100;

pub async fn detail(
    State(app): State<AppState>,
    Staff(user, _): Staff<AdminOnly>,
    Path(id): Path<String>,
    Query(q): Query<WebhooksQuery>,
) -> PageResult {
    let lang = user.lang;
    let webhook = app
        .store
        .webhook(&id)
        .await
        .page(lang)?
        .ok_or(PageError::NotFound(lang))?;
    let deliveries = app
        .store
        .webhook_deliveries(&id, LOG_ROWS)
        .await
        .page(lang)?;
    let counts = app.store.webhook_delivery_counts(&id).await.page(lang)?;
    let head = app.store.next_webhook_delivery(&id).await.page(lang)?;
    let c = Chrome::new(&app, &user, "/settings", "webhooks-title");
    let t = c.tr;
    let tz = app.deployment().tz();
    let fmt = |ms: i64| format_local(from_millis(ms), &tz);
    let (state, state_note) = state_of(&webhook, &fmt, t);
    let view = WebhookPage {
        notice: q.done.as_deref().map(|_| t.t("webhooks-resend-queued")),
        counts: t.args(
            "webhooks-counts",
            vec![
                ("pending", counts.pending.into()),
                ("delivered", counts.delivered.into()),
                ("failed", counts.failed.into()),
            ],
        ),
        head: head.filter(|(d, _)| d.attempts > 0).map(|(d, _)| {
            t.args(
                "webhooks-head",
                vec![
                    ("event", d.event_id.into()),
                    ("at", fmt(d.next_attempt_at).into()),
                    ("error", d.last_error.unwrap_or_default().into()),
                ],
            )
        }),
        hook: WebhookRow {
            state_label: t.t(&format!("webhooks-state-{state}")),
            id: webhook.id.clone(),
            url: webhook.url.clone(),
            events: webhook.event_types.join(", "),
            allow_private: webhook.allow_private,
            state,
            state_note,
            created: fmt(webhook.created_at),
        },
        deliveries: deliveries
            .into_iter()
            .map(|d| DeliveryRow {
                event_id: d.event_id,
                event: d.event_name,
                state: t.t(&format!("webhooks-delivery-{}", d.state)),
                attempts: d.attempts,
                status: d.last_status.map(|s| s.to_string()).unwrap_or_default(),
                duration: d
                    .last_duration_ms
                    .map(|ms| format!("{ms} ms"))
                    .unwrap_or_default(),
                error: d.last_error.unwrap_or_default(),
                when: fmt(d.updated_at),
                next: if d.state == "pending" {
                    fmt(d.next_attempt_at)
                } else {
                    String::new()
                },
            })
            .collect(),
        c,
    };
    Ok(render(&view))
}

pub async fn resend(
    State(app): State<AppState>,
    Path((id, event)): Path<(String, i64)>,
    StaffForm(user, NoFields {}, _): StaffForm<AdminOnly, NoFields>,
) -> PageResult {
    if !app
        .store
        .resend_webhook_delivery(&id, event)
        .await
        .page(user.lang)?
    {
        return Err(PageError::NotFound(user.lang));
    }
    tracing::info!(by = %user.login, webhook = %id, event, "webhook delivery queued again");
    Ok(Redirect::to(&format!("/settings/webhooks/{id}?done=resend")).into_response())
}

pub async fn enable(
    State(app): State<AppState>,
    Path(id): Path<String>,
    StaffForm(user, NoFields {}, _): StaffForm<AdminOnly, NoFields>,
) -> PageResult {
    if !app
        .store
        .set_webhook_enabled(&id, true, None)
        .await
        .page(user.lang)?
    {
        return Err(PageError::NotFound(user.lang));
    }
    tracing::info!(by = %user.login, webhook = %id, "webhook enabled");
    Ok(Redirect::to("/settings/webhooks?done=enabled").into_response())
}

pub async fn remove(
    State(app): State<AppState>,
    Path(id): Path<String>,
    StaffForm(user, NoFields {}, _): StaffForm<AdminOnly, NoFields>,
) -> PageResult {
    if !app.store.delete_webhook(&id).await.page(user.lang)? {
        return Err(PageError::NotFound(user.lang));
    }
    tracing::info!(by = %user.login, webhook = %id, "webhook removed");
    Ok(Redirect::to("/settings/webhooks?done=removed").into_response())
}

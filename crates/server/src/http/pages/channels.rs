//! Settings → Channels: each line's mailbox (with when it was last read
//! and why it failed, if it did) and the messenger gateways, set up and
//! removed by an admin. The same checks as `doorstep mailbox` and
//! `doorstep gateway` (see `app::helpdesk::channels`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use doorstep_domain::helpdesk::cases::Line;
use doorstep_domain::time::{format_local, from_millis};
use serde::Deserialize;

use super::settings::SecretPage;
use super::{render, Chrome, OrPage, PageError, PageResult};
use crate::app::helpdesk::channels::{
    add_gateway, gateway_hook, save_mailbox, GatewayRefusal, MailboxInput, MailboxRefusal,
    GATEWAY_CHANNELS,
};
use crate::http::auth::{AdminOnly, CurrentUser, NoFields, Staff, StaffForm};
use crate::http::AppState;
use crate::i18n::Tr;

/// A mailbox as the table shows it.
pub struct MailboxRow {
    pub line: String,
    pub line_label: String,
    pub address: String,
    pub account: String,
    pub folder: String,
    pub read: String,
    pub failed: Option<String>,
}

/// A gateway as the table shows it.
pub struct GatewayRow {
    pub id: String,
    pub name: String,
    pub channel: String,
    pub hook: String,
    pub heard: String,
}

#[derive(Template)]
#[template(path = "channels.html")]
struct ChannelsPage {
    c: Chrome,
    /// The phone queues and the line each serves.
    queues: Vec<(String, String)>,
    /// The service-level target as the form shows it (`80/20`).
    service_level: String,
    /// The agents who answered calls and the person each is (user id,
    /// `""`: nobody said).
    agents: Vec<(String, String)>,
    /// The people of the console to choose from: (user id, login).
    people: Vec<(String, String)>,
    /// The contact reasons as the form shows them.
    reasons: String,
    /// The chat's assistant answers before a person joins.
    assistant: bool,
    mailboxes: Vec<MailboxRow>,
    gateways: Vec<GatewayRow>,
    /// The lines to choose from: (value, label).
    lines: Vec<(String, String)>,
    /// The gateways' channels to choose from: (value, label).
    channels: Vec<(String, String)>,
    /// What the mailbox form shows (a refused form keeps what was typed,
    /// but the password).
    mailbox: MailboxForm,
    gateway: GatewayForm,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MailboxForm {
    #[serde(default)]
    line: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    port: String,
    #[serde(default)]
    security: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    folder: String,
}

impl Default for MailboxForm {
    fn default() -> Self {
        MailboxForm {
            line: Line::Customers.as_str().to_owned(),
            address: String::new(),
            host: String::new(),
            port: String::new(),
            security: "tls".to_owned(),
            username: String::new(),
            password: String::new(),
            folder: "INBOX".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct GatewayForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    channel: String,
}

impl Default for GatewayForm {
    fn default() -> Self {
        GatewayForm {
            name: String::new(),
            channel: "messenger".to_owned(),
        }
    }
}

fn line_label(t: Tr<'_>, line: &str) -> String {
    t.t(&format!("line-{line}"))
}

async fn page(
    app: &AppState,
    user: &CurrentUser,
    notice: Option<String>,
    error: Option<String>,
    mailbox: MailboxForm,
    gateway: GatewayForm,
    reasons_typed: Option<String>,
) -> PageResult {
    let c = Chrome::new(app, user, "/settings", "channels-title");
    let t = c.tr;
    let tz = app.deployment().tz();
    let when = |ms: i64| format_local(from_millis(ms), &tz);
    let mailboxes = app
        .store
        .mailboxes()
        .await
        .page(user.lang)?
        .into_iter()
        .map(|m| MailboxRow {
            line_label: line_label(t, &m.line),
            account: format!("{} @ {}:{} ({})", m.username, m.host, m.port, m.security),
            read: m
                .checked_at
                .map_or_else(|| t.t("channels-never-read"), when),
            failed: m.last_error.clone(),
            line: m.line,
            address: m.address,
            folder: m.folder,
        })
        .collect();
    let gateways = app
        .store
        .gateways()
        .await
        .page(user.lang)?
        .into_iter()
        .map(|g| GatewayRow {
            hook: gateway_hook(&g),
            heard: g
                .last_message_at
                .map_or_else(|| t.t("channels-never-heard"), when),
            channel: t.t(&format!("channel-{}", g.channel)),
            id: g.id,
            name: g.name,
        })
        .collect();
    let queues = app.store.call_queue_lines().await.page(user.lang)?;
    let target = crate::app::calls::ServiceLevel::of(&app.store)
        .await
        .page(user.lang)?;
    let people: Vec<(String, String)> = app
        .store
        .users()
        .await
        .page(user.lang)?
        .into_iter()
        .map(|u| (u.id, u.login))
        .collect();
    let agents = app
        .store
        .call_agent_people()
        .await
        .page(user.lang)?
        .into_iter()
        .map(|(agent, person)| (agent, person.unwrap_or_default()))
        .collect();
    let reasons = match reasons_typed {
        Some(text) => text,
        None => crate::app::calls::reasons_text(
            &crate::app::calls::reasons(&app.store)
                .await
                .page(user.lang)?,
        ),
    };
    let assistant = crate::app::helpdesk::bot::enabled(&app.store)
        .await
        .page(user.lang)?;
    let view = ChannelsPage {
        assistant,
        agents,
        people,
        reasons,
        queues,
        service_level: format!("{}/{}", target.percent, target.seconds),
        mailboxes,
        gateways,
        lines: Line::ALL
            .iter()
            .map(|l| (l.as_str().to_owned(), line_label(t, l.as_str())))
            .collect(),
        channels: GATEWAY_CHANNELS
            .iter()
            .map(|ch| ((*ch).to_owned(), t.t(&format!("channel-{ch}"))))
            .collect(),
        mailbox: MailboxForm {
            password: String::new(),
            ..mailbox
        },
        gateway,
        notice,
        error,
        c,
    };
    Ok(render(&view))
}

/// The page again with an error above it, the forms as new.
async fn refused(app: &AppState, user: &CurrentUser, error: String) -> PageResult {
    page(
        app,
        user,
        None,
        Some(error),
        MailboxForm::default(),
        GatewayForm::default(),
        None,
    )
    .await
}

#[derive(Deserialize, Default)]
pub struct ChannelsQuery {
    saved: Option<String>,
    removed: Option<String>,
    gateway_removed: Option<String>,
    queue: Option<String>,
    service_level: Option<String>,
    agent: Option<String>,
    reasons: Option<String>,
    assistant: Option<String>,
}

pub async fn show(
    State(app): State<AppState>,
    Staff(user, _): Staff<AdminOnly>,
    Query(q): Query<ChannelsQuery>,
) -> PageResult {
    let t = crate::i18n::tr(user.lang);
    let notice = if let Some(line) = q.saved.as_deref().and_then(Line::parse) {
        Some(t.with(
            "channels-mailbox-saved",
            "line",
            line_label(t, line.as_str()),
        ))
    } else if let Some(line) = q.removed.as_deref().and_then(Line::parse) {
        Some(t.with(
            "channels-mailbox-removed",
            "line",
            line_label(t, line.as_str()),
        ))
    } else if let Some(queue) = q.queue {
        Some(t.with("channels-queue-saved", "queue", queue))
    } else if q.service_level.is_some() {
        Some(t.t("channels-service-level-saved"))
    } else if let Some(agent) = q.agent {
        Some(t.with("channels-agent-saved", "agent", agent))
    } else if q.reasons.is_some() {
        Some(t.t("channels-reasons-saved"))
    } else if let Some(on) = q.assistant.as_deref() {
        Some(t.t(if on == "on" {
            "channels-assistant-on"
        } else {
            "channels-assistant-off"
        }))
    } else {
        q.gateway_removed
            .is_some()
            .then(|| t.t("channels-gateway-removed"))
    };
    page(
        &app,
        &user,
        notice,
        None,
        MailboxForm::default(),
        GatewayForm::default(),
        None,
    )
    .await
}

/// What a refused mailbox says, in the person's language.
fn mailbox_error(t: Tr<'_>, refusal: &MailboxRefusal) -> String {
    match refusal {
        MailboxRefusal::Line => t.t("mailbox-error-line"),
        MailboxRefusal::Address(v) => t.with("mailbox-error-address", "value", v.clone()),
        MailboxRefusal::Host(v) => t.with("mailbox-error-host", "value", v.clone()),
        MailboxRefusal::Security => t.t("mailbox-error-security"),
        MailboxRefusal::Username => t.t("mailbox-error-username"),
        MailboxRefusal::Password => t.t("mailbox-error-password"),
        MailboxRefusal::Folder => t.t("mailbox-error-folder"),
        MailboxRefusal::Unreadable(why) => t.with("mailbox-error-unreadable", "why", why.clone()),
        MailboxRefusal::Store(e) => e.to_string(),
    }
}

/// Sets a line's mailbox once Doorstep could sign in and open its folder.
pub async fn set_mailbox(
    State(app): State<AppState>,
    StaffForm(user, form, _): StaffForm<AdminOnly, MailboxForm>,
) -> PageResult {
    let t = crate::i18n::tr(user.lang);
    let port = form.port.trim();
    let port = if port.is_empty() {
        None
    } else if let Ok(p) = port.parse::<u16>() {
        Some(p)
    } else {
        let error = t.with("mailbox-error-port", "value", port.to_owned());
        return page(
            &app,
            &user,
            None,
            Some(error),
            form,
            GatewayForm::default(),
            None,
        )
        .await;
    };
    let input = MailboxInput {
        line: form.line.clone(),
        address: form.address.clone(),
        host: form.host.clone(),
        port,
        security: form.security.clone(),
        username: form.username.clone(),
        password: form.password.clone(),
        folder: form.folder.clone(),
    };
    match save_mailbox(&app.store, &input, true).await {
        Ok(m) => {
            tracing::info!(by = %user.login, line = %m.line, host = %m.host, "a line's mailbox set");
            Ok(Redirect::to(&format!("/settings/channels?saved={}", m.line)).into_response())
        }
        Err(MailboxRefusal::Store(e)) => Err(super::failed(user.lang, e)),
        Err(refusal) => {
            let error = mailbox_error(t, &refusal);
            page(
                &app,
                &user,
                None,
                Some(error),
                form,
                GatewayForm::default(),
                None,
            )
            .await
        }
    }
}

pub async fn remove_mailbox(
    State(app): State<AppState>,
    Path(line): Path<String>,
    StaffForm(user, NoFields {}, _): StaffForm<AdminOnly, NoFields>,
) -> PageResult {
    if !app.store.remove_mailbox(&line).await.page(user.lang)? {
        return Err(PageError::NotFound(user.lang));
    }
    tracing::info!(by = %user.login, %line, "a line's mailbox removed");
    Ok(Redirect::to(&format!("/settings/channels?removed={line}")).into_response())
}

/// Adds a gateway and shows its signing secret, once.
pub async fn create_gateway(
    State(app): State<AppState>,
    StaffForm(user, form, _): StaffForm<AdminOnly, GatewayForm>,
) -> PageResult {
    let t = crate::i18n::tr(user.lang);
    match add_gateway(&app.store, &form.name, &form.channel).await {
        Ok((g, secret)) => {
            tracing::info!(by = %user.login, gateway = %g.name, "a gateway added");
            let c = Chrome::new(&app, &user, "/settings", "channels-title");
            Ok(render(&SecretPage {
                heading: t.with("channels-gateway-added", "name", g.name.clone()),
                explain: t.with("channels-gateway-secret-explain", "url", gateway_hook(&g)),
                secret,
                link: None,
                back: "/settings/channels",
                c,
            }))
        }
        Err(GatewayRefusal::Store(e)) => Err(super::failed(user.lang, e)),
        Err(refusal) => {
            let error = match &refusal {
                GatewayRefusal::Name(v) => t.with("gateway-error-name", "value", v.clone()),
                GatewayRefusal::EmailName => t.t("gateway-error-email"),
                GatewayRefusal::Channel => t.t("gateway-error-channel"),
                GatewayRefusal::Taken(v) => t.with("gateway-error-taken", "value", v.clone()),
                GatewayRefusal::Store(e) => e.to_string(),
            };
            page(
                &app,
                &user,
                None,
                Some(error),
                MailboxForm::default(),
                form,
                None,
            )
            .await
        }
    }
}

pub async fn remove_gateway(
    State(app): State<AppState>,
    Path(id): Path<String>,
    StaffForm(user, NoFields {}, _): StaffForm<AdminOnly, NoFields>,
) -> PageResult {
    if !app.store.remove_gateway(&id).await.page(user.lang)? {
        return Err(PageError::NotFound(user.lang));
    }
    tracing::info!(by = %user.login, gateway = %id, "a gateway removed");
    Ok(Redirect::to("/settings/channels?gateway_removed=1").into_response())
}

#[derive(Deserialize)]
pub struct QueueForm {
    #[serde(default)]
    queue: String,
    #[serde(default)]
    line: String,
}

/// Says which line a phone queue serves.
pub async fn set_queue_line(
    State(app): State<AppState>,
    StaffForm(user, form, _): StaffForm<AdminOnly, QueueForm>,
) -> PageResult {
    let t = crate::i18n::tr(user.lang);
    let queue = form.queue.trim();
    let Some(line) = Line::parse(form.line.trim()) else {
        let error = t.t("mailbox-error-line");
        return refused(&app, &user, error).await;
    };
    if queue.is_empty() || queue.chars().count() > 200 {
        return Err(PageError::NotFound(user.lang));
    }
    app.store
        .set_call_queue_line(queue, line.as_str())
        .await
        .page(user.lang)?;
    tracing::info!(by = %user.login, %queue, line = line.as_str(), "a queue's line set");
    let back = format!(
        "/settings/channels?queue={}#phone",
        super::orders::encode(queue)
    );
    Ok(Redirect::to(&back).into_response())
}

#[derive(Deserialize)]
pub struct ServiceLevelForm {
    #[serde(default)]
    service_level: String,
}

/// Sets the service-level target X/Y the call figures are judged by.
pub async fn set_service_level(
    State(app): State<AppState>,
    StaffForm(user, form, _): StaffForm<AdminOnly, ServiceLevelForm>,
) -> PageResult {
    use crate::app::calls::{ServiceLevel, SERVICE_LEVEL_SETTING};
    let t = crate::i18n::tr(user.lang);
    match ServiceLevel::parse(&form.service_level) {
        Ok(target) => {
            let value = format!("{}/{}", target.percent, target.seconds);
            app.store
                .set_setting(SERVICE_LEVEL_SETTING, &value)
                .await
                .page(user.lang)?;
            tracing::info!(by = %user.login, target = %value, "service-level target set");
            crate::app::calls::keep_slots_current_soon(&app.store);
            Ok(Redirect::to("/settings/channels?service_level=1#phone").into_response())
        }
        Err(why) => {
            let error = t.with("service-level-error", "why", why);
            refused(&app, &user, error).await
        }
    }
}

#[derive(Deserialize)]
pub struct AgentForm {
    #[serde(default)]
    agent: String,
    /// A user id; empty: nobody.
    #[serde(default)]
    person: String,
}

/// Says which person of the console a PBX agent is.
pub async fn set_agent_person(
    State(app): State<AppState>,
    StaffForm(user, form, _): StaffForm<AdminOnly, AgentForm>,
) -> PageResult {
    let t = crate::i18n::tr(user.lang);
    let agent = form.agent.trim();
    if agent.is_empty() || agent.chars().count() > 200 {
        return Err(PageError::NotFound(user.lang));
    }
    let person = form.person.trim();
    let person = if person.is_empty() {
        None
    } else {
        let users = app.store.users().await.page(user.lang)?;
        if !users.iter().any(|u| u.id == person) {
            return refused(&app, &user, t.t("channels-agent-no-person")).await;
        }
        Some(person)
    };
    app.store
        .set_call_agent_person(agent, person)
        .await
        .page(user.lang)?;
    tracing::info!(by = %user.login, %agent, "an agent's person set");
    let back = format!(
        "/settings/channels?agent={}#agents",
        super::orders::encode(agent)
    );
    Ok(Redirect::to(&back).into_response())
}

#[derive(Deserialize)]
pub struct ReasonsForm {
    #[serde(default)]
    reasons: String,
}

/// Sets the list of contact reasons calls are wrapped up with.
pub async fn set_reasons(
    State(app): State<AppState>,
    StaffForm(user, form, _): StaffForm<AdminOnly, ReasonsForm>,
) -> PageResult {
    let t = crate::i18n::tr(user.lang);
    match crate::app::calls::parse_reasons(&form.reasons) {
        Ok(reasons) => {
            let value = serde_json::to_string(&reasons).unwrap_or_default();
            app.store
                .set_setting(crate::app::calls::REASONS_SETTING, &value)
                .await
                .page(user.lang)?;
            tracing::info!(by = %user.login, reasons = reasons.len(), "contact reasons set");
            Ok(Redirect::to("/settings/channels?reasons=1#reasons").into_response())
        }
        Err(why) => {
            page(
                &app,
                &user,
                None,
                Some(t.with("channels-reasons-error", "why", why)),
                MailboxForm::default(),
                GatewayForm::default(),
                Some(form.reasons),
            )
            .await
        }
    }
}

/// Turns the chat's assistant on or off.
pub async fn set_assistant(
    State(app): State<AppState>,
    StaffForm(user, form, _): StaffForm<AdminOnly, super::SwitchForm>,
) -> PageResult {
    super::switch_setting(
        &app,
        &user,
        crate::app::helpdesk::bot::SETTING,
        form.on(),
        "/settings/channels",
        "assistant",
    )
    .await
}

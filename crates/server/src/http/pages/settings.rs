//! Settings (admins only): the deployment, people's accounts, API tokens and
//! terminal enrolment.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use doorstep_domain::time::{format_local, from_millis};
use doorstep_domain::{Country, Deployment, Role, TokenRole};
use serde::Deserialize;

use super::{render, Chrome, OrPage, PageResult};
use crate::app::accounts::{
    check_new_account, issue_enrollment_code, issue_token, ENROLLMENT_HOURS,
};
use crate::http::auth::{AdminOnly, NoFields, Staff, StaffForm};
use crate::http::AppState;
use crate::security::hash_password;

pub struct UserRow {
    pub login: String,
    pub role: String,
    pub language: String,
    pub created: String,
}

pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub courier: String,
    pub created: String,
    pub last_used: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    c: Chrome,
    d: Deployment,
    notice: Option<String>,
    error: Option<String>,
    /// (code, name and calling code, chosen)
    countries: Vec<(&'static str, String, bool)>,
    zones: Vec<String>,
    roles: Vec<(&'static str, String)>,
    users: Vec<UserRow>,
    tokens: Vec<TokenRow>,
    couriers: Vec<(String, String)>,
    /// URLs of webhooks disabled after failing: a notice to admins.
    disabled_webhooks: Vec<String>,
    /// The operators' limit in major units, as the form shows it.
    operator_limit: String,
}

#[derive(Deserialize, Default)]
pub struct SettingsQuery {
    saved: Option<String>,
}

async fn settings_page(
    app: &AppState,
    user: &crate::http::auth::CurrentUser,
    d: Deployment,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult {
    let c = Chrome::new(app, user, "/settings", "settings-title");
    let t = c.tr;
    let tz = app.deployment().tz();
    let fmt = |ms: i64| format_local(from_millis(ms), &tz);
    let users = app.store.users().await.page(user.lang)?;
    let tokens = app.store.tokens().await.page(user.lang)?;
    let couriers = app.store.couriers().await.page(user.lang)?;
    let webhooks = app.store.webhooks().await.page(user.lang)?;
    let view = SettingsPage {
        operator_limit: if d.operator_limit < 0 {
            String::new()
        } else {
            doorstep_domain::Money::from_minor(d.operator_limit).plain()
        },
        countries: Country::all()
            .iter()
            .map(|c| {
                let name = format!(
                    "{} (+{})",
                    t.t(&format!("country-{}", c.code)),
                    c.calling_code
                );
                (c.code, name, c.code == d.phone_country)
            })
            .collect(),
        zones: jiff::tz::db().available().map(|z| z.to_string()).collect(),
        roles: Role::ALL
            .iter()
            .map(|r| (r.as_str(), t.t(&format!("role-{}", r.as_str()))))
            .collect(),
        users: users
            .into_iter()
            .map(|u| UserRow {
                role: t.t(&format!("role-{}", u.role)),
                language: crate::i18n::Lang::parse(&u.language)
                    .map_or(u.language.clone(), |l| l.native_name().to_owned()),
                created: fmt(u.created_at),
                login: u.login,
            })
            .collect(),
        tokens: tokens
            .into_iter()
            .map(|k| TokenRow {
                role: t.t(&format!("role-{}", k.role)),
                courier: k.courier_id.unwrap_or_default(),
                created: fmt(k.created_at),
                last_used: k.last_used_at.map(fmt).unwrap_or_default(),
                revoked: k.revoked_at.is_some(),
                id: k.id,
                name: k.name,
            })
            .collect(),
        couriers: couriers
            .into_iter()
            .map(|(id, name)| {
                let label = name.map_or_else(|| id.clone(), |n| format!("{n} ({id})"));
                (id, label)
            })
            .collect(),
        disabled_webhooks: webhooks
            .into_iter()
            .filter(|w| !w.enabled)
            .map(|w| w.url)
            .collect(),
        d,
        notice,
        error,
        c,
    };
    Ok(render(&view))
}

pub async fn page(
    State(app): State<AppState>,
    Staff(user, _): Staff<AdminOnly>,
    Query(q): Query<SettingsQuery>,
) -> PageResult {
    let t = crate::i18n::tr(user.lang);
    let notice = q.saved.as_deref().map(|what| match what {
        "deployment" => t.t("settings-saved"),
        "user" => t.t("settings-user-added"),
        _ => t.t("settings-token-revoked"),
    });
    settings_page(&app, &user, app.deployment(), notice, None).await
}

#[derive(Deserialize)]
pub struct DeploymentForm {
    name: String,
    time_zone: String,
    phone_country: String,
    currency: String,
    #[serde(default)]
    refusal_policy: String,
    /// In major units, as people write money ("1000", "1 000,50").
    #[serde(default)]
    operator_limit: String,
}

pub async fn save_deployment(
    State(app): State<AppState>,
    StaffForm(user, f, _): StaffForm<AdminOnly, DeploymentForm>,
) -> PageResult {
    let typed = Deployment {
        name: f.name,
        time_zone: f.time_zone,
        phone_country: f.phone_country,
        currency: f.currency,
        refusal_policy: doorstep_domain::survey::metrics::RefusalPolicy::parse(&f.refusal_policy)
            .unwrap_or_default(),
        // Left out (an older form): the limit stays as it is.
        operator_limit: match f.operator_limit.trim() {
            "" => app.deployment().operator_limit,
            typed => doorstep_domain::Money::parse(typed).map_or(-1, doorstep_domain::Money::minor),
        },
    };
    match typed.clone().validated() {
        Ok(d) => {
            app.store.save_deployment(&d).await.page(user.lang)?;
            tracing::info!(by = %user.login, "deployment settings saved");
            let zone_changed = app.deployment().time_zone != d.time_zone;
            app.set_deployment(d.clone());
            if zone_changed {
                // SLA deadlines are counted in the zone's working hours.
                app.store.rejudge_open_cases().await.page(user.lang)?;
                // Days and weeks are local: the rollups follow the new zone.
                let app = std::sync::Arc::clone(&app);
                tokio::spawn(async move {
                    match app.store.rebuild_rollups(&d.tz(), |_| {}).await {
                        Ok(n) => {
                            tracing::info!(responses = n, zone = %d.time_zone, "rollups rebuilt for the new time zone");
                            // Cause tags are filed by local day too.
                            crate::app::survey::causes::start(&app);
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "rollups could not be rebuilt; run `doorstep rollups rebuild`");
                        }
                    }
                });
            }
            Ok(Redirect::to("/settings?saved=deployment").into_response())
        }
        Err(e) => settings_page(&app, &user, typed, None, Some(e.to_string())).await,
    }
}

#[derive(Deserialize)]
pub struct UserForm {
    login: String,
    role: String,
    password: String,
}

pub async fn add_user(
    State(app): State<AppState>,
    StaffForm(user, f, _): StaffForm<AdminOnly, UserForm>,
) -> PageResult {
    let login = f.login.trim().to_owned();
    let role: Role = match f.role.parse() {
        Ok(r) => r,
        Err(e) => {
            return settings_page(&app, &user, app.deployment(), None, Some(format!("{e}"))).await
        }
    };
    if let Err(message) = check_new_account(&login, &f.password) {
        return settings_page(&app, &user, app.deployment(), None, Some(message)).await;
    }
    let password = f.password;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .page(user.lang)?
        .page(user.lang)?;
    match app
        .store
        .create_user(&login, &hash, role.as_str(), user.lang.code())
        .await
    {
        Ok(_) => {
            tracing::info!(by = %user.login, login = %login, role = %role, "account added");
            Ok(Redirect::to("/settings?saved=user").into_response())
        }
        Err(e) if e.is_unique_violation() => {
            let message = crate::i18n::tr(user.lang).with("settings-login-taken", "login", login);
            settings_page(&app, &user, app.deployment(), None, Some(message)).await
        }
        Err(e) => Err(e).page(user.lang),
    }
}

#[derive(Template)]
#[template(path = "secret.html")]
pub(super) struct SecretPage {
    pub c: Chrome,
    pub heading: String,
    pub explain: String,
    pub secret: String,
    /// Where the secret is used (the terminal's address), if anywhere.
    pub link: Option<String>,
    /// Where "Done" leads.
    pub back: &'static str,
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
}

pub async fn create_token(
    State(app): State<AppState>,
    StaffForm(user, f, _): StaffForm<AdminOnly, TokenForm>,
) -> PageResult {
    let name = f.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        let message = crate::i18n::tr(user.lang).t("settings-token-name-required");
        return settings_page(&app, &user, app.deployment(), None, Some(message)).await;
    }
    let secret = issue_token(&app.store, &name, TokenRole::Integration, None)
        .await
        .page(user.lang)?;
    tracing::info!(by = %user.login, token = %name, "integration token created");
    let c = Chrome::new(&app, &user, "/settings", "settings-title");
    let view = SecretPage {
        heading: c.tr.with("secret-token-heading", "name", name),
        explain: c.tr.t("secret-token-explain"),
        secret,
        link: None,
        back: "/settings",
        c,
    };
    Ok(render(&view))
}

pub async fn revoke_token(
    State(app): State<AppState>,
    Path(id): Path<String>,
    StaffForm(user, NoFields {}, _): StaffForm<AdminOnly, NoFields>,
) -> PageResult {
    app.store.revoke_token(&id).await.page(user.lang)?;
    // At once here; other processes on hearing the event.
    app.forget_tokens();
    tracing::info!(by = %user.login, token = %id, "token revoked");
    Ok(Redirect::to("/settings?saved=token").into_response())
}

#[derive(Deserialize)]
pub struct EnrollForm {
    courier_id: String,
}

pub async fn enroll_courier(
    State(app): State<AppState>,
    headers: axum::http::HeaderMap,
    StaffForm(user, f, _): StaffForm<AdminOnly, EnrollForm>,
) -> PageResult {
    let found = app
        .store
        .courier(f.courier_id.trim())
        .await
        .page(user.lang)?;
    let Some((id, name)) = found else {
        let message = crate::i18n::tr(user.lang).with("settings-no-courier", "id", f.courier_id);
        return settings_page(&app, &user, app.deployment(), None, Some(message)).await;
    };
    let courier = name.map_or_else(|| id.clone(), |n| format!("{n} ({id})"));
    let code = issue_enrollment_code(&app.store, f.courier_id.trim())
        .await
        .page(user.lang)?;
    let c = Chrome::new(&app, &user, "/settings", "settings-title");
    let view = SecretPage {
        heading: c.tr.with("secret-code-heading", "courier", courier),
        explain: c.tr.with("secret-code-explain", "hours", ENROLLMENT_HOURS),
        secret: code,
        link: Some(format!(
            "{}/terminal/",
            crate::app::survey::links::public_base(
                headers
                    .get(axum::http::header::HOST)
                    .and_then(|h| h.to_str().ok())
            )
        )),
        back: "/settings",
        c,
    };
    Ok(render(&view))
}

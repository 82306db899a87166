//! Dispatch → Mass notice (`/dispatch/notices`): a dispatcher picks the
//! orders one cause hits — a city, a courier, a partner, a delivery
//! window — writes the notice in each language, previews how many
//! customers it reaches in which language, and sends it; the mass
//! notice's page follows the sending.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use doorstep_domain::time::{format_local, from_millis, parse_timestamp};
use doorstep_store::helpdesk::mass::{MassNotice, Selection};
use serde::Deserialize;

use super::orders::{encode, Choice};
use super::{render, Chrome, Found, OrPage, PageResult};
use crate::app::helpdesk::mass::{preview, Texts, ORDER_PLACEHOLDER};
use crate::http::auth::{CurrentUser, DispatchDesk, Dispatchers, Staff, StaffForm};
use crate::http::AppState;
use crate::i18n::Tr;

/// The longest window one mass notice may cover.
const LONGEST_WINDOW_MS: i64 = 3 * 24 * 3_600_000;

/// The longest text of one language.
const LONGEST_TEXT: usize = 1000;

#[derive(Deserialize, Default, Clone)]
pub struct MassForm {
    #[serde(default)]
    city: String,
    #[serde(default)]
    courier: String,
    #[serde(default)]
    partner: String,
    /// `dd.mm.yyyy HH:MM` (or ISO 8601), the deployment's time.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    text_ru: String,
    #[serde(default)]
    text_en: String,
    #[serde(default)]
    text_uk: String,
    #[serde(default)]
    text_uz: String,
    /// `preview` or `send`.
    #[serde(default)]
    action: String,
}

impl MassForm {
    fn texts(&self) -> Texts {
        [
            ("ru", &self.text_ru),
            ("en", &self.text_en),
            ("uk", &self.text_uk),
            ("uz", &self.text_uz),
        ]
        .into_iter()
        .filter(|(_, t)| !t.trim().is_empty())
        .map(|(l, t)| (l.to_owned(), t.trim().to_owned()))
        .collect()
    }

    /// The selection and texts, or what is wrong (each in words).
    fn check(&self, t: Tr<'_>, tz: &jiff::tz::TimeZone) -> Result<(Selection, Texts), Vec<String>> {
        let mut problems = Vec::new();
        let when = |v: &str, field: &str, problems: &mut Vec<String>| {
            let parsed = parse_timestamp(v, tz)
                .ok()
                .map(jiff::Timestamp::as_millisecond);
            if parsed.is_none() {
                problems.push(t.with("mass-error-time", "field", t.t(field)));
            }
            parsed
        };
        let from = when(&self.from, "mass-from", &mut problems);
        let to = when(&self.to, "mass-to", &mut problems);
        if let (Some(from), Some(to)) = (from, to) {
            if to <= from {
                problems.push(t.t("mass-error-order"));
            } else if to - from > LONGEST_WINDOW_MS {
                problems.push(t.t("mass-error-long"));
            }
        }
        let texts = self.texts();
        if texts.is_empty() {
            problems.push(t.t("mass-error-no-text"));
        }
        if texts.values().any(|v| v.chars().count() > LONGEST_TEXT) {
            problems.push(t.with("mass-error-text-long", "n", LONGEST_TEXT as i64));
        }
        let some = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        match (from, to) {
            (Some(window_from), Some(window_to)) if problems.is_empty() => Ok((
                Selection {
                    city: some(&self.city),
                    courier_id: some(&self.courier),
                    partner: some(&self.partner),
                    window_from,
                    window_to,
                },
                texts,
            )),
            _ => Err(problems),
        }
    }
}

/// What a preview found, as shown.
pub struct PreviewView {
    pub orders: i64,
    pub customers: i64,
    /// (language's name, customers, the text as they read it).
    pub languages: Vec<(String, i64, String)>,
}

/// A past or running mass notice, as listed.
pub struct MassRow {
    pub href: String,
    pub when: String,
    pub who: String,
    pub scope: String,
    pub customers: i64,
    pub status: String,
}

#[derive(Template)]
#[template(path = "mass.html")]
struct MassPage {
    c: Chrome,
    form: MassForm,
    cities: Vec<Choice>,
    partners: Vec<Choice>,
    may_send: bool,
    problems: Vec<String>,
    preview: Option<PreviewView>,
    past: Vec<MassRow>,
    /// How to write the texts (names the order's placeholder).
    texts_hint: String,
}

fn scope(t: Tr<'_>, m: &MassNotice, tz: &jiff::tz::TimeZone) -> String {
    let mut parts: Vec<String> = [&m.city, &m.partner, &m.courier_id]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    parts.push(format!(
        "{} – {}",
        format_local(from_millis(m.window_from), tz),
        format_local(from_millis(m.window_to), tz)
    ));
    if parts.len() == 1 {
        parts.insert(0, t.t("mass-everywhere"));
    }
    parts.join(" · ")
}

async fn show(
    app: &AppState,
    user: &CurrentUser,
    form: MassForm,
    problems: Vec<String>,
    preview: Option<PreviewView>,
) -> PageResult {
    let c = Chrome::new(app, user, "/dispatch", "mass-title");
    let t = c.tr;
    let tz = app.deployment().tz();
    let cities = app.store.cities().await.page(user.lang)?;
    let partners = app.store.partners().await.page(user.lang)?;
    let users = app.store.users().await.page(user.lang)?;
    let past = app
        .store
        .mass_notices(20)
        .await
        .page(user.lang)?
        .iter()
        .map(|m| MassRow {
            href: format!("/dispatch/notices/{}", encode(&m.id)),
            when: format_local(from_millis(m.created_at), &tz),
            who: users
                .iter()
                .find(|u| u.id == m.created_by)
                .map_or_else(|| m.created_by.clone(), |u| u.login.clone()),
            scope: scope(t, m, &tz),
            customers: m.customers,
            status: t.t(&format!("mass-status-{}", m.status)),
        })
        .collect();
    let choice = |value: &str, selected: &str| Choice {
        selected: value == selected,
        value: value.to_owned(),
        label: value.to_owned(),
    };
    let view = MassPage {
        cities: cities.iter().map(|(c, _)| choice(c, &form.city)).collect(),
        partners: partners.iter().map(|p| choice(p, &form.partner)).collect(),
        may_send: user.may::<Dispatchers>(),
        problems,
        preview,
        past,
        texts_hint: t.with("mass-texts-hint", "placeholder", ORDER_PLACEHOLDER),
        form,
        c,
    };
    Ok(render(&view))
}

/// `GET /dispatch/notices`: the form (the next three hours by default)
/// and the mass notices sent.
pub async fn page(State(app): State<AppState>, Staff(user, _): Staff<DispatchDesk>) -> PageResult {
    let tz = app.deployment().tz();
    let now = jiff::Timestamp::now().to_zoned(tz);
    let input = |z: &jiff::Zoned| z.strftime("%d.%m.%Y %H:%M").to_string();
    let later = now
        .checked_add(jiff::SignedDuration::from_hours(3))
        .unwrap_or_else(|_| now.clone());
    let t = crate::i18n::tr(user.lang);
    let form = MassForm {
        from: input(&now),
        to: input(&later),
        text_ru: t.t("mass-default-ru"),
        text_en: t.t("mass-default-en"),
        ..MassForm::default()
    };
    show(&app, &user, form, Vec::new(), None).await
}

/// `POST /dispatch/notices`: a preview, or the sending.
pub async fn submit(
    State(app): State<AppState>,
    StaffForm(user, form, _): StaffForm<Dispatchers, MassForm>,
) -> PageResult {
    let t = crate::i18n::tr(user.lang);
    let tz = app.deployment().tz();
    let (selection, texts) = match form.check(t, &tz) {
        Ok(checked) => checked,
        Err(problems) => return show(&app, &user, form, problems, None).await,
    };
    if form.action == "send" {
        let texts_json = serde_json::to_string(&texts).unwrap_or_default();
        let mass = app
            .store
            .create_mass_notice(&selection, &texts_json, &user.id)
            .await
            .page(user.lang)?;
        tracing::info!(by = %user.login, mass = %mass.id, "a mass notice started");
        return Ok(
            Redirect::to(&format!("/dispatch/notices/{}", encode(&mass.id))).into_response(),
        );
    }
    let found = preview(&app, &selection, &texts).await.page(user.lang)?;
    let view = PreviewView {
        orders: found.orders,
        customers: found.customers,
        languages: found
            .by_language
            .iter()
            .map(|(lang, n)| {
                (
                    crate::i18n::CustomerTr::native_name(lang).to_owned(),
                    *n,
                    crate::app::helpdesk::mass::fill(&texts[lang], "D-100123"),
                )
            })
            .collect(),
    };
    show(&app, &user, form, Vec::new(), Some(view)).await
}

#[derive(Template)]
#[template(path = "mass_notice.html")]
struct MassNoticePage {
    c: Chrome,
    scope: String,
    when: String,
    status: String,
    sending: bool,
    customers: i64,
    sent: i64,
    failed: i64,
    waiting: i64,
    texts: Vec<(String, String)>,
}

/// `GET /dispatch/notices/{id}`: how the sending goes.
pub async fn detail(
    State(app): State<AppState>,
    Staff(user, _): Staff<DispatchDesk>,
    Path(id): Path<String>,
) -> PageResult {
    let mass = app.store.mass_notice(&id).await.found(user.lang)?;
    let (written, sent, failed) = app.store.mass_notice_progress(&id).await.page(user.lang)?;
    let mut c = Chrome::new(&app, &user, "/dispatch", "mass-title");
    let t = c.tr;
    c.title = t.t("mass-one-title");
    let tz = app.deployment().tz();
    let texts: Texts = serde_json::from_str(&mass.texts).unwrap_or_default();
    let view = MassNoticePage {
        scope: scope(t, &mass, &tz),
        when: format_local(from_millis(mass.created_at), &tz),
        status: t.t(&format!("mass-status-{}", mass.status)),
        sending: mass.status == "sending",
        customers: written,
        sent,
        failed,
        waiting: written - sent - failed,
        texts: texts
            .into_iter()
            .map(|(l, text)| (crate::i18n::CustomerTr::native_name(&l).to_owned(), text))
            .collect(),
        c,
    };
    Ok(render(&view))
}

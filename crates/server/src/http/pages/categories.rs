//! Settings → Case categories: the list of case categories and each one's
//! playbook — which remedies its cases offer as one-click actions, and the
//! amount each proposes (a fixed sum or a share of the order).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use doorstep_domain::helpdesk::cases::check_category_id;
use doorstep_domain::helpdesk::remedies::{PlaybookEntry, RemedyType};
use doorstep_domain::Money;
use doorstep_store::helpdesk::CaseCategory;
use serde::Deserialize;

use super::{render, Chrome, OrPage, PageResult};
use crate::http::auth::{AdminOnly, CurrentUser, Staff, StaffForm};
use crate::http::AppState;

/// One remedy of a category's form.
pub struct EntryRow {
    pub kind: String,
    pub label: String,
    pub on: bool,
    pub takes_amount: bool,
    pub fixed: String,
    pub share: String,
}

/// A category as the page shows and edits it.
pub struct CategoryRow {
    pub id: String,
    pub name_en: String,
    pub name_ru: String,
    pub summary: String,
    pub entries: Vec<EntryRow>,
}

#[derive(Template)]
#[template(path = "categories.html")]
struct CategoriesPage {
    c: Chrome,
    rows: Vec<CategoryRow>,
    blank: Vec<EntryRow>,
    currency: String,
    notice: Option<String>,
    error: Option<String>,
}

fn entry_rows(c: Option<&CaseCategory>, t: crate::i18n::Tr<'_>) -> Vec<EntryRow> {
    RemedyType::ALL
        .iter()
        .map(|k| {
            let e = c.and_then(|c| c.playbook.iter().find(|e| e.kind == *k));
            EntryRow {
                kind: k.as_str().to_owned(),
                label: t.t(&format!("remedy-{}", k.as_str())),
                on: e.is_some(),
                takes_amount: k.has_amount(),
                fixed: e
                    .and_then(|e| e.fixed)
                    .map(|f| Money::from_minor(f).plain())
                    .unwrap_or_default(),
                share: e
                    .and_then(|e| e.share_percent)
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

async fn page(
    app: &AppState,
    user: &CurrentUser,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult {
    let c = Chrome::new(app, user, "/settings", "categories-title");
    let t = c.tr;
    let categories = app.store.case_categories().await.page(user.lang)?;
    let currency = app.deployment().currency;
    let view = CategoriesPage {
        rows: categories
            .iter()
            .map(|k| CategoryRow {
                id: k.id.clone(),
                name_en: k.name_en.clone(),
                name_ru: k.name_ru.clone(),
                summary: k
                    .playbook
                    .iter()
                    .map(|e| {
                        let label = t.t(&format!("remedy-{}", e.kind.as_str()));
                        match (e.fixed, e.share_percent) {
                            (Some(f), _) => {
                                format!("{label} ({})", super::cases::money(f, &currency))
                            }
                            (None, Some(s)) => {
                                t.with2("categories-share", "remedy", label, "share", i64::from(s))
                            }
                            _ => label,
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" · "),
                entries: entry_rows(Some(k), t),
            })
            .collect(),
        blank: entry_rows(None, t),
        currency,
        notice,
        error,
        c,
    };
    Ok(render(&view))
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    saved: Option<String>,
}

pub async fn list(
    State(app): State<AppState>,
    Staff(user, _): Staff<AdminOnly>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let notice = q
        .saved
        .map(|_| crate::i18n::tr(user.lang).t("categories-saved"));
    page(&app, &user, notice, None).await
}

/// The category a form describes, or what is wrong with it. The form
/// posts `id`, `name_en`, `name_ru`, and per remedy `on_{type}`,
/// `fixed_{type}`, `share_{type}`.
fn category(form: &[(String, String)], t: crate::i18n::Tr<'_>) -> Result<CaseCategory, String> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let id = field("id");
    check_category_id(&id).map_err(|m| format!("{}: {m}", t.t("categories-id")))?;
    let (name_en, name_ru) = (field("name_en"), field("name_ru"));
    if name_en.is_empty()
        || name_ru.is_empty()
        || name_en.chars().count() > 80
        || name_ru.chars().count() > 80
    {
        return Err(t.t("categories-error-names"));
    }
    let mut playbook = Vec::new();
    for kind in RemedyType::ALL {
        if field(&format!("on_{}", kind.as_str())).is_empty() {
            continue;
        }
        let label = t.t(&format!("remedy-{}", kind.as_str()));
        let fixed = match field(&format!("fixed_{}", kind.as_str())).as_str() {
            "" => None,
            typed => match Money::parse(typed) {
                Ok(m)
                    if m.minor() > 0
                        && m.minor() <= doorstep_domain::helpdesk::remedies::MAX_AMOUNT =>
                {
                    Some(m.minor())
                }
                _ => return Err(t.with("categories-error-fixed", "remedy", label)),
            },
        };
        let share = match field(&format!("share_{}", kind.as_str())).as_str() {
            "" => None,
            typed => match typed.parse::<u32>() {
                Ok(s) if (1..=100).contains(&s) => Some(s),
                _ => return Err(t.with("categories-error-share", "remedy", label)),
            },
        };
        playbook.push(PlaybookEntry {
            kind: *kind,
            fixed: fixed.filter(|_| kind.has_amount()),
            share_percent: share.filter(|_| kind.has_amount()),
        });
    }
    Ok(CaseCategory {
        id,
        name_en,
        name_ru,
        playbook,
    })
}

pub async fn save(
    State(app): State<AppState>,
    StaffForm(user, form, _): StaffForm<AdminOnly, Vec<(String, String)>>,
) -> PageResult {
    let t = crate::i18n::tr(user.lang);
    match category(&form, t) {
        Ok(category) => {
            app.store
                .save_case_category(&category)
                .await
                .page(user.lang)?;
            tracing::info!(by = %user.login, category = %category.id, "case category saved");
            Ok(Redirect::to("/settings/categories?saved=1").into_response())
        }
        Err(message) => page(&app, &user, None, Some(message)).await,
    }
}

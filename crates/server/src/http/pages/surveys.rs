//! Surveys in the console: the published surveys and, for each, its
//! questions as the customer will see them.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use doorstep_domain::survey::{Question, QuestionType, ShowIf, SurveyDefinition, Targeting};
use doorstep_domain::time::{format_local, from_millis};

use super::{failed, render, Chrome, Found, OrPage, PageResult};
use crate::http::auth::{QualityDesk, Staff, StaffForm};
use crate::http::AppState;
use crate::i18n::Tr;

pub struct SurveyRow {
    pub id: String,
    pub href: String,
    pub name: String,
    pub version: i64,
    pub questions: usize,
    pub languages: String,
    pub targeting: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "surveys.html")]
struct SurveysPage {
    c: Chrome,
    rows: Vec<SurveyRow>,
}

fn targeting_text(t: Option<&Targeting>, tr: Tr<'_>) -> String {
    let Some(t) = t else {
        return tr.t("surveys-every-order");
    };
    let mut parts = Vec::new();
    if !t.segments.is_empty() {
        let names: Vec<String> = t
            .segments
            .iter()
            .map(|s| tr.t(&format!("segment-{s}")))
            .collect();
        parts.push(names.join(", "));
    }
    if !t.cities.is_empty() {
        parts.push(t.cities.join(", "));
    }
    if !t.partners.is_empty() {
        parts.push(t.partners.join(", "));
    }
    if let Some(min) = &t.amount_min {
        parts.push(format!(
            "≥ {}",
            min.as_str().map_or_else(|| min.to_string(), str::to_owned)
        ));
    }
    if let Some(max) = &t.amount_max {
        parts.push(format!(
            "≤ {}",
            max.as_str().map_or_else(|| max.to_string(), str::to_owned)
        ));
    }
    if let Some(n) = t.sample_one_in.filter(|n| *n > 1) {
        parts.push(tr.with("surveys-sample", "n", n));
    }
    if parts.is_empty() {
        parts.push(tr.t("surveys-every-order"));
    }
    if t.priority != 0 {
        parts.push(tr.with("surveys-priority", "priority", t.priority));
    }
    parts.join(" · ")
}

pub async fn list(State(app): State<AppState>, Staff(user, _): Staff<QualityDesk>) -> PageResult {
    let c = Chrome::new(&app, &user, "/surveys", "nav-surveys");
    let tz = app.deployment().tz();
    let records = app.store.surveys().await.page(user.lang)?;
    let rows = records
        .into_iter()
        .filter_map(|r| {
            let d: SurveyDefinition = serde_json::from_str(&r.definition).ok()?;
            Some(SurveyRow {
                href: format!(
                    "/surveys/{}",
                    url::form_urlencoded::byte_serialize(r.id.as_bytes()).collect::<String>()
                ),
                name: d.name.clone(),
                version: r.version,
                questions: d.questions.len(),
                // Each language by its own name, not its code.
                languages: d
                    .languages()
                    .iter()
                    .map(|code| match crate::i18n::CustomerTr::native_name(code) {
                        "" => code.clone(),
                        name => name.to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                targeting: targeting_text(d.targeting.as_ref(), c.tr),
                updated: format_local(from_millis(r.updated_at), &tz),
                id: r.id,
            })
        })
        .collect();
    Ok(render(&SurveysPage { c, rows }))
}

/// A question as the preview shows it.
pub struct QuestionView {
    pub number: usize,
    pub id: String,
    pub text: String,
    pub kind: String,
    pub details: Vec<String>,
    pub choices: Vec<String>,
    pub scale: Vec<i64>,
    pub low: String,
    pub high: String,
}

#[derive(Template)]
#[template(path = "survey.html")]
struct SurveyPage {
    c: Chrome,
    id: String,
    version: i64,
    published: bool,
    targeting: String,
    timeout: String,
    questions: Vec<QuestionView>,
}

fn condition(rule: &ShowIf, survey: &SurveyDefinition, tr: Tr<'_>) -> String {
    let asked = survey.question(&rule.question).map_or_else(
        || rule.question.clone(),
        |q| q.text.get(tr.lang()).to_owned(),
    );
    let mut what = Vec::new();
    if let Some(min) = rule.min {
        what.push(format!("≥ {min}"));
    }
    if let Some(max) = rule.max {
        what.push(format!("≤ {max}"));
    }
    if let Some(list) = &rule.any_of {
        // Options by their text in the reader's language, not their ids.
        let label = |id: &str| {
            survey
                .question(&rule.question)
                .and_then(|q| q.options.iter().find(|o| o.id == id))
                .and_then(|o| o.text.as_ref())
                .map_or_else(|| id.to_owned(), |t| format!("«{}»", t.get(tr.lang())))
        };
        what.push(
            list.iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), label))
                .collect::<Vec<_>>()
                .join(" / "),
        );
    }
    if let Some(v) = &rule.equals {
        what.push(match v.as_bool() {
            Some(b) => tr.t(if b { "answer-yes" } else { "answer-no" }),
            None => v.as_str().map_or_else(|| v.to_string(), str::to_owned),
        });
    }
    tr.args_show_if(&asked, &what.join(", "))
}

fn question_view(i: usize, q: &Question, survey: &SurveyDefinition, tr: Tr<'_>) -> QuestionView {
    let lang = tr.lang();
    let kind = serde_json::to_value(q.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut details = Vec::new();
    if let Some(m) = &q.measures {
        // What a scale measures, named: "CSI", "the factor «speed»".
        let what = match m.strip_prefix("factor:") {
            Some(factor) => tr.with("measure-factor", "name", factor.to_owned()),
            None => tr.t(&format!("measure-{m}")),
        };
        details.push(tr.with("survey-measures", "what", what));
    }
    if let Some(w) = q.weight {
        details.push(tr.with("survey-weight", "weight", w));
    }
    if q.required {
        details.push(tr.t("survey-required"));
    }
    if let Some(rule) = &q.show_if {
        details.push(condition(rule, survey, tr));
    }
    if matches!(q.kind, QuestionType::Photo | QuestionType::Voice) {
        details.push(tr.t("survey-after-consent"));
    }
    let scale = match q.kind {
        QuestionType::Nps => (0..=10).collect(),
        QuestionType::Scale => (q.min.unwrap_or(1)..=q.max.unwrap_or(5)).collect(),
        _ => Vec::new(),
    };
    let mut choices: Vec<String> = q
        .options
        .iter()
        .map(|o| {
            o.text
                .as_ref()
                .map_or_else(|| o.id.clone(), |t| t.get(lang).to_owned())
        })
        .collect();
    if q.other {
        choices.push(tr.t("survey-other"));
    }
    QuestionView {
        number: i + 1,
        id: q.id.clone(),
        text: q.text.get(lang).to_owned(),
        kind: tr.t(&format!("question-{kind}")),
        details,
        choices,
        scale,
        low: q
            .min_label
            .as_ref()
            .map(|t| t.get(lang).to_owned())
            .unwrap_or_default(),
        high: q
            .max_label
            .as_ref()
            .map(|t| t.get(lang).to_owned())
            .unwrap_or_default(),
    }
}

#[derive(serde::Deserialize)]
pub struct DetailQuery {
    published: Option<i64>,
}

pub async fn detail(
    State(app): State<AppState>,
    Staff(user, _): Staff<QualityDesk>,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<DetailQuery>,
) -> PageResult {
    let record = app.store.survey(&id, None).await.found(user.lang)?;
    let d = serde_json::from_str::<SurveyDefinition>(&record.definition)
        .map_err(|e| failed(user.lang, format!("survey {id} does not parse: {e}")))?;
    let mut c = Chrome::new(&app, &user, "/surveys", "nav-surveys");
    c.title.clone_from(&d.name);
    let tr = c.tr;
    let view = SurveyPage {
        published: q.published == Some(record.version),
        id: record.id.clone(),
        version: record.version,
        targeting: targeting_text(d.targeting.as_ref(), tr),
        timeout: d.timeout_seconds.map_or_else(
            || tr.t("survey-no-timeout"),
            |s| tr.with("survey-timeout", "seconds", s),
        ),
        questions: d
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| question_view(i, q, &d, tr))
            .collect(),
        c,
    };
    Ok(render(&view))
}

#[derive(Template)]
#[template(path = "survey_edit.html")]
struct EditorPage {
    c: Chrome,
    /// The survey's id; empty for a new survey (the form asks for one).
    id: String,
    creating: bool,
    version: i64,
    definition: String,
    errors: Vec<String>,
    texts: String,
    /// The definition lacks texts in some of its languages: publishing it
    /// anyway needs the box ticked.
    confirm_languages: bool,
}

/// A new survey starts from the usual door questions, in Russian and English.
fn starter() -> serde_json::Value {
    serde_json::json!({
        "name": "",
        "timeout_seconds": 90,
        "questions": [
            {"id": "nps", "type": "nps", "required": true,
             "text": {"ru": "Насколько вероятно, что вы порекомендуете нас друзьям?", "en": "How likely are you to recommend us to a friend?"}},
            {"id": "why", "type": "multi_choice", "other": true, "show_if": {"question": "nps", "max": 6},
             "text": {"ru": "Что пошло не так?", "en": "What went wrong?"},
             "options": [{"id": "late", "text": {"ru": "Опоздание", "en": "Late delivery"}},
                         {"id": "damaged", "text": {"ru": "Повреждённый заказ", "en": "Damaged order"}}]},
            {"id": "comment", "type": "text", "text": {"ru": "Хотите что-то добавить?", "en": "Anything to add?"}}
        ]
    })
}

fn editor(
    app: &AppState,
    user: &crate::http::auth::CurrentUser,
    id: &str,
    version: i64,
    definition: String,
    errors: Vec<String>,
    confirm_languages: bool,
) -> Response {
    // Version 0: a survey not published yet (its id, if typed, kept).
    let creating = version == 0;
    let mut c = Chrome::new(app, user, "/surveys", "nav-surveys");
    c.title = if creating {
        c.tr.t("editor-new-title")
    } else {
        c.tr.with("editor-edit-title", "id", id.to_owned())
    };
    let texts: std::collections::BTreeMap<String, String> = crate::i18n::i18n()
        .texts_with_prefix(user.lang, "editor-")
        .into_iter()
        .map(|(k, v)| (k.replace('-', "_"), v))
        .collect();
    let view = EditorPage {
        id: id.to_owned(),
        creating,
        version,
        definition,
        errors,
        texts: serde_json::to_string(&texts).unwrap_or_default(),
        confirm_languages,
        c,
    };
    render(&view)
}

pub async fn new_form(State(app): State<AppState>, Staff(user, _): Staff<QualityDesk>) -> Response {
    let definition = serde_json::to_string_pretty(&starter()).unwrap_or_default();
    editor(&app, &user, "", 0, definition, Vec::new(), false)
}

pub async fn edit_form(
    State(app): State<AppState>,
    Staff(user, _): Staff<QualityDesk>,
    Path(id): Path<String>,
) -> PageResult {
    let record = app.store.survey(&id, None).await.found(user.lang)?;
    let pretty = serde_json::from_str::<serde_json::Value>(&record.definition)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or(record.definition);
    Ok(editor(
        &app,
        &user,
        &record.id,
        record.version,
        pretty,
        Vec::new(),
        false,
    ))
}

#[derive(serde::Deserialize)]
pub struct EditorForm {
    #[serde(default)]
    id: String,
    definition: String,
    /// Publish although some texts lack one of the survey's languages.
    #[serde(default)]
    confirm_languages: Option<String>,
}

/// A definition that lacks texts in its own languages, unless the person
/// said to publish it anyway: what is missing, to show in the editor.
fn unconfirmed_gaps(
    definition: &SurveyDefinition,
    f: &EditorForm,
    tr: Tr<'_>,
) -> Option<Vec<String>> {
    let missing = definition.missing_texts();
    if missing.is_empty() || f.confirm_languages.is_some() {
        return None;
    }
    let mut errors = vec![tr.t("editor-missing-languages")];
    errors.extend(
        missing
            .into_iter()
            .map(|p| format!("{}: {}", p.field, p.message)),
    );
    Some(errors)
}

/// Reads and checks a definition from the editor: every problem, by place.
fn check_definition(text: &str, tr: Tr<'_>) -> Result<(SurveyDefinition, String), Vec<String>> {
    let parsed: SurveyDefinition = serde_json::from_str(text)
        .map_err(|e| vec![tr.with("editor-not-json", "error", e.to_string())])?;
    let problems = parsed.validate();
    if !problems.is_empty() {
        return Err(problems
            .into_iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect());
    }
    let json = serde_json::to_string(&parsed).map_err(|e| vec![e.to_string()])?;
    Ok((parsed, json))
}

/// Publishes a new survey from the editor.
pub async fn create(
    State(app): State<AppState>,
    StaffForm(user, f, _): StaffForm<QualityDesk, EditorForm>,
) -> PageResult {
    let tr = crate::i18n::tr(user.lang);
    let id = f.id.trim().to_owned();
    let mut errors = Vec::new();
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        errors.push(tr.t("editor-bad-id"));
    }
    let checked = check_definition(&f.definition, tr);
    let (definition, json) = match checked {
        Ok(ok) if errors.is_empty() => ok,
        Ok(_) => return editor_again(&app, &user, "", &f.definition, errors, false).await,
        Err(problems) => {
            errors.extend(problems);
            return editor_again(&app, &user, "", &f.definition, errors, false).await;
        }
    };
    if let Some(gaps) = unconfirmed_gaps(&definition, &f, tr) {
        let mut r = editor(&app, &user, &id, 0, f.definition.clone(), gaps, true);
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(r);
    }
    match app
        .store
        .create_survey(&id, definition.name.trim(), &json)
        .await
    {
        Ok(r) => {
            tracing::info!(by = %user.login, survey = %r.id, "survey published");
            Ok(Redirect::to(&format!("/surveys/{}?published={}", r.id, r.version)).into_response())
        }
        Err(e) if e.is_unique_violation() => {
            editor_again(
                &app,
                &user,
                "",
                &f.definition,
                vec![tr.with("editor-id-taken", "id", id)],
                false,
            )
            .await
        }
        Err(e) => Err(e).page(user.lang),
    }
}

/// Publishes the next version of a survey from the editor.
pub async fn publish(
    State(app): State<AppState>,
    Path(id): Path<String>,
    StaffForm(user, f, _): StaffForm<QualityDesk, EditorForm>,
) -> PageResult {
    let tr = crate::i18n::tr(user.lang);
    let (definition, json) = match check_definition(&f.definition, tr) {
        Ok(ok) => ok,
        Err(errors) => return editor_again(&app, &user, &id, &f.definition, errors, false).await,
    };
    if let Some(gaps) = unconfirmed_gaps(&definition, &f, tr) {
        return editor_again(&app, &user, &id, &f.definition, gaps, true).await;
    }
    let r = app
        .store
        .publish_survey_version(&id, definition.name.trim(), &json)
        .await
        .found(user.lang)?;
    app.survey_published(&r.id);
    tracing::info!(by = %user.login, survey = %r.id, version = r.version, "survey version published");
    Ok(Redirect::to(&format!("/surveys/{}?published={}", r.id, r.version)).into_response())
}

/// The editor again with what was sent and what is wrong with it.
async fn editor_again(
    app: &AppState,
    user: &crate::http::auth::CurrentUser,
    id: &str,
    definition: &str,
    errors: Vec<String>,
    confirm_languages: bool,
) -> PageResult {
    let version = if id.is_empty() {
        0
    } else {
        app.store.survey(id, None).await.found(user.lang)?.version
    };
    let mut r = editor(
        app,
        user,
        id,
        version,
        definition.to_owned(),
        errors,
        confirm_languages,
    );
    if r.status().is_success() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

//! Surveys in the console: the published surveys and, for each, its
//! questions as the customer will see them.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use doorstep_domain::survey::{Question, QuestionType, ShowIf, SurveyDefinition, Targeting};
use doorstep_domain::time::{format_local, from_millis};

use super::{internal, render, status_page, Chrome};
use crate::http::auth::{QualityDesk, Staff};
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

fn languages(d: &SurveyDefinition) -> String {
    let mut langs: Vec<String> = d
        .questions
        .iter()
        .flat_map(|q| match &q.text {
            doorstep_domain::survey::Texts::Many(m) => m.keys().cloned().collect(),
            doorstep_domain::survey::Texts::One(_) => Vec::new(),
        })
        .collect();
    langs.sort();
    langs.dedup();
    langs.join(", ")
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

pub async fn list(State(app): State<AppState>, Staff(user, _): Staff<QualityDesk>) -> Response {
    let c = Chrome::new(&app, &user, "/surveys", "nav-surveys");
    let tz = app.deployment().tz();
    let records = match app.store.surveys().await {
        Ok(r) => r,
        Err(e) => return internal(user.lang, &e),
    };
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
                languages: languages(&d),
                targeting: targeting_text(d.targeting.as_ref(), c.tr),
                updated: format_local(from_millis(r.updated_at), &tz),
                id: r.id,
            })
        })
        .collect();
    render(&SurveysPage { c, rows })
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
        what.push(
            list.iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
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
        details.push(tr.with("survey-measures", "what", m.clone()));
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

pub async fn detail(
    State(app): State<AppState>,
    Staff(user, _): Staff<QualityDesk>,
    Path(id): Path<String>,
) -> Response {
    let record = match app.store.survey(&id, None).await {
        Ok(Some(r)) => r,
        Ok(None) => return status_page(user.lang, StatusCode::NOT_FOUND),
        Err(e) => return internal(user.lang, &e),
    };
    let Ok(d) = serde_json::from_str::<SurveyDefinition>(&record.definition) else {
        return internal(user.lang, &format!("survey {id} does not parse"));
    };
    let mut c = Chrome::new(&app, &user, "/surveys", "nav-surveys");
    c.title.clone_from(&d.name);
    let tr = c.tr;
    let view = SurveyPage {
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
    render(&view)
}

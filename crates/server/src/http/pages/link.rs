//! `/s/{token}`: the survey a customer opens from a link — the same survey
//! engine, channel `link`, one answer per link, in the customer's language.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use doorstep_domain::survey::{shown_only, QuestionType, ResponseStatus, SurveyDefinition};
use doorstep_store::{ResponseOutcome, SurveyLink};
use serde_json::Value;

use super::{failed, internal, render, OrPage, PageResult};
use crate::app::survey::responses::{Recorder, Submitted, SubmittedAnswer};
use crate::http::AppState;
use crate::i18n::{negotiate, CustomerTr, CUSTOMER_LANGUAGES};
use crate::security::secret_hash;

/// One choice of a question as the form shows it.
pub struct FieldOption {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

/// One question of the form.
pub struct Field {
    pub id: String,
    pub text: String,
    /// `points`, `one`, `many`, `text` or `consent`.
    pub control: &'static str,
    pub options: Vec<FieldOption>,
    pub low: String,
    pub high: String,
    pub other: bool,
    pub text_value: String,
    pub show_if: String,
}

#[derive(Template)]
#[template(path = "link.html")]
struct LinkPage {
    tr: CustomerTr,
    company: String,
    title: String,
    fields: Vec<Field>,
    errors: Vec<String>,
    /// The survey's languages for the switch: (code, own name, chosen).
    languages: Vec<(String, &'static str, bool)>,
}

/// `?lang=uk`: the language the customer chose on the page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct LangChoice {
    lang: Option<String>,
}

/// The languages a survey can be shown in: those its texts have that the
/// page has words for; every customer language for a survey written in
/// plain strings.
fn offered(survey: &SurveyDefinition) -> Vec<&'static str> {
    let written = survey.languages();
    let offered: Vec<&'static str> = CUSTOMER_LANGUAGES
        .into_iter()
        .filter(|c| written.iter().any(|w| w == c))
        .collect();
    if offered.is_empty() {
        CUSTOMER_LANGUAGES.to_vec()
    } else {
        offered
    }
}

/// The browser's `Accept-Language`, or nothing.
fn accepted(headers: &HeaderMap) -> &str {
    headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The customer's language before the survey is known: their browser's.
fn visitor(headers: &HeaderMap) -> CustomerTr {
    CustomerTr::new(negotiate(accepted(headers), &CUSTOMER_LANGUAGES).unwrap_or("en"))
}

/// The language a survey is shown in: the one chosen on the page, else the
/// one the customer answered in before, else the best for the browser's
/// `Accept-Language`, else English (or the survey's first language).
async fn language(
    app: &AppState,
    headers: &HeaderMap,
    chosen: Option<&str>,
    order_number: &str,
    survey: &SurveyDefinition,
) -> CustomerTr {
    let offered = offered(survey);
    let pick = |code: &str| {
        offered
            .iter()
            .copied()
            .find(|o| o.eq_ignore_ascii_case(code.trim()))
    };
    if let Some(code) = chosen.and_then(pick) {
        return CustomerTr::new(code);
    }
    // A failed read only loses the hint.
    if let Ok(Some(stored)) = app.store.customer_language(order_number).await {
        if let Some(code) = pick(&stored) {
            return CustomerTr::new(code);
        }
    }
    let code = negotiate(accepted(headers), &offered)
        .or_else(|| pick("en"))
        .unwrap_or(offered[0]);
    CustomerTr::new(code)
}

#[derive(Template)]
#[template(path = "link_done.html")]
struct DonePage {
    tr: CustomerTr,
    company: String,
    heading: String,
    text: String,
    /// Review links offered to a promoter: (address, label).
    links: Vec<(String, String)>,
}

fn done(app: &AppState, t: CustomerTr, status: StatusCode, key: &str) -> Response {
    done_with_links(app, t, status, key, Vec::new())
}

fn done_with_links(
    app: &AppState,
    t: CustomerTr,
    status: StatusCode,
    key: &str,
    links: Vec<(String, String)>,
) -> Response {
    let page = DonePage {
        tr: t,
        company: app.deployment().name,
        heading: t.t(&format!("{key}-heading")),
        text: t.t(&format!("{key}-text")),
        links,
    };
    (status, render(&page)).into_response()
}

/// The link, its survey and whether it can still be answered.
async fn open(
    app: &AppState,
    token: &str,
    lang: CustomerTr,
) -> Result<(SurveyLink, i64, SurveyDefinition), Response> {
    let link = match app.store.survey_link(&secret_hash(token)).await {
        Ok(Some(link)) => link,
        Ok(None) => return Err(done(app, lang, StatusCode::NOT_FOUND, "link-unknown")),
        Err(e) => return Err(internal(console_lang(lang), &e)),
    };
    if link.expires_at < doorstep_store::now_millis() {
        return Err(done(app, lang, StatusCode::GONE, "link-expired"));
    }
    match app.store.surveyed(&[link.order_number.as_str()]).await {
        Ok(done_pairs) if done_pairs.iter().any(|(_, s)| *s == link.survey_id) => {
            return Err(done(app, lang, StatusCode::OK, "link-answered"));
        }
        Ok(_) => {}
        Err(e) => return Err(internal(console_lang(lang), &e)),
    }
    let record = match app.store.survey(&link.survey_id, None).await {
        Ok(Some(r)) => r,
        Ok(None) => return Err(done(app, lang, StatusCode::NOT_FOUND, "link-unknown")),
        Err(e) => return Err(internal(console_lang(lang), &e)),
    };
    match serde_json::from_str(&record.definition) {
        Ok(d) => Ok((link, record.version, d)),
        Err(e) => Err(internal(console_lang(lang), &e)),
    }
}

fn fields(
    survey: &SurveyDefinition,
    t: CustomerTr,
    values: &HashMap<String, Vec<String>>,
) -> Vec<Field> {
    let lang = t.lang();
    survey
        .questions
        .iter()
        // Photo and voice need the terminal's camera and microphone.
        .filter(|q| !matches!(q.kind, QuestionType::Photo | QuestionType::Voice))
        .map(|q| {
            let chosen = values.get(&q.id).cloned().unwrap_or_default();
            let option = |value: String, label: String| FieldOption {
                checked: chosen.contains(&value),
                value,
                label,
            };
            let (control, options) = match q.kind {
                QuestionType::Nps => (
                    "points",
                    (0..=10)
                        .map(|n| option(n.to_string(), n.to_string()))
                        .collect(),
                ),
                QuestionType::Scale => (
                    "points",
                    (q.min.unwrap_or(1)..=q.max.unwrap_or(5))
                        .map(|n| option(n.to_string(), n.to_string()))
                        .collect(),
                ),
                QuestionType::SingleChoice | QuestionType::MultiChoice => (
                    if q.kind == QuestionType::SingleChoice {
                        "one"
                    } else {
                        "many"
                    },
                    q.options
                        .iter()
                        .map(|o| {
                            option(
                                o.id.clone(),
                                o.text
                                    .as_ref()
                                    .map_or_else(|| o.id.clone(), |t| t.get(lang).to_owned()),
                            )
                        })
                        .collect(),
                ),
                QuestionType::Consent => {
                    ("consent", vec![option("yes".to_owned(), t.t("term-yes"))])
                }
                _ => ("text", Vec::new()),
            };
            let (low, high) = ends(q, t);
            Field {
                id: q.id.clone(),
                text: q.text.get(lang).to_owned(),
                control,
                options,
                low,
                high,
                other: q.other,
                text_value: values
                    .get(&format!("{}.other", q.id))
                    .or_else(|| (control == "text").then_some(&chosen))
                    .and_then(|v| v.first().cloned())
                    .unwrap_or_default(),
                show_if: q
                    .show_if
                    .as_ref()
                    .and_then(|r| serde_json::to_string(r).ok())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// The words at a scale's two ends: the question's own, else the usual
/// ones for what it measures (an NPS, an agreement, a rating).
pub fn ends(q: &doorstep_domain::survey::Question, t: CustomerTr) -> (String, String) {
    let own = |l: &Option<doorstep_domain::survey::Texts>| {
        l.as_ref()
            .map(|l| l.get(t.lang()).to_owned())
            .filter(|s| !s.trim().is_empty())
    };
    let (low, high) = match q.kind {
        QuestionType::Nps => ("term-nps-low", "term-nps-high"),
        QuestionType::Scale if q.measures.as_deref() == Some("ces") => {
            ("term-agree-low", "term-agree-high")
        }
        QuestionType::Scale => ("term-scale-low", "term-scale-high"),
        _ => return (String::new(), String::new()),
    };
    (
        own(&q.min_label).unwrap_or_else(|| t.t(low)),
        own(&q.max_label).unwrap_or_else(|| t.t(high)),
    )
}

/// The console's language nearest a customer's, for its error pages.
fn console_lang(t: CustomerTr) -> crate::i18n::Lang {
    crate::i18n::Lang::parse(t.lang()).unwrap_or(crate::i18n::Lang::En)
}

fn page(
    app: &AppState,
    t: CustomerTr,
    survey: &SurveyDefinition,
    values: &HashMap<String, Vec<String>>,
    errors: Vec<String>,
) -> Response {
    render(&LinkPage {
        tr: t,
        company: app.deployment().name,
        title: survey
            .title
            .as_ref()
            .map(|title| title.get(t.lang()).to_owned())
            .filter(|title| !title.trim().is_empty())
            .unwrap_or_else(|| t.t("link-title")),
        fields: fields(survey, t, values),
        errors,
        languages: offered(survey)
            .into_iter()
            .map(|code| {
                (
                    code.to_owned(),
                    CustomerTr::native_name(code),
                    code == t.lang(),
                )
            })
            .collect(),
    })
}

pub async fn show(
    State(app): State<AppState>,
    Path(token): Path<String>,
    Query(choice): Query<LangChoice>,
    headers: HeaderMap,
) -> Response {
    match opened(&app, &token, &headers, &choice).await {
        Ok((_, _, survey, t)) => page(&app, t, &survey, &HashMap::new(), Vec::new()),
        Err(response) => response,
    }
}

/// [`open`] in the customer's browser language, then the survey's language
/// for them (see [`language`]).
async fn opened(
    app: &AppState,
    token: &str,
    headers: &HeaderMap,
    choice: &LangChoice,
) -> Result<(SurveyLink, i64, SurveyDefinition, CustomerTr), Response> {
    let (link, version, survey) = open(app, token, visitor(headers)).await?;
    let t = language(
        app,
        headers,
        choice.lang.as_deref(),
        &link.order_number,
        &survey,
    )
    .await;
    Ok((link, version, survey, t))
}

/// The form's fields as answers: `q.ID` (repeated for several choices) and
/// `q.ID.other`.
fn answers_from(
    survey: &SurveyDefinition,
    values: &HashMap<String, Vec<String>>,
) -> Vec<(String, Value)> {
    let mut answers = Vec::new();
    for q in &survey.questions {
        let given: Vec<&String> = values
            .get(&q.id)
            .map(|v| v.iter().filter(|s| !s.trim().is_empty()).collect())
            .unwrap_or_default();
        let value = match q.kind {
            QuestionType::Nps | QuestionType::Scale => given.first().map(|v| {
                v.parse::<i64>()
                    .map_or_else(|_| Value::String((*v).clone()), Value::from)
            }),
            QuestionType::SingleChoice => given.first().map(|v| Value::String((*v).clone())),
            QuestionType::MultiChoice => {
                let other = values
                    .get(&format!("{}.other", q.id))
                    .and_then(|v| v.first())
                    .filter(|t| !t.trim().is_empty());
                match (given.is_empty(), other) {
                    (true, None) => None,
                    (_, Some(text)) => Some(serde_json::json!({"options": given, "other": text})),
                    (false, None) => Some(Value::from(
                        given.iter().map(|s| (*s).clone()).collect::<Vec<_>>(),
                    )),
                }
            }
            QuestionType::Text => given.first().map(|v| Value::String((*v).clone())),
            QuestionType::Consent => given.first().map(|v| Value::Bool(*v == "yes")),
            QuestionType::Photo | QuestionType::Voice => None,
        };
        if let Some(v) = value {
            answers.push((q.id.clone(), v));
        }
    }
    answers
}

pub async fn submit(
    State(app): State<AppState>,
    Path(token): Path<String>,
    Query(choice): Query<LangChoice>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (link, version, survey, t) = match opened(&app, &token, &headers, &choice).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let lang = console_lang(t);
    let mut values: HashMap<String, Vec<String>> = HashMap::new();
    for (key, value) in url::form_urlencoded::parse(&body) {
        if let Some(name) = key.strip_prefix("q.") {
            values
                .entry(name.to_owned())
                .or_default()
                .push(value.into_owned());
        } else if key == "action" {
            values
                .entry("action".to_owned())
                .or_default()
                .push(value.into_owned());
        }
    }
    let refused = values
        .get("action")
        .is_some_and(|a| a.iter().any(|v| v == "refuse"));
    let status = if refused {
        ResponseStatus::Refused
    } else {
        ResponseStatus::Completed
    };
    let answers = if refused {
        Vec::new()
    } else {
        shown_only(&survey, &answers_from(&survey, &values))
    };
    // Recorded as the API records a response: one shape, one check, one
    // content hash.
    let now = jiff::Timestamp::now().to_string();
    let submitted = Submitted {
        id: uuid::Uuid::new_v4().to_string(),
        order_number: link.order_number.clone(),
        survey_id: link.survey_id.clone(),
        survey_version: Some(version),
        status,
        started_at: now.clone(),
        finished_at: now,
        answers: answers
            .into_iter()
            .map(|(question_id, value)| SubmittedAnswer { question_id, value })
            .collect(),
        mode: None,
        language: Some(t.lang().to_owned()),
        channel: Some("link".to_owned()),
        review_opened: None,
        recording_consent: None,
    };
    let recorder = &mut Recorder::new(&app);
    let checked = recorder.check_from_page(submitted).await;
    let response = match checked {
        Ok(Ok(response)) => response,
        Ok(Err(problems)) => {
            let errors = problems
                .iter()
                .map(|p| match p.field.strip_prefix("answers.") {
                    Some(id) => {
                        let question = survey
                            .question(id)
                            .map_or_else(|| id.to_owned(), |q| q.text.get(t.lang()).to_owned());
                        t.with("link-answer-needed", "question", question)
                    }
                    None => p.message.clone(),
                })
                .collect();
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                page(&app, t, &survey, &values, errors),
            )
                .into_response();
        }
        Err(e) => return internal(lang, &e),
    };
    // A promoter is offered the review links; following one is recorded.
    let review_links: Vec<(String, String)> = survey
        .review
        .as_ref()
        .filter(|r| !refused && r.due(&survey, &response.answers))
        .map(|r| {
            r.links
                .iter()
                .map(|l| {
                    (
                        format!("/s/{token}/review/{}", l.id),
                        l.label.get(t.lang()).to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    match recorder.store(&[response], None).await {
        Ok(outcomes) if outcomes.first() == Some(&ResponseOutcome::Stored) => done_with_links(
            &app,
            t,
            StatusCode::OK,
            if refused {
                "link-refused"
            } else if review_links.is_empty() {
                "link-thanks"
            } else {
                "link-review"
            },
            review_links,
        ),
        Ok(_) => done(&app, t, StatusCode::OK, "link-answered"),
        Err(e) => internal(lang, &e),
    }
}

/// `/s/{token}/review/{link}`: records that the customer followed a review
/// link after answering, then sends them there.
pub async fn review(
    State(app): State<AppState>,
    Path((token, link_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> PageResult {
    let t = visitor(&headers);
    let lang = console_lang(t);
    let link = match app.store.survey_link(&secret_hash(&token)).await {
        Ok(Some(link)) => link,
        Ok(None) => return Ok(done(&app, t, StatusCode::NOT_FOUND, "link-unknown")),
        Err(e) => return Err(failed(lang, e)),
    };
    let survey: SurveyDefinition = match app.store.survey(&link.survey_id, None).await {
        Ok(Some(r)) => serde_json::from_str(&r.definition).page(lang)?,
        Ok(None) => return Ok(done(&app, t, StatusCode::NOT_FOUND, "link-unknown")),
        Err(e) => return Err(failed(lang, e)),
    };
    let Some(target) = survey
        .review
        .as_ref()
        .and_then(|r| r.links.iter().find(|l| l.id == link_id))
    else {
        return Ok(done(&app, t, StatusCode::NOT_FOUND, "link-unknown"));
    };
    app.store
        .record_review_opened(&link.order_number, &link.survey_id, &link_id)
        .await
        .page(lang)?;
    Ok(axum::response::Redirect::to(&target.url).into_response())
}

/// `?token=…` of an embedded survey.
#[derive(Debug, Default, serde::Deserialize)]
pub struct EmbedQuery {
    token: Option<String>,
}

/// `/embed?token=…`: the survey of the order a company-signed token names
/// (see [`crate::app::survey::embed`]), inside the company's account page.
/// A good token opens a one-time link to the order's survey; a bad one
/// gets "not found" with the reason for the company's developer.
pub async fn embed(
    State(app): State<AppState>,
    Query(q): Query<EmbedQuery>,
    headers: HeaderMap,
) -> Response {
    use crate::app::survey::{embed, links};
    let t = visitor(&headers);
    let key = match embed::key(&app.store).await {
        Ok(k) => k,
        Err(e) => return internal(console_lang(t), &e),
    };
    let now = jiff::Timestamp::now().as_second();
    let claims = match embed::verify(&key, q.token.as_deref().unwrap_or_default(), now) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(reason = %e, "an embedded survey's token was refused");
            let status = if matches!(e, embed::EmbedError::Expired(_)) {
                StatusCode::GONE
            } else {
                StatusCode::NOT_FOUND
            };
            let key = if status == StatusCode::GONE {
                "link-expired"
            } else {
                "link-unknown"
            };
            let mut r = done(&app, t, status, key);
            if let Ok(v) = axum::http::HeaderValue::from_str(&e.to_string()) {
                r.headers_mut().insert("x-doorstep-reason", v);
            }
            return r;
        }
    };
    let days = u32::try_from(((claims.exp - now) + 86_399) / 86_400)
        .unwrap_or(1)
        .clamp(1, links::MAX_DAYS);
    match links::issue(
        &app.store,
        &claims.order_number,
        claims.survey.as_deref(),
        days,
    )
    .await
    {
        Ok(issued) => axum::response::Redirect::to(&format!("/s/{}", issued.token)).into_response(),
        Err(links::IssueError::Answered(..)) => done(&app, t, StatusCode::OK, "link-answered"),
        Err(links::IssueError::Store(e)) => internal(console_lang(t), &e),
        Err(e) => {
            tracing::warn!(reason = %e, "an embedded survey could not be opened");
            done(&app, t, StatusCode::NOT_FOUND, "link-unknown")
        }
    }
}

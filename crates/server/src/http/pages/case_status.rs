//! `/c/{token}`: the customer's live page of their case — its status, the
//! conversation and what was done (a remedy, a bonus credited), updated
//! without reload from the durable event stream; a chat with the operator
//! while the case is open (this is the `chat` channel); and, once it is
//! resolved, the satisfaction question (CSAT, CES), whose answer is a
//! response of the built-in support survey (channel `support`).
//!
//! The token opens one case and nothing else; an unknown or altered token
//! gets the same "not found" page whatever case it was made from, so
//! nothing can be learnt by trying.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use doorstep_domain::helpdesk::cases::{check_text, Direction};
use doorstep_domain::survey::{ResponseStatus, SUPPORT_SURVEY_ID};
use doorstep_store::helpdesk::cases::{Case, CaseRefusal, NewContact};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{internal, render};
use crate::app::helpdesk::status;
use crate::app::survey::responses::{Recorder, Submitted, SubmittedAnswer};
use crate::http::AppState;
use crate::i18n::{negotiate, CustomerTr, CUSTOMER_LANGUAGES};

/// One message of the conversation as the customer sees it.
pub struct Message {
    /// The customer's own (shown on the right).
    pub mine: bool,
    pub who: String,
    pub when: String,
    pub text: String,
    /// A photo sent with it: its address (for this page's token).
    pub photo: String,
}

/// Something done on the case, as the customer sees it.
pub struct Done {
    pub what: String,
    pub amount: String,
    pub state: String,
}

#[derive(Template)]
#[template(path = "case_status.html")]
struct StatusPage {
    tr: CustomerTr,
    company: String,
    token: String,
    number: i64,
    subject: String,
    /// `open`, `waiting` (on the customer) or `resolved`.
    stage: &'static str,
    stage_text: String,
    messages: Vec<Message>,
    done: Vec<Done>,
    /// May write: the case is open.
    chat_open: bool,
    /// Asked for a rating: resolved and not rated yet.
    ask_rating: bool,
    rated: Option<i64>,
    /// A fresh id for the next message: the same message sent twice (a
    /// double click, a retry) is taken once.
    message_id: String,
    languages: Vec<(&'static str, &'static str, bool)>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct StatusQuery {
    lang: Option<String>,
    error: Option<String>,
}

/// The case a token opens, or the "not found" page.
async fn opened(app: &AppState, token: &str, t: CustomerTr) -> Result<Case, Response> {
    let key = match status::key(&app.store).await {
        Ok(k) => k,
        Err(e) => return Err(internal(lang_of(t), &e)),
    };
    let unknown = || not_found(app, t);
    let Some(id) = status::case_of(&key, token) else {
        return Err(unknown());
    };
    match app.store.case(&id).await {
        Ok(Some(case)) => Ok(case),
        Ok(None) => Err(unknown()),
        Err(e) => Err(internal(lang_of(t), &e)),
    }
}

fn lang_of(t: CustomerTr) -> crate::i18n::Lang {
    crate::i18n::Lang::parse(t.lang()).unwrap_or(crate::i18n::Lang::En)
}

#[derive(Template)]
#[template(path = "link_done.html")]
struct NotFoundPage {
    tr: CustomerTr,
    company: String,
    heading: String,
    text: String,
    links: Vec<(String, String)>,
}

fn not_found(app: &AppState, t: CustomerTr) -> Response {
    (
        StatusCode::NOT_FOUND,
        render(&NotFoundPage {
            tr: t,
            company: app.deployment().name,
            heading: t.t("status-unknown-heading"),
            text: t.t("link-unknown-text"),
            links: Vec::new(),
        }),
    )
        .into_response()
}

/// The customer's language: chosen on the page, else their browser's.
fn language(headers: &HeaderMap, chosen: Option<&str>) -> CustomerTr {
    let picked = chosen.and_then(|c| {
        CUSTOMER_LANGUAGES
            .iter()
            .copied()
            .find(|l| l.eq_ignore_ascii_case(c.trim()))
    });
    let accepted = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    CustomerTr::new(
        picked
            .or_else(|| negotiate(accepted, &CUSTOMER_LANGUAGES))
            .unwrap_or("en"),
    )
}

/// The page's own address with the language kept.
fn back(token: &str, t: CustomerTr, error: Option<&str>) -> String {
    match error {
        Some(e) => format!("/c/{token}?lang={}&error={e}#chat", t.lang()),
        None => format!("/c/{token}?lang={}#chat", t.lang()),
    }
}

pub async fn show(
    State(app): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<StatusQuery>,
    headers: HeaderMap,
) -> Response {
    let t = language(&headers, q.lang.as_deref());
    let case = match opened(&app, &token, t).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (entries, remedies) = match tokio::try_join!(
        app.store.case_entries(&case.id),
        app.store.case_remedies(&case.id)
    ) {
        Ok(found) => found,
        Err(e) => return internal(lang_of(t), &e),
    };
    let deployment = app.deployment();
    let tz = deployment.tz();
    let when =
        |ms: i64| doorstep_domain::time::format_local(doorstep_domain::time::from_millis(ms), &tz);
    let messages = entries
        .iter()
        // The notice that brought the customer here is not part of the
        // conversation they see.
        .filter(|e| {
            e.kind == "contact"
                && !e
                    .external_id
                    .as_deref()
                    .is_some_and(|x| x.starts_with("notice:"))
        })
        .map(|e| {
            let mine = e.direction.as_deref() != Some(Direction::Outbound.as_str());
            Message {
                mine,
                who: if mine {
                    t.t("status-you")
                } else {
                    deployment.name.clone()
                },
                when: when(e.created_at),
                text: e.body.clone(),
                photo: e
                    .attachment_id
                    .as_ref()
                    .map(|id| format!("/c/{token}/photos/{id}"))
                    .unwrap_or_default(),
            }
        })
        .collect();
    let done = remedies
        .iter()
        .filter(|r| matches!(r.status.as_str(), "applied" | "requested" | "done"))
        .map(|r| Done {
            what: t.t(&format!("remedy-{}", r.remedy_type)),
            amount: r
                .amount_minor
                .map(|a| super::cases::money(a, &r.currency))
                .unwrap_or_default(),
            state: t.t(&format!("status-remedy-{}", r.status)),
        })
        .collect();
    let stage = match case.status.as_str() {
        "resolved" | "closed" => "resolved",
        "waiting_customer" => "waiting",
        _ => "open",
    };
    let view = StatusPage {
        company: deployment.name.clone(),
        token: token.clone(),
        number: case.number,
        subject: case.subject.clone(),
        stage,
        stage_text: t.t(&format!("status-stage-{stage}")),
        messages,
        done,
        chat_open: case.is_open(),
        ask_rating: !case.is_open() && case.csat.is_none(),
        rated: case.csat,
        message_id: uuid::Uuid::new_v4().to_string(),
        languages: CUSTOMER_LANGUAGES
            .iter()
            .map(|&code| (code, CustomerTr::native_name(code), code == t.lang()))
            .collect(),
        error: q
            .error
            .as_deref()
            .filter(|e| e.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .map(|e| t.t(&format!("status-error-{e}"))),
        tr: t,
    };
    let mut response = render(&view);
    // The token is in the address: no page of it goes to another site.
    response.headers_mut().insert(
        axum::http::header::REFERRER_POLICY,
        axum::http::HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The page's event stream: only this case's changes, and only that they
/// happened (the page reads itself again; an event's content is the
/// console's, not the customer's).
pub async fn events(
    State(app): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let t = language(&headers, None);
    let case = match opened(&app, &token, t).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let since = crate::http::events::resume_point(&headers, uri.query())
        .ok()
        .flatten();
    let id = case.id;
    let show: crate::http::events::Show = Box::new(move |event| {
        if !(event.name.starts_with("case.") || event.name.starts_with("remedy.")) {
            return None;
        }
        let data: serde_json::Value = serde_json::from_str(&event.data).ok()?;
        let about = data.get("case_id").or_else(|| data.get("id"))?.as_str()?;
        if about != id {
            return None;
        }
        if event.name == "case.typing" {
            // Only that the company is typing; never the customer's own.
            return (data.get("who")?.as_str()? == "operator").then(|| {
                axum::response::sse::Event::default()
                    .id(event.id.to_string())
                    .event("case.typing")
                    .data(r#"{"who":"operator"}"#)
            });
        }
        Some(
            axum::response::sse::Event::default()
                .id(event.id.to_string())
                .event(event.name.as_str())
                .data("{}"),
        )
    });
    app.events
        .stream_shown(app.store.clone(), since, show)
        .into_response()
}

#[derive(Debug, Deserialize)]
pub struct MessageForm {
    text: String,
    /// The page's id for this message (see [`StatusPage::message_id`]).
    message_id: String,
    #[serde(default)]
    lang: Option<String>,
}

/// When each case's customer was last said to be typing, in this process:
/// a page that says so more often than every two seconds is not heard
/// (each signal is a row of the event stream).
static TYPING: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
> = std::sync::LazyLock::new(Default::default);

/// Whether a typing signal for `case_id` may go out now.
fn typing_allowed(case_id: &str) -> bool {
    let now = std::time::Instant::now();
    let Ok(mut last) = TYPING.lock() else {
        return true;
    };
    if last.len() > 10_000 {
        last.retain(|_, at| now.duration_since(*at) < std::time::Duration::from_secs(10));
    }
    match last.get(case_id) {
        Some(at) if now.duration_since(*at) < std::time::Duration::from_secs(2) => false,
        _ => {
            last.insert(case_id.to_owned(), now);
            true
        }
    }
}

/// The customer is typing: the operator's case page shows it.
pub async fn typing(
    State(app): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let t = language(&headers, None);
    let case = match opened(&app, &token, t).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !case.is_open() || !typing_allowed(&case.id) {
        return StatusCode::NO_CONTENT.into_response();
    }
    match app.store.case_typing(&case.id, "customer").await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => internal(lang_of(t), &e),
    }
}

/// The customer writes: an inbound chat contact on the case.
pub async fn message(
    State(app): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<MessageForm>,
) -> Response {
    let t = language(&headers, form.lang.as_deref());
    let case = match opened(&app, &token, t).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(text) = check_text(&form.text) else {
        return Redirect::to(&back(&token, t, Some("empty"))).into_response();
    };
    let Ok(message_id) = uuid::Uuid::parse_str(form.message_id.trim()) else {
        return Redirect::to(&back(&token, t, Some("stale"))).into_response();
    };
    let external = format!("status:{message_id}");
    let contact = NewContact {
        channel: "chat",
        direction: Direction::Inbound,
        text,
        author: "customer",
        external_id: Some(&external),
        by_person: false,
        attachment_id: None,
        follows_previous: false,
    };
    match app.store.add_contact(&case.id, &contact).await {
        Ok((Ok(case), new)) => {
            // Until a person joins, the assistant answers (once a message).
            if new {
                if let Err(e) =
                    crate::app::helpdesk::bot::after_message(&app, &case, "chat", text, t.lang())
                        .await
                {
                    return internal(lang_of(t), &e);
                }
            }
            Redirect::to(&back(&token, t, None)).into_response()
        }
        Ok((Err(CaseRefusal::NotOpen), _)) => {
            Redirect::to(&back(&token, t, Some("closed"))).into_response()
        }
        Ok((Err(_), _)) => not_found(&app, t),
        Err(e) => internal(lang_of(t), &e),
    }
}

#[derive(Debug, Deserialize)]
pub struct RatingForm {
    csat: Option<String>,
    ces: Option<String>,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    lang: Option<String>,
}

/// The response id of a case's rating: the same for every try, so a
/// rating sent twice is stored once.
fn rating_id(case_id: &str) -> String {
    let digest = Sha256::digest(format!("support-rating:{case_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// The customer rates the resolved case: a response of the support survey
/// (about the case's order, when it has one), and the CSAT on the case.
pub async fn rate(
    State(app): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<RatingForm>,
) -> Response {
    let t = language(&headers, form.lang.as_deref());
    let case = match opened(&app, &token, t).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if case.is_open() {
        return Redirect::to(&back(&token, t, Some("not_resolved"))).into_response();
    }
    let number = |v: &Option<String>, max: i64| {
        v.as_deref()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|n| (1..=max).contains(n))
    };
    let Some(csat) = number(&form.csat, 5) else {
        return Redirect::to(&back(&token, t, Some("no_rating"))).into_response();
    };
    let ces = number(&form.ces, 7);
    let comment: String = form.comment.trim().chars().take(4000).collect();
    if let Some(order) = &case.order_number {
        let now = jiff::Timestamp::now().to_string();
        let mut answers = vec![SubmittedAnswer {
            question_id: doorstep_store::helpdesk::support::CSAT_QUESTION.to_owned(),
            value: csat.into(),
        }];
        if let Some(ces) = ces {
            answers.push(SubmittedAnswer {
                question_id: doorstep_store::helpdesk::support::CES_QUESTION.to_owned(),
                value: ces.into(),
            });
        }
        if !comment.is_empty() {
            answers.push(SubmittedAnswer {
                question_id: doorstep_store::helpdesk::support::COMMENT_QUESTION.to_owned(),
                value: comment.clone().into(),
            });
        }
        let submitted = Submitted {
            id: rating_id(&case.id),
            order_number: order.clone(),
            survey_id: SUPPORT_SURVEY_ID.to_owned(),
            survey_version: None,
            status: ResponseStatus::Completed,
            started_at: now.clone(),
            finished_at: now,
            answers,
            mode: None,
            language: Some(t.lang().to_owned()),
            channel: Some("support".to_owned()),
            review_opened: None,
            recording_consent: None,
        };
        let recorder = &mut Recorder::new(&app);
        let checked = recorder.check_from_page(submitted).await;
        match checked {
            Ok(Ok(response)) => match recorder.store(&[response], None).await {
                // Stored now or before; or this order's support survey
                // was answered for an earlier case (the CSAT below still
                // counts for this one).
                Ok(_) => {}
                Err(e) => return internal(lang_of(t), &e),
            },
            Ok(Err(problems)) => {
                tracing::warn!(case = %case.id, ?problems, "a support rating did not fit the support survey");
            }
            Err(e) => return internal(lang_of(t), &e),
        }
    }
    // (A case without an order keeps the whole rating, and its rules are
    // looked at, in the store: no order's response can hold it.)
    let rating = doorstep_store::helpdesk::support::Rating {
        csat,
        ces,
        comment: Some(comment.as_str()),
    };
    match app.store.rate_case_with(&case.id, &rating).await {
        Ok(_) => Redirect::to(&back(&token, t, None)).into_response(),
        Err(e) => internal(lang_of(t), &e),
    }
}

/// The customer sends a photo in the chat (the page's script posts the
/// file's bytes, with the page's `x-message-id`): checked by its content
/// and kept like the door's photos (the same store, size limit, retention
/// and erasure), and a chat contact on the case shows it. The same photo
/// message sent twice is taken once.
pub async fn photo(
    State(app): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    use crate::app::survey::attachments::{save, sniff, MAX_PHOTO_BYTES};
    let t = language(&headers, None);
    let case = match opened(&app, &token, t).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !case.is_open() {
        return (StatusCode::CONFLICT, t.t("status-error-closed")).into_response();
    }
    let Some(message_id) = headers
        .get("x-message-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| uuid::Uuid::parse_str(v.trim()).ok())
    else {
        return (StatusCode::BAD_REQUEST, t.t("status-error-stale")).into_response();
    };
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PHOTO_BYTES).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            t.t("status-error-photo-size"),
        )
            .into_response();
    };
    let Some(found) = sniff(&bytes).filter(|f| f.kind == "photo") else {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            t.t("status-error-photo-type"),
        )
            .into_response();
    };
    let id = crate::security::sha256_bytes_hex(&bytes);
    if let Err(e) = save(&app.data_dir, &id, &bytes).await {
        return internal(lang_of(t), &e);
    }
    if let Err(e) = app
        .store
        .add_attachment(
            &id,
            found.kind,
            found.content_type,
            i64::try_from(bytes.len()).unwrap_or(i64::MAX),
            None,
        )
        .await
    {
        return internal(lang_of(t), &e);
    }
    // The same in every language: the photo says the rest.
    let text = "📷";
    let external = format!("status:{message_id}");
    let contact = NewContact {
        channel: "chat",
        direction: Direction::Inbound,
        text,
        author: "customer",
        external_id: Some(&external),
        by_person: false,
        attachment_id: Some(&id),
        follows_previous: false,
    };
    match app.store.add_contact(&case.id, &contact).await {
        Ok((Ok(_), _)) => StatusCode::NO_CONTENT.into_response(),
        Ok((Err(CaseRefusal::NotOpen), _)) => {
            (StatusCode::CONFLICT, t.t("status-error-closed")).into_response()
        }
        Ok((Err(_), _)) => not_found(&app, t),
        Err(e) => internal(lang_of(t), &e),
    }
}

/// A photo of a case's chat, to whoever may see the case: the customer
/// (by the case's token) or the support desk.
pub async fn serve_photo(app: &AppState, case_id: &str, id: &str) -> Option<Response> {
    use crate::app::survey::attachments::{is_id, path};
    if !is_id(id) || !app.store.case_has_attachment(case_id, id).await.ok()? {
        return None;
    }
    let record = app.store.attachment(id).await.ok()??;
    let bytes = tokio::fs::read(path(&app.data_dir, id)).await.ok()?;
    Some(
        (
            [
                (axum::http::header::CONTENT_TYPE, record.content_type),
                (
                    axum::http::header::CACHE_CONTROL,
                    "private, max-age=3600".to_owned(),
                ),
                (
                    axum::http::header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; sandbox".to_owned(),
                ),
            ],
            bytes,
        )
            .into_response(),
    )
}

/// `/c/{token}/photos/{id}`: a photo of this case's chat, for the customer.
pub async fn photo_file(
    State(app): State<AppState>,
    Path((token, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let t = language(&headers, None);
    let case = match opened(&app, &token, t).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match serve_photo(&app, &case.id, &id).await {
        Some(r) => r,
        None => not_found(&app, t),
    }
}

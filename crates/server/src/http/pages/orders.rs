//! Orders: search and filter, one order, and a customer's card with their
//! orders (the seed of the customer's personal file).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use doorstep_domain::survey::{QuestionType, SurveyDefinition};
use doorstep_domain::time::{day_range, format_local, from_millis};
use doorstep_domain::{Money, Phone};
use doorstep_store::{DeliveryStatus, OrderFilter, OrderView};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::{failed, internal, non_empty, render, status_page, Chrome, Found, OrPage, PageResult};
use crate::http::auth::{AdminOnly, AnyStaff, DispatchDesk, Staff, StaffForm};
use crate::http::AppState;
use crate::i18n::Tr;

const PAGE_SIZE: i64 = 50;

/// An order as a row of the table, formatted for people.
pub struct OrderRow {
    pub number: String,
    pub href: String,
    pub window: String,
    pub city: String,
    pub partner: String,
    pub courier: String,
    pub customer: String,
    pub customer_href: String,
    pub phone: String,
    pub status_key: &'static str,
    pub status: String,
    pub segment: String,
    pub amount: String,
    pub delivered: String,
    /// The customer's NPS answer for this order, and its band
    /// (`detractor`, `passive`, `promoter`; empty without one).
    pub nps: String,
    pub nps_band: &'static str,
}

/// Rows of these orders with each one's NPS answer (one read for all).
pub async fn rows_with_answers(
    app: &AppState,
    orders: &[OrderView],
    t: Tr<'_>,
    zones: &Zones,
    now: i64,
) -> Result<Vec<OrderRow>, doorstep_store::StoreError> {
    let numbers: Vec<&str> = orders.iter().map(|o| o.order_number.as_str()).collect();
    let answers = app.store.order_nps(&numbers).await?;
    Ok(orders
        .iter()
        .map(|o| {
            let mut r = row(o, t, zones, now);
            if let Some(&n) = answers.get(&o.order_number) {
                r.nps = n.to_string();
                r.nps_band = doorstep_store::NpsBand::of(n).as_str();
            }
            r
        })
        .collect())
}

pub fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

fn window(from: i64, to: i64, tz: &TimeZone) -> String {
    let start = format_local(from_millis(from), tz);
    let end = format_local(from_millis(to), tz);
    // Same day: show the day once.
    match (start.split_once(' '), end.split_once(' ')) {
        (Some((d1, t1)), Some((d2, t2))) if d1 == d2 => format!("{d1} {t1}–{t2}"),
        _ => format!("{start} – {end}"),
    }
}

/// Each city's time zone, to show a delivery window as the customer was
/// promised it; the deployment's zone for a city without one.
pub struct Zones {
    cities: HashMap<String, TimeZone>,
    fallback: TimeZone,
}

impl Zones {
    pub async fn load(app: &AppState) -> Result<Zones, doorstep_store::StoreError> {
        let cities = app
            .store
            .cities()
            .await?
            .into_iter()
            .filter_map(|(name, zone)| TimeZone::get(&zone).ok().map(|tz| (name, tz)))
            .collect();
        Ok(Zones {
            cities,
            fallback: app.deployment().tz(),
        })
    }

    /// A city's time zone (the deployment's for a city without one).
    pub fn of(&self, city: &str) -> &TimeZone {
        self.cities.get(city).unwrap_or(&self.fallback)
    }
}

pub fn row(o: &OrderView, t: Tr<'_>, zones: &Zones, now: i64) -> OrderRow {
    let tz = zones.of(&o.city);
    let status = o.status(now);
    OrderRow {
        number: o.order_number.clone(),
        href: format!("/orders/{}", encode(&o.order_number)),
        window: window(o.promised_from, o.promised_to, tz),
        city: o.city.clone(),
        partner: o.partner.clone().unwrap_or_default(),
        courier: o
            .courier_name
            .clone()
            .or_else(|| o.courier_id.clone())
            .unwrap_or_default(),
        customer: o.customer_name.clone().unwrap_or_default(),
        customer_href: format!("/customers/{}", encode(&o.customer_phone)),
        phone: o.customer_phone.clone(),
        status_key: status.as_str(),
        status: t.t(&format!("status-{}", status.as_str())),
        segment: t.t(&format!("segment-{}", o.segment().as_str())),
        amount: o
            .amount_minor
            .map(|m| Money::from_minor(m).to_string())
            .unwrap_or_default(),
        delivered: o
            .delivered_at
            .map(|d| format_local(from_millis(d), tz))
            .unwrap_or_default(),
        nps: String::new(),
        nps_band: "",
    }
}

#[derive(Deserialize, Serialize, Default, Clone)]
pub struct OrdersQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    courier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    partner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    /// `detractor`, `passive` or `promoter`: what the customer answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    answer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    page: Option<i64>,
}

/// An option of a filter's `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choices(
    items: impl IntoIterator<Item = (String, String)>,
    current: Option<&str>,
) -> Vec<Choice> {
    items
        .into_iter()
        .map(|(value, label)| Choice {
            selected: current == Some(value.as_str()),
            value,
            label,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    c: Chrome,
    q: String,
    from: String,
    to: String,
    cities: Vec<Choice>,
    couriers: Vec<Choice>,
    partners: Vec<Choice>,
    statuses: Vec<Choice>,
    answers: Vec<Choice>,
    search_hint: String,
    rows: Vec<OrderRow>,
    /// Each row names its customer (not on the customer's own card).
    show_customer: bool,
    found: String,
    notices: Vec<String>,
    page: i64,
    pages: i64,
    prev_href: Option<String>,
    next_href: Option<String>,
    filtered: bool,
}

pub async fn list(
    State(app): State<AppState>,
    Staff(user, _): Staff<AnyStaff>,
    Query(query): Query<OrdersQuery>,
) -> PageResult {
    let c = Chrome::new(&app, &user, "/orders", "orders-title");
    let t = c.tr;
    let deployment = app.deployment();
    let tz = deployment.tz();
    let mut notices = Vec::new();
    let mut filter = OrderFilter::default();

    let q = non_empty(query.q.clone());
    if let Some(q) = &q {
        // A phone (as any of the countries it may be written in) finds the
        // customer's orders; anything else is an order number's beginning
        // or a part of the customer's name.
        let looks_like_phone = q.chars().filter(char::is_ascii_digit).count() >= 7
            && q.chars()
                .all(|ch| ch.is_ascii_digit() || " +-()".contains(ch));
        let phones = Phone::candidates(q, deployment.country());
        if looks_like_phone && !phones.is_empty() {
            filter.phones = phones.into_iter().map(Phone::into_string).collect();
        } else if q.chars().count() <= 100 {
            filter.text = Some(q.clone());
        }
    }
    filter.nps = non_empty(query.answer.clone()).and_then(|a| doorstep_store::NpsBand::parse(&a));
    filter.city = non_empty(query.city.clone());
    filter.courier_id = non_empty(query.courier.clone());
    filter.partner = non_empty(query.partner.clone());
    filter.status = non_empty(query.status.clone()).and_then(|s| DeliveryStatus::parse(&s));
    let from = non_empty(query.from.clone());
    let to = non_empty(query.to.clone());
    let parse_day = |text: &Option<String>, notices: &mut Vec<String>| {
        text.as_deref().and_then(|d| {
            let date = super::parse_day(d).ok();
            if date.is_none() {
                notices.push(t.with("orders-bad-date", "value", d.to_owned()));
            }
            date
        })
    };
    let from_day = parse_day(&from, &mut notices);
    let to_day = parse_day(&to, &mut notices);
    if let Some(day) = from_day {
        filter.from_ms = Some(day_range(day, day, &tz).0.as_millisecond());
    }
    if let Some(day) = to_day {
        filter.to_ms = Some(day_range(day, day, &tz).1.as_millisecond());
    }

    let page = query.page.unwrap_or(1).max(1);
    let result = app
        .store
        .search_orders(&filter, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        .await;
    let (cities, couriers, partners, zones) = match (
        app.store.cities().await,
        app.store.couriers().await,
        app.store.partners().await,
        Zones::load(&app).await,
    ) {
        (Ok(cities), Ok(couriers), Ok(partners), Ok(zones)) => (cities, couriers, partners, zones),
        (Err(error), _, _, _)
        | (_, Err(error), _, _)
        | (_, _, Err(error), _)
        | (_, _, _, Err(error)) => return Err(failed(user.lang, error)),
    };
    let result = result.page(user.lang)?;
    let now = doorstep_store::now_millis();
    let pages = ((result.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let href_for = |p: i64| {
        let mut q = query.clone();
        q.page = Some(p);
        format!(
            "/orders?{}",
            serde_urlencoded::to_string(&q).unwrap_or_default()
        )
    };
    let filtered = !filter.phones.is_empty()
        || filter.text.is_some()
        || filter.nps.is_some()
        || filter.city.is_some()
        || filter.courier_id.is_some()
        || filter.partner.is_some()
        || filter.status.is_some()
        || filter.from_ms.is_some()
        || filter.to_ms.is_some();
    let view = OrdersPage {
        q: q.unwrap_or_default(),
        from: from.unwrap_or_default(),
        to: to.unwrap_or_default(),
        cities: choices(
            cities.into_iter().map(|(name, _)| (name.clone(), name)),
            filter.city.as_deref(),
        ),
        couriers: choices(
            couriers.into_iter().map(|(id, name)| {
                let label = name.map_or_else(|| id.clone(), |n| format!("{n} ({id})"));
                (id, label)
            }),
            filter.courier_id.as_deref(),
        ),
        partners: choices(
            partners.into_iter().map(|p| (p.clone(), p)),
            filter.partner.as_deref(),
        ),
        statuses: choices(
            DeliveryStatus::ALL.iter().map(|s| {
                (
                    s.as_str().to_owned(),
                    t.t(&format!("status-{}", s.as_str())),
                )
            }),
            filter.status.map(DeliveryStatus::as_str),
        ),
        answers: choices(
            doorstep_store::NpsBand::ALL.iter().map(|b| {
                (
                    b.as_str().to_owned(),
                    t.t(&format!("orders-answer-{}", b.as_str())),
                )
            }),
            filter.nps.map(doorstep_store::NpsBand::as_str),
        ),
        search_hint: t.with("orders-search-hint", "phone", deployment.country().example),
        rows: rows_with_answers(&app, &result.orders, t, &zones, now)
            .await
            .page(user.lang)?,
        show_customer: true,
        found: t.with("orders-found", "count", result.total),
        notices,
        page,
        pages,
        prev_href: (page > 1).then(|| href_for(page - 1)),
        next_href: (page < pages).then(|| href_for(page + 1)),
        filtered,
        c,
    };
    Ok(render(&view))
}

/// One survey response as the order page shows it.
pub struct ResponseView {
    pub survey: String,
    pub status_key: String,
    pub status: String,
    pub when: String,
    pub how: String,
    pub answers: Vec<AnswerView>,
    /// The review link the customer opened, by its label.
    pub review: String,
    /// The conversation recorded with consent, where the survey asked.
    pub recording: Option<RecordingView>,
}

/// A response's recording as the order page shows it.
pub struct RecordingView {
    /// What there is: declined, agreed with no recording (yet), or the
    /// recording's length.
    pub note: String,
    /// Where to play it, for the roles that may hear voices.
    pub href: Option<String>,
    /// Who played it and when.
    pub plays: Vec<String>,
}

/// One answer as the order page shows it.
pub struct AnswerView {
    pub question: String,
    pub value: String,
    /// A photo or voice message the reader may open: (`photo`|`voice`, its address).
    pub media: Option<(&'static str, String)>,
}

/// Formats an order's responses with the texts of the survey version each
/// answered, in the reader's language.
pub async fn response_views(
    app: &AppState,
    order_number: &str,
    t: Tr<'_>,
    tz: &TimeZone,
    may_see_media: bool,
) -> Result<Vec<ResponseView>, doorstep_store::StoreError> {
    let mut surveys: HashMap<(String, i64), Option<SurveyDefinition>> = HashMap::new();
    let mut views = Vec::new();
    let responses = app.store.order_responses(order_number).await?;
    let recordings = if responses
        .iter()
        .any(|(r, _)| r.recording_consent == Some(true))
    {
        app.store.recordings(order_number).await?
    } else {
        Vec::new()
    };
    let plays = if recordings.is_empty() || !may_see_media {
        Vec::new()
    } else {
        app.store.plays(order_number).await?
    };
    // Which photos and voices are still kept (retention deletes them).
    let media_ids: Vec<&str> = responses
        .iter()
        .flat_map(|(_, answers)| answers.iter().filter_map(|a| a.text_value.as_deref()))
        .filter(|v| crate::app::survey::attachments::is_id(v))
        .collect();
    let kept: HashMap<String, String> = if may_see_media {
        app.store
            .attachments(&media_ids)
            .await?
            .into_iter()
            .map(|a| (a.id, a.kind))
            .collect()
    } else {
        HashMap::new()
    };
    for (r, answers) in responses {
        let key = (r.survey_id.clone(), r.survey_version);
        if !surveys.contains_key(&key) {
            let found = app
                .store
                .survey(&r.survey_id, Some(r.survey_version))
                .await?;
            surveys.insert(
                key.clone(),
                found.and_then(|s| serde_json::from_str(&s.definition).ok()),
            );
        }
        let definition = surveys.get(&key).and_then(Option::as_ref);
        let lang = t.lang();
        let mut rows: Vec<(usize, AnswerView)> = answers
            .iter()
            .map(|a| {
                let question = definition.and_then(|d| {
                    d.questions
                        .iter()
                        .position(|q| q.id == a.question_id)
                        .map(|i| (i, &d.questions[i]))
                });
                let label = question.map_or_else(
                    || a.question_id.clone(),
                    |(_, q)| q.text.get(lang).to_owned(),
                );
                let option_text = |id: &str| {
                    question
                        .and_then(|(_, q)| q.options.iter().find(|o| o.id == id))
                        .and_then(|o| o.text.as_ref())
                        .map_or_else(|| id.to_owned(), |text| text.get(lang).to_owned())
                };
                let mut value = match (a.number_value, &a.option_ids, a.flag) {
                    (Some(n), _, _) => match question.map(|(_, q)| (q.kind, q.max)) {
                        Some((QuestionType::Nps, _)) => format!("{n} / 10"),
                        Some((_, Some(max))) => format!("{n} / {max}"),
                        _ => n.to_string(),
                    },
                    (_, Some(ids), _) => serde_json::from_str::<Vec<String>>(ids)
                        .unwrap_or_default()
                        .iter()
                        .map(|id| option_text(id))
                        .collect::<Vec<_>>()
                        .join(", "),
                    (_, _, Some(flag)) => t.t(if flag { "answer-yes" } else { "answer-no" }),
                    _ => String::new(),
                };
                let mut media = None;
                if let Some(text) = &a.text_value {
                    let attachment = question.is_some_and(|(_, q)| {
                        matches!(q.kind, QuestionType::Photo | QuestionType::Voice)
                    });
                    let shown = if attachment {
                        match kept.get(text) {
                            Some(kind) => {
                                media = Some((
                                    if kind == "photo" { "photo" } else { "voice" },
                                    format!("/attachments/{text}"),
                                ));
                                String::new()
                            }
                            None if may_see_media => t.t("answer-attachment-gone"),
                            None => t.t("answer-attachment"),
                        }
                    } else {
                        format!("«{text}»")
                    };
                    value = if value.is_empty() {
                        shown
                    } else {
                        format!("{value}; {shown}")
                    };
                }
                (
                    question.map_or(usize::MAX, |(i, _)| i),
                    AnswerView {
                        question: label,
                        value,
                        media,
                    },
                )
            })
            .collect();
        rows.sort_by_key(|(i, _)| *i);
        let seconds = r.duration_ms / 1000;
        let recording = r.recording_consent.map(|agreed| {
            let kept = recordings.iter().find(|x| x.response_id == r.id);
            let (note, href) = match (agreed, kept) {
                (false, _) => (t.t("recording-declined"), None),
                (true, None) => (t.t("recording-missing"), None),
                (true, Some(x)) if x.content_type.is_none() => {
                    (t.t("answer-attachment-gone"), None)
                }
                (true, Some(x)) => (
                    t.with(
                        "recording-length",
                        "time",
                        format!(
                            "{}:{:02}",
                            x.duration_ms / 60_000,
                            x.duration_ms / 1000 % 60
                        ),
                    ),
                    may_see_media
                        .then(|| format!("/orders/{}/recordings/{}", encode(order_number), r.id)),
                ),
            };
            RecordingView {
                note,
                plays: plays
                    .iter()
                    .filter(|p| p.response_id == r.id)
                    .map(|p| {
                        format!(
                            "{} · {}",
                            p.login,
                            format_local(from_millis(p.played_at), tz)
                        )
                    })
                    .collect(),
                href,
            }
        });
        views.push(ResponseView {
            recording,
            survey: definition.map_or_else(|| r.survey_id.clone(), |d| d.name.clone()),
            status: t.t(&format!("response-{}", r.status)),
            status_key: r.status,
            when: format_local(from_millis(r.finished_at), tz),
            how: t.survey_how(
                "response-how",
                r.mode.as_deref().unwrap_or(&r.channel),
                seconds,
            ),
            answers: rows.into_iter().map(|(_, a)| a).collect(),
            review: r
                .review_opened
                .as_deref()
                .map(|id| {
                    definition
                        .and_then(|d| d.review.as_ref())
                        .and_then(|rv| rv.links.iter().find(|l| l.id == id))
                        .map_or_else(|| id.to_owned(), |l| l.label.get(t.lang()).to_owned())
                })
                .unwrap_or_default(),
        });
    }
    Ok(views)
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    c: Chrome,
    o: OrderRow,
    /// Refusals at the door: (when, whole order, the items as read).
    refused: Vec<(String, bool, Vec<String>)>,
    responses: Vec<ResponseView>,
    email: String,
    courier_id: String,
    imported: String,
    updated: String,
}

pub async fn detail(
    State(app): State<AppState>,
    Staff(user, _): Staff<AnyStaff>,
    Path(number): Path<String>,
) -> PageResult {
    let order = app.store.order(&number).await.found(user.lang)?;
    let mut c = Chrome::new(&app, &user, "/orders", "order-title");
    c.title =
        c.tr.with("order-title", "number", order.order_number.clone());
    let zones = Zones::load(&app).await.page(user.lang)?;
    // The order's times in its city's zone, as its delivery window is.
    let tz = zones.of(&order.city).clone();
    let may_see_media = user.may::<DispatchDesk>();
    let responses = response_views(&app, &order.order_number, c.tr, &tz, may_see_media)
        .await
        .page(user.lang)?;
    let rows = app
        .store
        .refused_items(&[order.order_number.as_str()])
        .await
        .page(user.lang)?;
    let refused = refusals(&rows, c.tr)
        .into_iter()
        .map(|(r, items)| {
            (
                format_local(from_millis(r.recorded_at), &tz),
                r.whole_order,
                items,
            )
        })
        .collect();
    let view = OrderPage {
        refused,
        responses,
        o: row(&order, c.tr, &zones, doorstep_store::now_millis()),
        email: order.customer_email.clone().unwrap_or_default(),
        courier_id: order.courier_id.clone().unwrap_or_default(),
        imported: format_local(from_millis(order.created_at), &tz),
        updated: format_local(from_millis(order.updated_at), &tz),
        c,
    };
    Ok(render(&view))
}

/// Refused items grouped by their refusal, in order, each as read:
/// "Молоко 1 л × 2 — damaged (the note)".
pub fn refusals<'r>(
    rows: &'r [doorstep_store::refusals::RefusedRow],
    t: Tr<'_>,
) -> Vec<(&'r doorstep_store::refusals::RefusedRow, Vec<String>)> {
    let mut out: Vec<(&doorstep_store::refusals::RefusedRow, Vec<String>)> = Vec::new();
    for r in rows {
        let reason = t.t(&format!("refusal-reason-{}", r.reason));
        let what = match (r.item.is_empty(), r.quantity) {
            (true, _) => reason,
            (false, 1) => format!("{} — {reason}", r.item),
            (false, n) => format!("{} × {n} — {reason}", r.item),
        };
        let line = match &r.note {
            Some(note) => format!("{what} ({note})"),
            None => what,
        };
        match out.last_mut() {
            Some((first, items)) if first.refusal_id == r.refusal_id => items.push(line),
            _ => out.push((r, vec![line])),
        }
    }
    out
}

#[derive(Deserialize)]
pub struct EraseForm {
    confirm: Option<String>,
}

/// Erases a customer's personal data on their request (admins only).
pub async fn erase_customer(
    State(app): State<AppState>,
    Path(phone): Path<String>,
    StaffForm(user, f, _): StaffForm<AdminOnly, EraseForm>,
) -> Response {
    use axum::response::IntoResponse;
    if f.confirm.is_none() {
        return axum::response::Redirect::to(&format!("/customers/{}", encode(&phone)))
            .into_response();
    }
    match crate::app::survey::attachments::erase_customer(&app.store, &app.data_dir, &phone).await {
        Ok(Some(erased)) => {
            tracing::info!(by = %user.login, customer = %erased.pseudonym, orders = erased.orders, "customer's personal data erased");
            axum::response::Redirect::to(&format!("/customers/{}?erased=1", erased.pseudonym))
                .into_response()
        }
        Ok(None) => status_page(user.lang, StatusCode::NOT_FOUND),
        Err(e) => internal(user.lang, &e),
    }
}

/// `/attachments/{id}`: a photo or voice message from a survey, for the
/// people who handle what customers said (admin, quality, dispatcher).
/// `/orders/{n}/recordings/{response}`: the conversation recorded at the
/// door, for the roles that may hear voice answers; every fetch is a play,
/// logged with who and when (never cached, so a replay is logged too).
pub async fn recording(
    State(app): State<AppState>,
    Staff(user, _): Staff<DispatchDesk>,
    Path((number, response)): Path<(String, String)>,
) -> PageResult {
    use axum::response::IntoResponse;
    let recordings = app.store.recordings(&number).await.page(user.lang)?;
    let Some(found) = recordings
        .into_iter()
        .find(|r| r.response_id == response && r.content_type.is_some())
    else {
        return Ok(status_page(user.lang, StatusCode::NOT_FOUND));
    };
    let path = crate::app::survey::attachments::path(&app.data_dir, &found.attachment_id);
    let bytes = match tokio::fs::read(path).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(status_page(user.lang, StatusCode::NOT_FOUND))
        }
        Err(e) => return Err(failed(user.lang, e)),
    };
    app.store
        .log_play(&number, &response, &user.login)
        .await
        .page(user.lang)?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                found.content_type.unwrap_or_default(),
            ),
            (axum::http::header::CACHE_CONTROL, "no-store".to_owned()),
            (
                axum::http::header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}

pub async fn attachment(
    State(app): State<AppState>,
    Staff(user, _): Staff<DispatchDesk>,
    Path(id): Path<String>,
) -> PageResult {
    use axum::response::IntoResponse;
    if !crate::app::survey::attachments::is_id(&id) {
        return Ok(status_page(user.lang, StatusCode::NOT_FOUND));
    }
    let record = app.store.attachment(&id).await.found(user.lang)?;
    let bytes =
        match tokio::fs::read(crate::app::survey::attachments::path(&app.data_dir, &id)).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(status_page(user.lang, StatusCode::NOT_FOUND))
            }
            Err(e) => return Err(failed(user.lang, e)),
        };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, record.content_type),
            // Personal data: never kept by shared caches.
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
        .into_response())
}
